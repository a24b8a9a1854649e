"""Attendees added, removed and moved by staff (trainers and site admins) on an event.

Adding in bulk is two steps: `attendees_preview` says, line by line, what adding
would do (book, waitlist, already signed up, or refused and why), and
`attendees_add` does it in one transaction under the event lock. `attendees_add`
recomputes the preview under the lock and, if any learner's outcome is no longer
the one the staff member confirmed (a seat was taken meanwhile, someone booked
themselves), refuses the whole batch: nothing is added and the caller shows the
new preview. Capacity, waitlist and the booking rules are those of self-booking
(seminars.services.bookings); only site admins may book over capacity, and only
editing trainers and site admins may enrol a person in the course on the way.

Every change goes through `booking_state_change` (history with the actor and, for
removals and moves, the reason) inside `event_changing` (which keeps the virtual
meetings' registrants in step). The learner is told: the booking email (with its
calendar part) through the outbox, and an in-app notification, emailed too when
there is a reason to tell.
"""

import csv
import io
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from lms.permissions import is_site_admin
from seminars.email_messages import NoticeEmail
from seminars.models import Booking, Enrolment
from seminars.notifications import notify
from seminars.permissions import can_edit_course, is_course_trainer
from seminars.selectors.bookings import EventStatus, event_status, seat_conflicts
from seminars.services.bookings import (
    ACTIVE_STATES,
    BookingError,
    booking_email_record,
    booking_event_refusal,
    booking_state_change,
    event_changing,
    waitlist_promote_locked,
)
from seminars.validators import REASON_MAX_LENGTH, validate_multi_line

State = Booking.State
MAX_LINES = 500
HEADER_WORDS = {"username", "user", "email", "e-mail", "login"}


class Outcome:
    BOOK = "book"
    WAITLIST = "waitlist"
    ALREADY = "already"
    REFUSED = "refused"


@dataclass
class PreviewLine:
    number: int  # the line (row) in what was pasted or uploaded, from 1
    text: str
    outcome: str = Outcome.REFUSED
    user: object = None
    reason: str = ""
    enrol: bool = False  # will be enrolled in the course as a learner first


@dataclass
class Preview:
    lines: list[PreviewLine] = field(default_factory=list)

    def of(self, outcome) -> list[PreviewLine]:
        return [line for line in self.lines if line.outcome == outcome]

    @property
    def to_add(self) -> list[PreviewLine]:
        return [line for line in self.lines if line.outcome in (Outcome.BOOK, Outcome.WAITLIST)]

    def outcomes(self) -> dict[int, str]:
        """User id -> outcome of the lines that would add someone (what the staff member confirms)."""
        return {line.user.pk: line.outcome for line in self.to_add}


def identifiers_parse(text: str) -> list[tuple[int, str]]:
    """Usernames or emails from pasted text or a CSV file's content: the first non-empty cell of each row.

    Returns (row number, identifier) pairs; blank rows are skipped, and so is a first row that is a
    header ("username", "email"). A byte-order mark is dropped. Raises BookingError past MAX_LINES rows.
    """
    text = text.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        cell = next((c.strip() for c in row if c.strip()), "")
        if not cell:
            continue
        if not rows and cell.lower() in HEADER_WORDS:
            continue
        rows.append((number, cell[:254]))
        if len(rows) > MAX_LINES:
            raise BookingError(_("At most %(count)d lines can be added at once.") % {"count": MAX_LINES})
    return rows


def attendees_preview(*, event, lines, actor, enrol=False, over_capacity=False) -> Preview:
    """What adding the people named in `lines` ((number, username or email) pairs) to `event` would do.

    Each line will be booked, waitlisted, is already signed up, or is refused with the reason
    (unknown or inactive user, not a learner of the course, not enrolled and `enrol` not asked or
    not allowed to `actor`, a duplicate line, a booking at the same time, event full without a
    waitlist, booking closed). Seats are counted in line order.
    """
    _require_staff(event=event, actor=actor, enrol=enrol, over_capacity=over_capacity)
    preview = Preview(lines=[PreviewLine(number=n, text=t) for n, t in lines])
    users = _users_by_identifier([line.text for line in preview.lines])
    for line in preview.lines:
        found = users.get(line.text.lower(), [])
        if len(found) > 1:
            line.reason = _("Several people have this email address; use the username.")
        elif not found:
            line.reason = _("No user with this username or email.")
        else:
            line.user = found[0]
    _decide(preview, event=event, actor=actor, enrol=enrol, over_capacity=over_capacity)
    return preview


