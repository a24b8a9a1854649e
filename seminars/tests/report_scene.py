"""The scene the report tests play in (seminars/tests/test_reports*.py, tests/fuzz/test_reports.py).

Built at a frozen moment (NOW, 1 June 2030) through the booking services, so the history rows,
reasons and who made each change are the product's own:

- course "Safety training": seminar "Fire wardens" with event "Spring intake" (two London sessions,
  10 and 11 June 09:00 BST) and "Late intake" (one session at 23:30 UTC on 10 June: 11 June in
  Tokyo, still 10 June in New York); seminar "First aid" with "Summer course" (1 July);
- bookings on Spring intake: Zoé Ærø booked (her first session fully attended, 55 minutes, the
  second not set), Leo cancelled with a reason, "=HYPERLINK" (a learner whose first name starts
  with "=") booked; Lena on Late intake and on Summer course;
- another course with an event and a booking that no report of this course may show.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from seminars.models import (
    Booking,
    Course,
    Enrolment,
    Seminar,
    SeminarEvent,
    Session,
    SessionAttendance,
)
from seminars.services.bookings import booking_cancel, booking_create
from seminars.tests.conftest import enrol, make_session, make_user

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
CANCEL_REASON = "Clashes with my night shift"
FORMULA_NAME = '=HYPERLINK("http://evil.example","click")'


@dataclass
class ReportScene:
    course: Course
    seminar: Seminar
    other_seminar: Seminar
    spring: SeminarEvent
    late: SeminarEvent
    summer: SeminarEvent
    other_event: SeminarEvent
    spring_sessions: list[Session]
    zoe: object
    leo: object
    formula: object
    lena: object
    trainer: object
    bookings: dict  # (username, event name) -> Booking


def build_report_scene(*, course, seminar, trainer) -> ReportScene:
    """Call with the clock at NOW (time_machine)."""
    spring = SeminarEvent.objects.create(seminar=seminar, name="Spring intake", capacity=10)
    spring_sessions = [
        make_session(spring, datetime(2030, 6, 10, 9, 0), zone="Europe/London"),
        make_session(spring, datetime(2030, 6, 11, 9, 0), zone="Europe/London"),
    ]
    late = SeminarEvent.objects.create(seminar=seminar, name="Late intake", capacity=10)
    make_session(late, datetime(2030, 6, 10, 23, 30, tzinfo=UTC))
    other_seminar = Seminar.objects.create(course=course, name="First aid")
    summer = SeminarEvent.objects.create(seminar=other_seminar, name="Summer course", capacity=10)
    make_session(summer, datetime(2030, 7, 1, 9, 0))
    other_course = Course.objects.create(name="Finance")
    other_event = SeminarEvent.objects.create(
        seminar=Seminar.objects.create(course=other_course, name="Budgets"), name="Budget day", capacity=10
    )
    make_session(other_event, datetime(2030, 6, 10, 9, 0))

    zoe = _learner("zoe", course, first_name="Zoé", last_name="Ærø")
    leo = _learner("leo", course, first_name="Leo", last_name="Brandt")
    formula = _learner("formula", course, first_name=FORMULA_NAME, last_name="Smith")
    lena = _learner("lena", course, first_name="Lena", last_name="Adams")
    outsider = make_user("olga")
    enrol(outsider, other_course)

    bookings = {}
    for user, event in [(zoe, spring), (leo, spring), (formula, spring), (lena, late), (lena, summer)]:
        bookings[(user.username, event.name)] = booking_create(event=event, user=user, actor=trainer)
    bookings[("olga", "Budget day")] = booking_create(event=other_event, user=outsider, actor=outsider)
    booking_cancel(booking=bookings[("leo", "Spring intake")], actor=leo, reason=CANCEL_REASON)
    SessionAttendance.objects.create(
        booking=bookings[("zoe", "Spring intake")],
        session=spring_sessions[0],
        state=Booking.State.FULLY_ATTENDED,
        minutes=55,
        confirmed_by=trainer,
        confirmed_at=NOW,
    )
    return ReportScene(
        course=course,
        seminar=seminar,
        other_seminar=other_seminar,
        spring=spring,
        late=late,
        summer=summer,
        other_event=other_event,
        spring_sessions=spring_sessions,
        zoe=zoe,
        leo=leo,
        formula=formula,
        lena=lena,
        trainer=trainer,
        bookings=bookings,
    )


def _learner(username, course, **names):
    user = make_user(username)
    for key, value in names.items():
        setattr(user, key, value)
    user.save()
    enrol(user, course, Enrolment.Role.LEARNER)
    return user
