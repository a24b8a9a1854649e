"""Courses, seminars, participants and the dashboard: each list in a fixed number of queries."""

from datetime import datetime

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from seminars.models import Booking, Course, Enrolment, EventTrainer, Seminar, SeminarEvent, Session
from seminars.permissions import is_site_admin, teaches_somewhere
from seminars.selectors.bookings import event_status, event_status_display, registration_window
from seminars.selectors.trainers import assigned_role_annotation, sessions_taught_filter


def _booking_count(states, event_ref: str = "pk") -> Coalesce:
    """Bookings in `states` of the outer row's event (`event_ref`), as a correlated subquery (no join fan-out)."""
    counted = (
        Booking.objects.filter(event=OuterRef(event_ref), state__in=states)
        .order_by()
        .values("event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def course_list_for_user(*, user) -> list[Course]:
    """Courses the user is enrolled in (all of them for site admins) and those open to self enrolment.

    Each course carries `my_role` (None when not enrolled) and `seminar_count`.
    """
    role = Enrolment.objects.filter(course=OuterRef("pk"), user=user).values("role")[:1]
    seminar_count = (
        Seminar.objects.filter(course=OuterRef("pk")).order_by().values("course").annotate(n=Count("pk")).values("n")
    )
    courses = Course.objects.annotate(
        my_role=Subquery(role),
        seminar_count=Coalesce(Subquery(seminar_count, output_field=IntegerField()), Value(0)),
    )
    if not is_site_admin(user):
        courses = courses.filter(Q(my_role__isnull=False) | Q(allow_self_enrolment=True))
    return list(courses.order_by("name", "pk"))


def seminar_list_for_course(*, course: Course) -> list[Seminar]:
    """The course's seminars, each with `event_count` (events not cancelled)."""
    events = (
        SeminarEvent.objects.filter(seminar=OuterRef("pk"), cancelled=False)
        .order_by()
        .values("seminar")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(
        course.seminars.annotate(
            event_count=Coalesce(Subquery(events, output_field=IntegerField()), Value(0))
        ).order_by("name", "pk")
    )


def enrolment_list_for_course(*, course: Course) -> list[Enrolment]:
    """Participants: editing trainers, then trainers, then learners, each by name."""
    role_rank = Case(
        When(role=Enrolment.Role.EDITING_TRAINER, then=Value(0)),
        When(role=Enrolment.Role.TRAINER, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return list(
        course.enrolments.select_related("user")
        .annotate(role_rank=role_rank)
        .order_by("role_rank", "user__first_name", "user__last_name", "user__username")
    )


def course_content_counts(*, course: Course) -> dict[str, int]:
    """What deleting the course removes, for the confirmation page: noun (singular) -> count."""
    return {
        "seminar": Seminar.objects.filter(course=course).count(),
        "event": SeminarEvent.objects.filter(seminar__course=course).count(),
        "booking": Booking.objects.filter(event__seminar__course=course).count(),
        "enrolment": Enrolment.objects.filter(course=course).count(),
    }


def seminar_content_counts(*, seminar: Seminar) -> dict[str, int]:
    """What deleting the seminar removes, for the confirmation page: noun (singular) -> count."""
    return {
        "event": SeminarEvent.objects.filter(seminar=seminar).count(),
        "session": Session.objects.filter(event__seminar=seminar).count(),
        "booking": Booking.objects.filter(event__seminar=seminar).count(),
    }


EVENTS_PER_PAGE = 25
SESSIONS_PER_PAGE = 50


def _session_bound(field: str, *, first: bool):
    """The event's earliest start or latest finish, as a correlated subquery (no GROUP BY)."""
    ordered = Session.objects.filter(event=OuterRef("pk")).order_by(field if first else f"-{field}")
    return Subquery(ordered.values(field)[:1])


def event_list_for_seminar(
    *,
    seminar: Seminar,
    user,
    now: datetime | None = None,
    past: bool = False,
    page: int | str = 1,
    per_page: int = EVENTS_PER_PAGE,
    with_sessions: bool = True,
) -> Page:
    """One page of the seminar's upcoming (or past) events with their sessions and rooms.

    A constant number of queries however many events there are: the count, the
    page of events with their seat counts and the viewer's booking, and their
    sessions (unless `with_sessions` is false: the seminar page reads them only for the rows it has not cached,
    with `events_fresh`). Upcoming events (and those without dates) come by first session;
    past ones latest first. Each event carries: `session_list`, `booked_count`,
    `waitlist_count`, `seats_left`, `my_booking_state` (or None), `status`,
    `status_label`, `status_badge`, `registration` (a RegistrationWindow value).
    """
    now = now or timezone.now()
    events = _events_listed(seminar.events.all(), user=user)
    if with_sessions:
        events = _with_session_list(events)
    events = _upcoming_or_past(events, past=past, now=now)
    page_obj = Paginator(events, per_page).get_page(page)
    _events_decorate(page_obj.object_list, now=now)
    return page_obj


def events_fresh(event_ids, *, user, now: datetime) -> dict:
    """{id: event} read again as event_list_for_seminar lists them, with their sessions."""
    events = list(_with_session_list(_events_listed(SeminarEvent.objects.filter(pk__in=list(event_ids)), user=user)))
    _events_decorate(events, now=now)
    return {event.pk: event for event in events}


def _events_listed(events, *, user):
    """The events with their first start, last finish, seat and waitlist counts, and `user`'s booking state (no
    user: without it)."""
    events = events.annotate(
        first_start=_session_bound("start", first=True),
        last_finish=_session_bound("finish", first=False),
        booked_count=_booking_count(Booking.SEAT_STATES),
        waitlist_count=_booking_count([Booking.State.WAITLISTED]),
    )
    if user is None:
        return events
    my_state = Booking.objects.filter(event=OuterRef("pk"), user=user).values("state")[:1]
    return events.annotate(my_booking_state=Subquery(my_state))


class SeminarList:
    """One page of a seminar's upcoming (or past) events as every viewer sees it (event_list_for_seminar without
    the viewer's booking states), with the seminar, its course and the number of past events."""

    def __init__(self, *, seminar, events, number: int, count: int, per_page: int, past_count: int):
        self.seminar = seminar
        self.events = events
        self.number = number
        self.count = count
        self.per_page = per_page
        self.past_count = past_count


def seminar_events_page(*, seminar_id: int, past: bool, page, now: datetime):
    """What every viewer of a seminar's page sees the same (seminars.page_cache.seminar_list): (SeminarList, the
    moment it stops being true: the end of the first upcoming event, or None)."""
    seminar = get_object_or_404(Seminar.objects.select_related("course"), pk=seminar_id)
    events = _events_listed(seminar.events.all(), user=None)
    events = _upcoming_or_past(events, past=past, now=now)
    page_obj = Paginator(events, EVENTS_PER_PAGE).get_page(page)
    listed = SeminarList(
        seminar=seminar,
        events=list(page_obj.object_list),
        number=page_obj.number,
        count=page_obj.paginator.count,
        per_page=EVENTS_PER_PAGE,
        past_count=past_event_count(seminar=seminar, now=now),
    )
    until = (
        seminar.events.annotate(last_finish=_session_bound("finish", first=False))
        .filter(last_finish__gt=now)
        .aggregate(until=Min("last_finish"))["until"]
    )
    return listed, until


def seminar_page_for_viewer(listed, *, booking_states: dict, now: datetime) -> Page:
    """The cached page of events (`listed`) for one viewer: their booking states, and each event's status now."""
    for event in listed.events:
        event.my_booking_state = booking_states.get(event.pk)
    _events_decorate(listed.events, now=now)
    paginator = Paginator(range(listed.count), listed.per_page)
    return Page(listed.events, listed.number, paginator)


def _upcoming_or_past(events, *, past: bool, now: datetime):
    """Upcoming events (and those without dates) by first session; past ones latest first."""
    if past:
        return events.filter(last_finish__lte=now).order_by(F("first_start").desc(), "-pk")
    return events.filter(Q(last_finish__gt=now) | Q(last_finish__isnull=True)).order_by(
        F("first_start").asc(nulls_last=True), "pk"
    )


def _with_session_list(events):
    return events.prefetch_related(
        Prefetch(
            "sessions",
            queryset=Session.objects.select_related("room").order_by("start", "pk"),
            to_attr="session_list",
        )
    )


def _events_decorate(events, *, now) -> None:
    for event in events:
        event.seats_left = max(event.capacity - event.booked_count, 0)
        event.status = event_status(
            event=event,
            first_start=event.first_start,
            last_finish=event.last_finish,
            seats_taken=event.booked_count,
            now=now,
        )
        event.status_label, event.status_badge = event_status_display(event=event, status=event.status, now=now)
        event.registration = registration_window(event=event, now=now)
        if event.my_booking_state:
            event.my_booking_label = Booking.State(event.my_booking_state).label


def past_event_count(*, seminar: Seminar, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return (
        seminar.events.annotate(last_finish=_session_bound("finish", first=False)).filter(last_finish__lte=now).count()
    )


# ---- Dashboard --------------------------------------------------------------------------------


def _dashboard_sessions():
    return Session.objects.select_related("event__seminar__course", "room").annotate(
        booked_count=_booking_count(Booking.SEAT_STATES, event_ref="event")
    )


def dashboard_booked_queryset(*, user, now: datetime):
    """Upcoming sessions of events the user is booked on (event not cancelled, course still visible), in order."""
    booked = Booking.objects.filter(event=OuterRef("event"), user=user, state=Booking.State.BOOKED)
    sessions = _dashboard_sessions().filter(Exists(booked), finish__gt=now, event__cancelled=False)
    if not is_site_admin(user):
        enrolled = Enrolment.objects.filter(course=OuterRef("event__seminar__course"), user=user)
        sessions = sessions.filter(Exists(enrolled))
    return sessions.order_by("start", "pk")


def dashboard_trainer_sessions(*, user, now: datetime | None = None, page: int | str = 1) -> Page:
    """Upcoming sessions of the events the user is a trainer of (seminars.selectors.trainers), paged; each
    with `my_role`: the role the user is assigned, or their course role when standing in for an event
    with no trainers of its own."""
    if not teaches_somewhere(user):  # only course staff teach: nothing to ask the database
        return Paginator([], SESSIONS_PER_PAGE).get_page(page)
    sessions = dashboard_trainer_queryset(user=user, now=now or timezone.now())
    paged = Paginator(sessions, SESSIONS_PER_PAGE).get_page(page)
    paged.object_list = list(paged.object_list)
    dashboard_trainer_roles(paged.object_list)
    return paged


def dashboard_trainer_queryset(*, user, now: datetime):
    """Upcoming sessions of the events the user is a trainer of, in order (see dashboard_trainer_sessions)."""
    course_role = Enrolment.objects.filter(course=OuterRef("event__seminar__course"), user=user).values("role")[:1]
    sessions = (
        _dashboard_sessions()
        .filter(sessions_taught_filter(user), finish__gt=now, event__cancelled=False)
        .annotate(assigned_role=assigned_role_annotation(user), course_role=Subquery(course_role))
    )
    return sessions.order_by("start", "pk")


def dashboard_trainer_roles(sessions) -> None:
    """Set `my_role` on sessions of dashboard_trainer_queryset."""
    for session in sessions:
        if session.assigned_role:
            session.my_role = EventTrainer.Role(session.assigned_role).label
        else:
            session.my_role = Enrolment.Role(session.course_role).label


class DashboardPage:
    """One page of a dashboard list as dashboard_page read it: the sessions, the page's number, the number of
    sessions in the whole list and the first moment one of them finishes (then the list changes)."""

    def __init__(self, *, sessions: list, number: int, count: int, until: datetime | None):
        self.sessions = sessions
        self.number = number
        self.count = count
        self.until = until


def dashboard_page(sessions, *, page, per_page: int = SESSIONS_PER_PAGE) -> DashboardPage:
    """The page `page` of `sessions` (an ordered queryset of upcoming sessions) as Paginator.get_page would give
    it (not a number: the first page; out of range: the last), with the count and the first finish of the whole
    list in the same query (window functions); a page out of range costs two more."""
    paginator = Paginator(range(1 << 62), per_page)  # only to read `page` the way get_page does
    try:
        number = paginator.validate_number(page)
    except PageNotAnInteger:
        number = 1
    except EmptyPage:
        number = None  # below 1: the last page
    if number is not None:
        start = (number - 1) * per_page
        rows = list(
            sessions.annotate(
                listed_count=Window(expression=Count("pk")), listed_until=Window(expression=Min("finish"))
            )[start : start + per_page]
        )
        if rows:
            return DashboardPage(sessions=rows, number=number, count=rows[0].listed_count, until=rows[0].listed_until)
        if number == 1:  # an empty list
            return DashboardPage(sessions=[], number=1, count=0, until=None)
    found = sessions.order_by().aggregate(count=Count("pk"), until=Min("finish"))
    paged = Paginator(sessions, per_page).get_page(max(1, -(-found["count"] // per_page)))
    return DashboardPage(
        sessions=list(paged.object_list), number=paged.number, count=found["count"], until=found["until"]
    )