def attendees_add(*, event, users, actor, expected=None, enrol=False, over_capacity=False) -> Preview:
    """Add `users` to `event` in one transaction, as the preview said; all or nothing.

    `expected` maps user id -> Outcome.BOOK or WAITLIST (Preview.outcomes() of the preview the
    staff member confirmed); without it every user must be addable. The preview is recomputed
    under the event lock; if a user's outcome differs, BookingError is raised and nothing changes.
    Returns the preview that was applied.
    """
    users = list(users)
    with event_changing(event.pk) as event:
        lines = [(index, user.get_username()) for index, user in enumerate(users, start=1)]
        preview = Preview(lines=[PreviewLine(number=n, text=t, user=u) for (n, t), u in zip(lines, users, strict=True)])
        _require_staff(event=event, actor=actor, enrol=enrol, over_capacity=over_capacity)
        _decide(preview, event=event, actor=actor, enrol=enrol, over_capacity=over_capacity)
        changed = [
            line
            for line in preview.lines
            if line.outcome not in (Outcome.BOOK, Outcome.WAITLIST)
            or (expected is not None and expected.get(line.user.pk) != line.outcome)
        ]
        if changed:
            raise BookingError(
                _("The event changed since the preview (%(names)s); nothing was added. Check the new preview.")
                % {"names": ", ".join(line.user.get_username() for line in changed[:10])}
            )
        existing = {b.user_id: b for b in Booking.objects.select_for_update().filter(event=event, user__in=users)}
        now = timezone.now()
        for line in preview.lines:
            if line.enrol:
                _enrol_learner(event=event, user=line.user)
            booking = existing.get(line.user.pk) or Booking(event=event, user=line.user)
            booking.created_at = now
            state = State.BOOKED if line.outcome == Outcome.BOOK else State.WAITLISTED
            booking_state_change(booking, state, actor=actor, at=now)
            booking_email_record(booking=booking, kind="booked" if state == State.BOOKED else "waitlisted")
        _tell_added(event, preview.lines, actor)
        return preview


def attendee_remove(*, booking, actor, reason) -> Booking:
    """Cancel a learner's signup as staff, with a reason the learner is told; a freed seat goes to
    the first waitlisted learner, as when a learner cancels."""
    reason = _reason_clean(reason)
    with event_changing(booking.event_id) as event:
        _require_staff(event=event, actor=actor)
        booking = Booking.objects.select_for_update().select_related("user").get(pk=booking.pk)
        if booking.state not in ACTIVE_STATES:
            raise BookingError(_("This booking is not active."))
        held_seat = booking.state in Booking.SEAT_STATES
        booking_state_change(booking, State.USER_CANCELLED, actor=actor, at=timezone.now(), reason=reason)
        booking_email_record(booking=booking, kind="cancelled", with_calendar=held_seat, reason=reason)
        notify(
            users=[booking.user],
            subject=_("Removed from %(title)s") % {"title": _event_title(event)},
            body=_("%(actor)s removed you from this event. Reason: %(reason)s")
            % {"actor": _display_name(actor), "reason": reason},
            url=event.get_absolute_url(),
            email=NoticeEmail(
                "attendee_removed", {"actor_name": _display_name(actor), "reason": reason}, event_id=event.pk
            ),
        )
        if held_seat:
            waitlist_promote_locked(event=event, actor=actor)
        return booking


