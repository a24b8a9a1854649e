"""Reading bookings: seats, event status, and everything the event page shows.

The event page loads in a fixed number of queries however many sessions and
bookings the event has.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, OuterRef, Prefetch, Q, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lms.userfacts import fact
from seminars.models import Booking, BookingStateChange, SeminarEvent, Session


class EventStatus:
    """Where an event stands for signing up: the one rule the lists, the event page and booking use."""

    CANCELLED = "cancelled"
    PAST = "past"
    IN_PROGRESS = "in_progress"
    WAITLIST_ONLY = "waitlist_only"
    FULL = "full"
    WAITLIST = "waitlist"
    BOOKABLE = "bookable"

    LABELS = {
        CANCELLED: _("Cancelled"),
        PAST: _("Past"),
        IN_PROGRESS: _("In progress"),
        WAITLIST_ONLY: _("Waitlist only (no dates yet)"),
        FULL: _("Full"),
        WAITLIST: _("Full – waitlist available"),
        BOOKABLE: _("Bookable"),
    }
    BADGES = {
        CANCELLED: "badge-danger",
        PAST: "badge-muted",
        IN_PROGRESS: "badge-muted",
        WAITLIST_ONLY: "badge-warn",
        FULL: "badge-danger",
        WAITLIST: "badge-warn",
        BOOKABLE: "badge-ok",
    }
    # Learners can sign up (booked or waitlisted) in these.
    OPEN = (WAITLIST_ONLY, WAITLIST, BOOKABLE)


def event_status(*, event, first_start, last_finish, seats_taken, now=None) -> str:
    """One of EventStatus's values for an event, its sessions' bounds (None without sessions) and taken seats.

    Booking closes when the first session starts (seminars.services.bookings reads this).
    """
    now = now or timezone.now()
    if event.cancelled:
        return EventStatus.CANCELLED
    if first_start is None:
        return EventStatus.WAITLIST_ONLY
    if last_finish <= now:
        return EventStatus.PAST
    if first_start <= now:
        return EventStatus.IN_PROGRESS
    if seats_taken >= event.capacity:
        return EventStatus.WAITLIST if event.waitlist_enabled else EventStatus.FULL
    return EventStatus.BOOKABLE


def event_first_start(event):
    """When the event's first session starts (None without sessions). One query."""
    return event.sessions.aggregate(first=Min("start"))["first"]


def event_status_now(event) -> str:
    """The event's EventStatus now, from its sessions and seats taken. Two queries; call it under
    the event lock when acting on the answer."""
    bounds = event.sessions.aggregate(first=Min("start"), last=Max("finish"))
    seats_taken = Booking.objects.filter(event=event, state__in=Booking.SEAT_STATES).count()
    return event_status(event=event, first_start=bounds["first"], last_finish=bounds["last"], seats_taken=seats_taken)


class RegistrationWindow:
    """Where an event stands against its own registration times (SeminarEvent.registration_opens_at
    and registration_closes_at): the one rule the lists, the event page and booking use. Staff adding
    attendees are not bound by it."""

    OPEN = ""
    NOT_OPEN = "not_open"
    CLOSED = "closed"

    LABELS = {NOT_OPEN: _("Registration not open yet"), CLOSED: _("Registration closed")}


def registration_window(*, event, now=None) -> str:
    """One of RegistrationWindow's values for `event` at `now`: opening is inclusive, closing exclusive."""
    now = now or timezone.now()
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        return RegistrationWindow.NOT_OPEN
    if event.registration_closes_at is not None and now >= event.registration_closes_at:
        return RegistrationWindow.CLOSED
    return RegistrationWindow.OPEN


def event_status_display(*, event, status, now=None) -> tuple[str, str]:
    """The (label, badge class) of an event's status for learners: a status that lets them sign up
    says so only while registration is open."""
    if status in EventStatus.OPEN:
        window = registration_window(event=event, now=now)
        if window:
            return RegistrationWindow.LABELS[window], "badge-muted"
    return EventStatus.LABELS[status], EventStatus.BADGES[status]


def seat_count_annotation():
    """Annotate a SeminarEvent queryset with `seats_taken` (bookings holding a seat)."""
    return Count("bookings", filter=Q(bookings__state__in=Booking.SEAT_STATES), distinct=True)


@dataclass
class EventPage:
    event: SeminarEvent
    sessions: list
    seats_taken: int
    status: str
    first_start: object = None
    my_booking: Booking | None = None
    attendees: dict = field(default_factory=dict)
    status_label: str = ""
    status_badge: str = ""
    registration: str = RegistrationWindow.OPEN

    @property
    def seats_left(self) -> int:
        return max(self.event.capacity - self.seats_taken, 0)


