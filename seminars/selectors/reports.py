"""Reading the sign-ups and attendance reports of an event, a seminar or a course.

A report is the bookings of its scope, filtered (states, the event's first start between two days
in the viewer's zone, one event, words of the learner's name, username or email), sorted by one of
SORT_KEYS with the booking's id breaking ties, then read a page (or a CSV chunk) at a time: the
ordered ids first, then report_rows for those ids in a fixed number of queries, however many
bookings, sessions and history rows there are.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.shortcuts import get_object_or_404

from seminars.attendance import event_state_from_sessions
from seminars.models import Booking, BookingStateChange, Course, Seminar, SeminarEvent, Session, SessionAttendance
from seminars.selectors.bookings import current_state_reason

PER_PAGE = 50
# The CSV is read this many bookings at a time: a fixed number of queries per chunk.
CSV_CHUNK = 500


class Scope:
    EVENT = "event"
    SEMINAR = "seminar"
    COURSE = "course"


@dataclass(frozen=True)
class ReportScope:
    """Whose bookings a report covers: one event, every event of a seminar, or of a course."""

    kind: str
    course: Course
    seminar: Seminar | None = None
    event: SeminarEvent | None = None

    @property
    def name(self) -> str:
        if self.event is not None:
            return f"{self.seminar.name} {self.event.title}"
        return self.seminar.name if self.seminar is not None else self.course.name

    def bookings(self) -> QuerySet:
        if self.kind == Scope.EVENT:
            return Booking.objects.filter(event=self.event)
        if self.kind == Scope.SEMINAR:
            return Booking.objects.filter(event__seminar=self.seminar)
        return Booking.objects.filter(event__seminar__course=self.course)


def report_scope(*, kind: str, pk: int) -> ReportScope:
    """The scope with its course (and seminar, event) loaded; 404 if missing."""
    if kind == Scope.EVENT:
        event = get_object_or_404(SeminarEvent.objects.select_related("seminar__course"), pk=pk)
        return ReportScope(kind, event.seminar.course, event.seminar, event)
    if kind == Scope.SEMINAR:
        seminar = get_object_or_404(Seminar.objects.select_related("course"), pk=pk)
        return ReportScope(kind, seminar.course, seminar)
    return ReportScope(kind, get_object_or_404(Course, pk=pk))


def report_events(scope: ReportScope) -> list[SeminarEvent]:
    """The events a seminar's or course's report can be narrowed to ([] for an event's report)."""
    if scope.kind == Scope.EVENT:
        return []
    events = SeminarEvent.objects.select_related("seminar").order_by("seminar__name", "seminar_id", "pk")
    if scope.kind == Scope.SEMINAR:
        return list(events.filter(seminar=scope.seminar))
    return list(events.filter(seminar__course=scope.course))


def report_sessions(scope: ReportScope) -> list[Session]:
    """An event's report lists its sessions (each with its sign-in sheet); other reports link to events."""
    if scope.kind != Scope.EVENT:
        return []
    return list(Session.objects.filter(event=scope.event).order_by("start", "pk"))


# --- Filters and sorting ---------------------------------------------------------------------------


def event_first_start():
    return Session.objects.filter(event=OuterRef("event_id")).order_by("start", "pk").values("start")[:1]


def _last_change(column: str):
    return BookingStateChange.objects.filter(booking=OuterRef("pk")).order_by("-changed_at", "-pk").values(column)[:1]


def _state_order():
    """The states in Booking.State's order (not alphabetical by their codes); new states follow."""
    whens = [When(state=value, then=Value(index)) for index, value in enumerate(Booking.State.values)]
    return Case(*whens, default=Value(len(whens)), output_field=IntegerField())


# Sort key -> the columns it orders by. The booking's id always breaks ties, so paging is stable.
SORT_KEYS = {
    "learner": ("user__last_name", "user__first_name", "user__username"),
    "username": ("user__username",),
    "email": ("user__email",),
    "event": ("event__seminar__name", "event__seminar_id", "event__name", "event_id"),
    "start": ("first_start",),
    "state": ("state_order",),
    "signed_up": ("created_at",),
    "changed": ("last_changed_at",),
}
DEFAULT_SORT = "start"


@dataclass(frozen=True)
class ReportFilters:
    """What the viewer asked for (seminars.forms.reports.ReportFilterForm checks it)."""

    states: tuple = ()
    start_from: date | None = None
    start_to: date | None = None  # inclusive
    event_id: int | None = None
    search: str = ""
    sort: str = DEFAULT_SORT
    descending: bool = False


def day_start(day: date, zone: str) -> datetime:
    """Midnight at the start of `day` in `zone`, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone))


def report_bookings(scope: ReportScope, filters: ReportFilters, *, zone: str) -> QuerySet:
    """The scope's bookings, filtered and ordered; dates are whole days in `zone` (the viewer's)."""
    bookings = scope.bookings().annotate(
        first_start=Subquery(event_first_start()),
        last_changed_at=Subquery(_last_change("changed_at")),
        state_order=_state_order(),
    )
    if filters.states:
        bookings = bookings.filter(state__in=filters.states)
    if filters.event_id is not None:
        bookings = bookings.filter(event_id=filters.event_id)
    if filters.start_from is not None:
        bookings = bookings.filter(first_start__gte=day_start(filters.start_from, zone))
    if filters.start_to is not None:
        bookings = bookings.filter(first_start__lt=day_start(filters.start_to + timedelta(days=1), zone))
    for word in filters.search.split():
        bookings = bookings.filter(
            Q(user__first_name__icontains=word)
            | Q(user__last_name__icontains=word)
            | Q(user__username__icontains=word)
            | Q(user__email__icontains=word)
        )
    return bookings.order_by(*_ordering(filters))


def _ordering(filters: ReportFilters) -> list:
    columns = SORT_KEYS.get(filters.sort, SORT_KEYS[DEFAULT_SORT])
    order = [
        F(column).desc(nulls_last=True) if filters.descending else F(column).asc(nulls_last=True) for column in columns
    ]
    return [*order, "pk"]


# --- The summary -----------------------------------------------------------------------------------


@dataclass
class ReportSummary:
    """How many filtered bookings are in each state, and the attendance rate among those whose
    attendance was taken (fully or partially attended, of those plus the no-shows)."""

    counts: list = field(default_factory=list)  # [(state value, label, count)] in Booking.State's order
    total: int = 0

    def count(self, state) -> int:
        return next((number for value, _label, number in self.counts if value == state), 0)

    @property
    def attendance_taken(self) -> int:
        return sum(self.count(state) for state in Booking.ATTENDANCE_STATES)

    @property
    def attended(self) -> int:
        return self.count(Booking.State.FULLY_ATTENDED) + self.count(Booking.State.PARTIALLY_ATTENDED)

    @property
    def attendance_rate(self) -> int | None:
        """Whole percent, rounded half up; None when no attendance was taken."""
        if not self.attendance_taken:
            return None
        return (self.attended * 200 + self.attendance_taken) // (self.attendance_taken * 2)


def report_summary(bookings: QuerySet) -> ReportSummary:
    """Counts per state of the filtered bookings (all pages), in one query."""
    totals = bookings.order_by().aggregate(
        **{f"n_{index}": Count("pk", filter=Q(state=value)) for index, value in enumerate(Booking.State.values)}
    )
    counts = [(value, label, totals[f"n_{index}"]) for index, (value, label) in enumerate(Booking.State.choices)]
    return ReportSummary(counts=counts, total=sum(number for _value, _label, number in counts))


# --- Rows ------------------------------------------------------------------------------------------


@dataclass
class SessionResult:
    session: Session
    attendance: SessionAttendance | None  # None: nothing confirmed or proposed yet

    @property
    def state(self) -> str:
        return self.attendance.state if self.attendance is not None else ""


@dataclass
class ReportRow:
    booking: Booking  # with user, event and seminar loaded, `first_start` and `state_reason`
    last_change: BookingStateChange | None
    sessions: list[SessionResult]

    @property
    def reason(self) -> str:
        return self.booking.state_reason or ""

    @property
    def event_result(self) -> str | None:
        """The event's attendance: the booking's own once taken, else what every session's decision
        gives (seminars.attendance.event_state_from_sessions); None while undecided or without a seat."""
        if self.booking.state in Booking.ATTENDANCE_STATES:
            return self.booking.state
        if self.booking.state not in Booking.SEAT_STATES:
            return None
        return event_state_from_sessions(result.state for result in self.sessions)

    @property
    def event_result_label(self) -> str:
        result = self.event_result
        return dict(Booking.State.choices)[result] if result else ""


# What a row reads of a booking and of its learner: no more (a CSV reads thousands of rows).
_BOOKING_COLUMNS = ("event", "user", "state", "created_at")
_USER_COLUMNS = ("username", "first_name", "last_name", "email")


def report_rows(booking_ids: list[int]) -> list[ReportRow]:
    """The rows of these bookings, in the order given: six queries, whatever their number.

    Events, their seminars and the people who made the last changes are read once each and
    shared by the rows, not copied into every row by a join.
    """
    bookings = {
        booking.pk: booking
        for booking in Booking.objects.filter(pk__in=booking_ids)
        .select_related("user")
        .only(*_BOOKING_COLUMNS, *(f"user__{column}" for column in _USER_COLUMNS))
        .annotate(
            first_start=Subquery(event_first_start()),
            last_change_id=Subquery(_last_change("pk")),
            state_reason=Subquery(current_state_reason()),
        )
    }
    event_ids = {booking.event_id for booking in bookings.values()}
    events = SeminarEvent.objects.filter(pk__in=event_ids).select_related("seminar")
    events = {event.pk: event for event in events}
    changes = {
        change.pk: change
        for change in BookingStateChange.objects.filter(pk__in=[b.last_change_id for b in bookings.values()]).only(
            "changed_at", "changed_by"
        )
    }
    people = get_user_model().objects.filter(pk__in={c.changed_by_id for c in changes.values()} - {None})
    people = {person.pk: person for person in people.only(*_USER_COLUMNS)}
    for change in changes.values():
        if change.changed_by_id is not None:
            change.changed_by = people[change.changed_by_id]
    sessions: dict[int, list[Session]] = {}
    for session in Session.objects.filter(event_id__in=event_ids).order_by("start", "pk"):
        sessions.setdefault(session.event_id, []).append(session)
    attendance = {
        (row.booking_id, row.session_id): row
        for row in SessionAttendance.objects.filter(booking_id__in=list(bookings)).order_by()
    }
    rows = []
    for pk in booking_ids:
        booking = bookings.get(pk)
        if booking is None:
            continue  # deleted since the ids were read
        booking.event = events[booking.event_id]
        results = [SessionResult(s, attendance.get((pk, s.pk))) for s in sessions.get(booking.event_id, [])]
        rows.append(ReportRow(booking=booking, last_change=changes.get(booking.last_change_id), sessions=results))
    return rows


@dataclass
class ReportPage:
    page: Page  # of booking ids
    rows: list[ReportRow]
    summary: ReportSummary


def report_page(bookings: QuerySet, *, page: int | str = 1, per_page: int = PER_PAGE) -> ReportPage:
    """One page of the report (a page number out of range or not a number gives the last or first page)
    and the summary of every page."""
    summary = report_summary(bookings)
    paginator = Paginator(bookings.values_list("pk", flat=True), per_page)
    paginator.count = summary.total  # already counted: spares a COUNT query
    current = paginator.get_page(page)
    return ReportPage(page=current, rows=report_rows(list(current.object_list)), summary=summary)


def report_all_rows(bookings: QuerySet, *, chunk: int | None = None):
    """Every row of the filtered report in its order, read CSV_CHUNK bookings at a time (for the CSV)."""
    chunk = chunk or CSV_CHUNK
    ids = list(bookings.values_list("pk", flat=True))
    for offset in range(0, len(ids), chunk):
        yield from report_rows(ids[offset : offset + chunk])