def attendee_move(*, booking, to_event, actor, reason, over_capacity=False) -> Booking:
    """Move a learner's active signup to another event of the same seminar, with a reason.

    The learner is booked at the target if a seat is free, else waitlisted if it has a
    waitlist (site admins may book over capacity), else the move is refused; the old signup is
    cancelled and its seat goes to the waitlist. Both bookings' histories carry the actor and
    the reason. Returns the booking at the target.
    """
    reason = _reason_clean(reason)
    if booking.event_id == to_event.pk:
        raise BookingError(_("Choose another event."))
    # Lock both events in id order, so two moves in opposite directions cannot deadlock.
    first_id, second_id = sorted([booking.event_id, to_event.pk])
    with event_changing(first_id) as first, event_changing(second_id) as second:
        source, target = (first, second) if first.pk == booking.event_id else (second, first)
        if source.seminar_id != target.seminar_id:
            raise BookingError(_("An attendee can only be moved to another event of the same seminar."))
        _require_staff(event=source, actor=actor, over_capacity=over_capacity)
        booking = Booking.objects.select_for_update().select_related("user").get(pk=booking.pk)
        if booking.state not in ACTIVE_STATES:
            raise BookingError(_("This booking is not active."))
        line = PreviewLine(number=1, text=booking.user.get_username(), user=booking.user)
        _decide(Preview(lines=[line]), event=target, actor=actor, over_capacity=over_capacity, ignore_event=source)
        if line.outcome not in (Outcome.BOOK, Outcome.WAITLIST):
            raise BookingError(line.reason or _("This learner already has a signup for that event."))

        now = timezone.now()
        held_seat = booking.state in Booking.SEAT_STATES
        booking_state_change(booking, State.USER_CANCELLED, actor=actor, at=now, reason=reason)
        booking_email_record(booking=booking, kind="cancelled", with_calendar=held_seat, reason=reason)
        moved = Booking.objects.select_for_update().filter(event=target, user=booking.user).first()
        moved = moved or Booking(event=target, user=booking.user)
        moved.created_at = now
        state = State.BOOKED if line.outcome == Outcome.BOOK else State.WAITLISTED
        booking_state_change(moved, state, actor=actor, at=now, reason=reason)
        booking_email_record(booking=moved, kind="booked" if state == State.BOOKED else "waitlisted")
        notify(
            users=[booking.user],
            subject=_("Moved to %(title)s") % {"title": _event_title(target)},
            body=_("%(actor)s moved your signup from %(source)s to %(target)s. Reason: %(reason)s")
            % {
                "actor": _display_name(actor),
                "source": source.title,
                "target": target.title,
                "reason": reason,
            },
            url=target.get_absolute_url(),
            email=NoticeEmail(
                "attendee_moved",
                {"actor_name": _display_name(actor), "reason": reason, "from_event": source.title},
                event_id=target.pk,
            ),
        )
        if held_seat:
            waitlist_promote_locked(event=source, actor=actor)
        return moved


