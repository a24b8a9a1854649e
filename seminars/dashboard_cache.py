"""My sessions (the dashboard), cached per person: each page of each list as the HTML of its rows, and the number
of the person's confirmed attendances.

A page of "Upcoming booked sessions" or "Sessions I run" is read from the database once (the page, the pager's
count and the first finish of the whole list in one query), its rows are rendered once, and the result is kept
under the generation tokens (lms.generations) of everything that can change it:
- the person's token (`_person_gen`): their bookings, enrolments, trainer assignments, confirmed attendance and
  their own user row (a room they may host is decided by their email);
- the token of each course the list can show (`_course_gen`; for a site admin's booked list, which is not
  limited to their courses, the token of all of them, `DASH_ALL`): its events (cancelled, deleted), their
  sessions (added, moved, deleted), rooms, trainer assignments, its seminars, its enrolments (who counts as a
  trainer) and the course itself;
- for "Sessions I run", which shows each event's seats taken, each course's bookings (`_seats_gen`);
- the site's token of seminars.page_cache (moved by its `reset`, and by a person's name or email).
Each kind of change moves them in the receivers at the end of this module, at once and again at commit (see
lms.generations). The key names the person, the list, whether they are a site admin, their zone, the language and
the page asked for.

Time changes the lists without any write: a page is kept only until the first session of its whole list finishes
(it then leaves the list) and until the first moment a cached virtual room card could change (its join window
opens). What depends on the moment inside the window, and every staff card of a provider-backed room (its meeting
is read on every request: virtualmeeting writes some of its rows with UPDATEs that send no signal), stays per
request: those rows keep their session and the card is worked out when the page is served
(views.virtual.sessions_attach_virtual_access).

`seminars/tests/test_dashboard_cache.py` makes each kind of change the way the product makes it and checks the next
page shows it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

from lms import generations
from lms.userfacts import fact
from seminars.models import (
    Booking,
    Course,
    Enrolment,
    EventTrainer,
    Room,
    Seminar,
    SeminarEvent,
    Session,
    SessionAttendance,
)
from seminars.page_cache import SITE, Remembered
from seminars.permissions import TRAINER_ROLES, is_site_admin, teaches_somewhere
from seminars.selectors.attendance import ATTENDANCE_PER_PAGE, learner_attendance, learner_attendance_count
from seminars.selectors.courses import (
    SESSIONS_PER_PAGE,
    dashboard_booked_queryset,
    dashboard_page,
    dashboard_trainer_queryset,
    dashboard_trainer_roles,
)
from seminars.templatetags.seminar_rows import ROW_TEMPLATE, VIRTUAL_SPOT, session_virtual
from seminars.virtual_room import JOIN_WINDOW, meeting_matters

TIMEOUT = 24 * 3600  # what nobody asked for in a day is computed again
DASH_ALL = "pages:gen:dash:all"
BOOKED, RUN = "booked", "run"
VIRTUAL_TEMPLATE = "seminars/bookings/_session_virtual.html"


def _person_gen(user_id) -> str:
    return f"pages:gen:person:{user_id}"


def _course_gen(course_id) -> str:
    return f"pages:gen:dash:course:{course_id}"


def _seats_gen(course_id) -> str:
    return f"pages:gen:dash:seats:{course_id}"


@dataclass
class Block:
    """A page of one list as stored: its rows as (HTML before the virtual card, the session when its card is
    worked out per request else None, HTML after it; with a cached card the whole row is in the first)."""

    number: int
    count: int
    until: object  # datetime | None: when the page stops being true
    rows: list = field(default_factory=list)


def _booking_state(kind):
    return Booking.State.BOOKED if kind == BOOKED else None


def _card_live(user, session, booking_state, now) -> bool:
    return session.room is not None and meeting_matters(user, session, booking_state, now)


def _block(user, kind: str, page, zone: str, now) -> Block:
    """Read and render one page of a list (no query beyond the page's own)."""
    from seminars.views.virtual import sessions_attach_virtual_access

    if kind == BOOKED:
        listed = dashboard_page(dashboard_booked_queryset(user=user, now=now), page=page)
    else:
        listed = dashboard_page(dashboard_trainer_queryset(user=user, now=now), page=page)
        dashboard_trainer_roles(listed.sessions)
    state = _booking_state(kind)
    until = listed.until
    live = {session.pk for session in listed.sessions if _card_live(user, session, state, now)}
    fixed = [session for session in listed.sessions if session.pk not in live]
    sessions_attach_virtual_access(user=user, sessions=fixed, booking_state=state)  # reads no meeting
    role_label = gettext("My role")
    block = Block(number=listed.number, count=listed.count, until=until)
    for session in listed.sessions:
        row = render_to_string(ROW_TEMPLATE, {"session": session, "viewer_zone": zone, "show_booked": kind == RUN})
        head, _spot, tail = row.partition(VIRTUAL_SPOT)
        role = format_html('<td data-label="{}">{}</td>', role_label, session.my_role) if kind == RUN else ""
        before, after = f"<tr>{head}", f"</td>{role}{tail}</tr>"
        if session.pk in live:
            block.rows.append((before, session, after))
            continue
        card = session_virtual(session) if session.virtual is not None else ""
        block.rows.append((f"{before}{card}{after}", None, ""))
        if session.virtual is not None and now < session.start - JOIN_WINDOW:
            # A learner's card changes when the join window opens (a staff card does not: kept the same way).
            opens = session.start - JOIN_WINDOW
            block.until = opens if block.until is None else min(block.until, opens)
    return block


def _gens(user, kind: str, admin: bool) -> list[str]:
    roles = fact(user, "roles")
    gens = [_person_gen(user.pk), SITE]
    if kind == BOOKED:
        return [*gens, DASH_ALL] if admin else [*gens, *(_course_gen(course_id) for course_id in sorted(roles))]
    staff = sorted(course_id for course_id, role in roles.items() if role in TRAINER_ROLES)
    return [*gens, *(gen for course_id in staff for gen in (_course_gen(course_id), _seats_gen(course_id)))]


def _key(user, kind: str, admin: bool, zone: str, page) -> str:
    asked = hashlib.blake2b(str(page).encode(), digest_size=8).hexdigest()
    return f"pages:dash:{user.pk}:{kind}:{int(admin)}:{zone}:{get_language()}:{asked}"


@dataclass
class Dashboard:
    booked: Page
    booked_html: str
    running: Page
    running_html: str
    attendance: Page


def dashboard(request, *, zone: str) -> Dashboard:
    """The lists of `request.user`'s "My sessions" for the pages the request asks for: from the cache when current
    (one cache round trip), else read and stored."""
    user = request.user
    now = timezone.now()
    admin = is_site_admin(user)
    asked = {BOOKED: request.GET.get("booked_page", 1)}
    if teaches_somewhere(user):  # only course staff teach: nothing to read for anyone else
        asked[RUN] = request.GET.get("run_page", 1)
    keys = {kind: _key(user, kind, admin, zone, page) for kind, page in asked.items()}
    gens = {kind: _gens(user, kind, admin) for kind in asked}
    attendance_key = f"pages:dash:{user.pk}:attendance-count"
    attendance_gens = [_person_gen(user.pk), SITE]
    wanted = {*keys.values(), attendance_key, *attendance_gens, *(gen for kind in gens for gen in gens[kind])}
    found = cache.get_many(list(wanted))
    blocks, store = {}, {}
    for kind, page in asked.items():
        tokens = generations.tokens(gens[kind], found)
        stored = found.get(keys[kind])
        if generations.entry_fresh(stored, tokens) and (stored["value"].until is None or now < stored["value"].until):
            blocks[kind] = stored["value"]
        else:
            blocks[kind] = _block(user, kind, page, zone, now)
            store[keys[kind]] = generations.entry(blocks[kind], tokens)
    tokens = generations.tokens(attendance_gens, found)
    stored = found.get(attendance_key)
    if generations.entry_fresh(stored, tokens):
        attended = stored["value"]
    else:
        attended = learner_attendance_count(user=user)
        store[attendance_key] = generations.entry(attended, tokens)
    if store:
        cache.set_many(store, timeout=TIMEOUT)
    booked_page, booked_html = _served(request, blocks[BOOKED], BOOKED)
    if RUN in blocks:
        running_page, running_html = _served(request, blocks[RUN], RUN)
    else:
        running_page, running_html = Paginator([], SESSIONS_PER_PAGE).get_page(1), ""
    if attended:
        attendance = learner_attendance(user=user, page=request.GET.get("attendance_page", 1), count=attended)
    else:
        attendance = Paginator([], ATTENDANCE_PER_PAGE).get_page(1)
    return Dashboard(
        booked=booked_page,
        booked_html=booked_html,
        running=running_page,
        running_html=running_html,
        attendance=attendance,
    )


def _served(request, block: Block, kind: str) -> tuple[Page, str]:
    """The page's rows with the per-request virtual cards filled in: (a Page of the rows' HTML, all of it)."""
    from seminars.views.virtual import sessions_attach_virtual_access

    live = [session for _before, session, _after in block.rows if session is not None]
    if live:
        sessions_attach_virtual_access(user=request.user, sessions=live, booking_state=_booking_state(kind))
    rows = []
    for before, session, after in block.rows:
        if session is None:
            rows.append(before)
        elif session.virtual is None:
            rows.append(f"{before}{after}")
        elif session.virtual_can_retry:  # "Retry now" holds a CSRF token
            rows.append(f"{before}{render_to_string(VIRTUAL_TEMPLATE, {'session': session}, request=request)}{after}")
        else:
            rows.append(f"{before}{session_virtual(session)}{after}")
    page = Page([mark_safe(row) for row in rows], block.number, Paginator(range(block.count), SESSIONS_PER_PAGE))
    return page, mark_safe("".join(rows))


# ---- What moves the tokens ----------------------------------------------------------------------------------
# Which course an event or a seminar is in never changes: each process remembers it (_event_course and
# _seminar_course below; `reset` forgets, for tests, where ids repeat).


def reset() -> None:
    _event_course.clear()
    _seminar_course.clear()
    generations.bump(DASH_ALL)


def people_changed(user_ids) -> None:
    generations.changed(*(_person_gen(user_id) for user_id in set(user_ids)))


def courses_changed(course_ids) -> None:
    course_ids = {course_id for course_id in course_ids if course_id is not None}
    if course_ids:
        generations.changed(*(_course_gen(course_id) for course_id in course_ids), DASH_ALL)


# The course of an event, of a seminar; None when it is gone (its own delete moved its course's token).
_event_course = Remembered(
    lambda event_id: SeminarEvent.objects.filter(pk=event_id).values_list("seminar__course_id", flat=True).first()
)
_seminar_course = Remembered(
    lambda seminar_id: Seminar.objects.filter(pk=seminar_id).values_list("course_id", flat=True).first()
)


@receiver(post_save, sender=Booking, dispatch_uid="seminars.dashboard_cache.booking_saved")
@receiver(post_delete, sender=Booking, dispatch_uid="seminars.dashboard_cache.booking_deleted")
def _booking_changed(sender, instance, **kwargs):
    people_changed([instance.user_id])
    course_id = _event_course(instance.event_id)
    if course_id is not None:
        generations.changed(_seats_gen(course_id))


@receiver(post_save, sender=Enrolment, dispatch_uid="seminars.dashboard_cache.enrolment_saved")
@receiver(post_delete, sender=Enrolment, dispatch_uid="seminars.dashboard_cache.enrolment_deleted")
def _enrolment_changed(sender, instance, **kwargs):
    people_changed([instance.user_id])
    courses_changed([instance.course_id])  # who counts as a trainer of the course's events


@receiver(post_save, sender=EventTrainer, dispatch_uid="seminars.dashboard_cache.trainer_saved")
@receiver(post_delete, sender=EventTrainer, dispatch_uid="seminars.dashboard_cache.trainer_deleted")
def _trainer_changed(sender, instance, **kwargs):
    people_changed([instance.user_id])
    courses_changed([_event_course(instance.event_id)])  # the other staff stand in while nobody is assigned


@receiver(post_save, sender=Session, dispatch_uid="seminars.dashboard_cache.session_saved")
@receiver(post_delete, sender=Session, dispatch_uid="seminars.dashboard_cache.session_deleted")
def _session_changed(sender, instance, **kwargs):
    courses_changed([_event_course(instance.event_id)])


@receiver(post_save, sender=SeminarEvent, dispatch_uid="seminars.dashboard_cache.event_saved")
@receiver(post_delete, sender=SeminarEvent, dispatch_uid="seminars.dashboard_cache.event_deleted")
def _event_changed(sender, instance, signal, created=False, **kwargs):
    if created or signal is post_delete:
        _event_course.forget(instance.pk)  # an id can come back (SQLite): never another event's course
    courses_changed([_seminar_course(instance.seminar_id)])


@receiver(post_save, sender=Seminar, dispatch_uid="seminars.dashboard_cache.seminar_saved")
@receiver(post_delete, sender=Seminar, dispatch_uid="seminars.dashboard_cache.seminar_deleted")
def _seminar_changed(sender, instance, signal, created=False, **kwargs):
    if created or signal is post_delete:
        _seminar_course.forget(instance.pk)  # an id can come back (SQLite): never another seminar's course
    courses_changed([instance.course_id])


@receiver(post_save, sender=Course, dispatch_uid="seminars.dashboard_cache.course_saved")
@receiver(post_delete, sender=Course, dispatch_uid="seminars.dashboard_cache.course_deleted")
def _course_changed(sender, instance, **kwargs):
    courses_changed([instance.pk])


@receiver(post_save, sender=Room, dispatch_uid="seminars.dashboard_cache.room_saved")
@receiver(pre_delete, sender=Room, dispatch_uid="seminars.dashboard_cache.room_deleted")
def _room_changed(sender, instance, **kwargs):
    # Before a delete: its sessions are then moved to "no room" by an UPDATE, which sends no signal.
    courses_changed(
        Session.objects.filter(room_id=instance.pk).values_list("event__seminar__course_id", flat=True).distinct()
    )


# What "My attendance" lists: the confirmed state (a proposal from the meeting's data writes other fields).
_ATTENDANCE_SHOWN = {"state", "minutes", "session", "booking"}


@receiver(post_save, sender=SessionAttendance, dispatch_uid="seminars.dashboard_cache.attendance_saved")
@receiver(post_delete, sender=SessionAttendance, dispatch_uid="seminars.dashboard_cache.attendance_deleted")
def _attendance_changed(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and not _ATTENDANCE_SHOWN & set(update_fields):
        return
    # None when the booking is gone with it: the booking's own delete moved its person's token.
    user_id = Booking.objects.filter(pk=instance.booking_id).values_list("user_id", flat=True).first()
    if user_id is not None:
        people_changed([user_id])


@receiver(post_save, sender=get_user_model(), dispatch_uid="seminars.dashboard_cache.person_saved")
def _person_saved(sender, instance, created, update_fields=None, **kwargs):
    # A login saves only last_login, which changes nothing here.
    if not created and (update_fields is None or set(update_fields) - {"last_login"}):
        people_changed([instance.pk])