def event_for_page(*, event_id) -> SeminarEvent:
    """The event with its seminar, course, seat count and sessions (rooms loaded); 404 if missing."""
    queryset = (
        SeminarEvent.objects.select_related("seminar__course")
        .annotate(seats_taken=seat_count_annotation())
        .prefetch_related(Prefetch("sessions", queryset=Session.objects.select_related("room").order_by("start")))
    )
    return get_object_or_404(queryset, pk=event_id)


def event_page(*, event, user, with_attendees, booking_of=None) -> EventPage:
    """What the event page shows `user`; `event` comes from event_for_page. `booking_of(user_id)` gives the user's
    booking on it (seminars.page_cache.EventShared.booking_of) instead of a query."""
    sessions = list(event.sessions.all())
    now = timezone.now()
    page = EventPage(
        event=event,
        sessions=sessions,
        seats_taken=event.seats_taken,
        status=event_status(
            event=event,
            first_start=sessions[0].start if sessions else None,
            last_finish=max(s.finish for s in sessions) if sessions else None,
            seats_taken=event.seats_taken,
            now=now,
        ),
        first_start=sessions[0].start if sessions else None,
        registration=registration_window(event=event, now=now),
    )
    page.status_label, page.status_badge = event_status_display(event=event, status=page.status, now=now)
    # The viewer's cached booking states say whether there is one to read (seminars.viewer_facts).
    has_booking = user.is_authenticated and event.pk in fact(user, "bookings")
    if not has_booking:
        page.my_booking = None
    elif booking_of is not None:
        page.my_booking = booking_of(user.pk)
    else:
        page.my_booking = Booking.objects.filter(event=event, user=user).first()
    if with_attendees:
        page.attendees = event_attendees(event=event)
    return page


def event_attendees(*, event) -> dict:
    """The event's signups grouped as booked (incl. attendance states), waitlisted, requested (awaiting
    approval) and cancelled (with declined and expired requests).

    Each carries `state_reason`: the reason given when it entered its current state (for
    cancellations; blank when none was given), from its history.
    """
    groups = {"booked": [], "waitlisted": [], "requested": [], "cancelled": []}
    bookings = (
        Booking.objects.filter(event=event)
        .select_related("user")
        .annotate(state_reason=Subquery(current_state_reason()))
        .order_by("created_at", "pk")
    )
    for booking in bookings:
        if booking.state in Booking.SEAT_STATES:
            groups["booked"].append(booking)
        elif booking.state == Booking.State.WAITLISTED:
            groups["waitlisted"].append(booking)
        elif booking.state == Booking.State.REQUESTED:
            groups["requested"].append(booking)
        else:
            groups["cancelled"].append(booking)
    return groups


def current_state_reason():
    """A subquery: the reason given when the booking (OuterRef "pk") entered its current state ("" if none)."""
    return (
        BookingStateChange.objects.filter(booking=OuterRef("pk"), state=OuterRef("state"))
        .order_by("-changed_at", "-pk")
        .values("reason")[:1]
    )


def event_waitlist_count(*, event) -> int:
    """How many learners wait for a seat on `event`."""
    return Booking.objects.filter(event=event, state=Booking.State.WAITLISTED).count()


def booking_for_user(*, booking_id):
    """A booking with its event, seminar and course loaded; 404 if missing."""
    return get_object_or_404(Booking.objects.select_related("event__seminar__course", "user"), pk=booking_id)


def seat_conflicts(*, event, user_ids, ignore_event=None) -> dict[int, str]:
    """User id -> title of another live event they hold a seat on whose sessions overlap `event`'s.

    Sessions that touch (one ends when the other starts) do not overlap. `ignore_event` is left
    out too (a learner being moved from it).
    """
    sessions = [(session.start, session.finish) for session in event.sessions.all()]  # prefetched when loaded
    if not sessions or not user_ids:
        return {}
    overlap = Q()
    for start, finish in sessions:
        overlap |= Q(start__lt=finish, finish__gt=start)
    rows = (
        Session.objects.filter(overlap)
        .filter(
            event__cancelled=False,
            event__bookings__user_id__in=user_ids,
            event__bookings__state__in=Booking.SEAT_STATES,
        )
        .exclude(event=event)
        .exclude(event_id=getattr(ignore_event, "pk", None))
        .values_list("event__bookings__user_id", "event_id")
        .order_by("start")
    )
    events = {}
    result = {}
    for user_id, event_id in rows:
        if user_id not in result:
            result[user_id] = event_id
            events[event_id] = None
    titles = {e.pk: str(e.title) for e in SeminarEvent.objects.filter(pk__in=events).select_related("seminar")}
    return {user_id: titles[event_id] for user_id, event_id in result.items()}