def attendee_candidates(*, event, query, with_unenrolled=False, limit=20):
    """People to offer in the add-one search, with no active signup for the event. One query.

    The course's learners whose name, username or email contains every word of `query`; with
    `with_unenrolled` (for those who may enrol), also a person not in the course whose username or
    email is exactly `query`, as the participants page's enrol form finds them (no browsing of the
    site's users). Each user carries `course_role` (None: to be enrolled).
    """
    query = (query or "").strip()[:100]
    if not query:
        return []
    match = Q()
    for word in query.split()[:5]:
        match &= (
            Q(username__icontains=word)
            | Q(email__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
        )
    wanted = match & Q(course_role=Enrolment.Role.LEARNER)
    if with_unenrolled:
        wanted |= Q(course_role__isnull=True) & (Q(username__iexact=query) | Q(email__iexact=query))
    role = Enrolment.objects.filter(course_id=event.seminar.course_id, user=OuterRef("pk")).values("role")[:1]
    signed_up = Booking.objects.filter(event=event, user=OuterRef("pk"), state__in=ACTIVE_STATES)
    return list(
        get_user_model()
        .objects.filter(is_active=True)
        .annotate(course_role=Subquery(role))
        .filter(wanted)
        .exclude(Exists(signed_up))
        .order_by("last_name", "first_name", "username")[:limit]
    )


# --- Internals ---------------------------------------------------------------------------


def _require_staff(*, event, actor, enrol=False, over_capacity=False):
    course = event.seminar.course
    if not is_course_trainer(actor, course):
        raise BookingError(_("Only trainers and site admins may manage attendees."))
    if enrol and not can_edit_course(actor, course):
        raise BookingError(_("Only editing trainers and site admins may enrol people."))
    if over_capacity and not is_site_admin(actor):
        raise BookingError(_("Only site admins may book over capacity."))


def _enrol_learner(*, event, user):
    # get_or_create: someone may have enrolled the person since the preview (it absorbs that race);
    # in another role, the whole batch is refused.
    enrolment, _created = Enrolment.objects.get_or_create(
        course=event.seminar.course, user=user, defaults={"role": Enrolment.Role.LEARNER}
    )
    if enrolment.role != Enrolment.Role.LEARNER:
        raise BookingError(
            _("%(username)s was enrolled as %(role)s meanwhile; nothing was added.")
            % {"username": user.get_username(), "role": enrolment.get_role_display().lower()}
        )


def _users_by_identifier(texts) -> dict[str, list]:
    """Lower-cased username or email -> the users it names (two queries at most: one)."""
    keys = {text.lower() for text in texts}
    if not keys:
        return {}
    found: dict[str, list] = {}
    users = (
        get_user_model()
        .objects.annotate(username_lower=Lower("username"), email_lower=Lower("email"))
        .filter(Q(username_lower__in=keys) | Q(email_lower__in=keys))
        .order_by("pk")
    )
    by_username = {}
    for user in users:
        if user.username_lower in keys:
            by_username[user.username_lower] = user
        if user.email_lower in keys:
            found.setdefault(user.email_lower, []).append(user)
    # A username names one person; it wins over someone else's email spelled the same.
    found.update({key: [user] for key, user in by_username.items()})
    return found


def _decide(preview, *, event, actor, enrol=False, over_capacity=False, ignore_event=None):
    """Fill in each line's outcome (lines with a user; the others keep their refusal)."""
    candidates = [line for line in preview.lines if line.user is not None]
    user_ids = [line.user.pk for line in candidates]
    roles = dict(
        Enrolment.objects.filter(course_id=event.seminar.course_id, user_id__in=user_ids).values_list("user_id", "role")
    )
    bookings = {b.user_id: b for b in Booking.objects.filter(event=event, user_id__in=user_ids)}
    conflicts = seat_conflicts(event=event, user_ids=user_ids, ignore_event=ignore_event)
    bounds = event.sessions.aggregate(first=Min("start"), last=Max("finish"))
    seats_taken = Booking.objects.filter(event=event, state__in=Booking.SEAT_STATES).count()
    may_enrol = enrol and can_edit_course(actor, event.seminar.course)
    seen = {}
    now = timezone.now()
    for line in candidates:
        user = line.user
        line.outcome, line.reason = Outcome.REFUSED, ""
        if user.pk in seen:
            line.reason = _("Same person as line %(number)d.") % {"number": seen[user.pk]}
            continue
        seen[user.pk] = line.number
        if not user.is_active:
            line.reason = _("This account is deactivated.")
            continue
        role = roles.get(user.pk)
        if role is None and not may_enrol:
            line.reason = (
                _("Not enrolled in this course; tick “Enrol” to enrol them as a learner.")
                if can_edit_course(actor, event.seminar.course)
                else _("Not enrolled in this course; an editing trainer or site admin can enrol them.")
            )
            continue
        if role is not None and role != Enrolment.Role.LEARNER:
            line.reason = _("Enrolled as %(role)s, not as a learner.") % {"role": Enrolment.Role(role).label.lower()}
            continue
        line.enrol = role is None
        booking = bookings.get(user.pk)
        status = event_status(
            event=event, first_start=bounds["first"], last_finish=bounds["last"], seats_taken=seats_taken, now=now
        )
        if booking is not None and booking.state in ACTIVE_STATES and status != EventStatus.CANCELLED:
            line.outcome = Outcome.ALREADY
            line.reason = booking.get_state_display()
            continue
        if user.pk in conflicts:
            line.reason = _("Booked on %(event)s at the same time.") % {"event": conflicts[user.pk]}
            continue
        over = over_capacity and status in (EventStatus.FULL, EventStatus.WAITLIST)
        refusal = None if over else booking_event_refusal(status=status, booking=booking)
        if refusal:
            line.reason = refusal
            continue
        if status == EventStatus.BOOKABLE or over:
            line.outcome = Outcome.BOOK
            line.reason = _("Over capacity.") if over else ""
            seats_taken += 1
        else:
            line.outcome = Outcome.WAITLIST


def _tell_added(event, lines, actor):
    booked = [line.user for line in lines if line.outcome == Outcome.BOOK]
    waitlisted = [line.user for line in lines if line.outcome == Outcome.WAITLIST]
    subject = _("Signed up for %(title)s") % {"title": _event_title(event)}
    url = event.get_absolute_url()
    # The booking email (with the calendar) is the email; this is the in-app notice of who did it.
    if booked:
        notify(
            users=booked,
            subject=subject,
            body=_("%(actor)s booked you on this event.") % {"actor": _display_name(actor)},
            url=url,
        )
    if waitlisted:
        notify(
            users=waitlisted,
            subject=subject,
            body=_("%(actor)s put you on the waitlist of this event.") % {"actor": _display_name(actor)},
            url=url,
        )


def _reason_clean(reason) -> str:
    reason = " ".join((reason or "").split())
    try:
        validate_multi_line(reason)
    except ValidationError as error:
        raise BookingError(error.messages[0]) from error
    if not reason:
        raise BookingError(_("Give a reason; the learner is told."))
    if len(reason) > REASON_MAX_LENGTH:
        raise BookingError(_("The reason can be at most %(count)d characters long.") % {"count": REASON_MAX_LENGTH})
    return reason


def _event_title(event) -> str:
    return f"{event.seminar.name}, {event.title}"


def _display_name(user) -> str:
    return user.get_full_name() or user.get_username()
