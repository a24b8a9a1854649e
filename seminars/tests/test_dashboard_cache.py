"""My sessions is cached per person (seminars.dashboard_cache); no change ever shows late.

Each test loads the page (which caches its lists), changes one thing they show the way the product does (the
services, the event editor, a save) and loads it again: the change shows at once. The clock is frozen with
time_machine: a session finishing leaves the list at its finish, a join window opening changes its card at once.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from seminars.models import Booking, Enrolment, EventTrainer, Room, SeminarEvent, SessionAttendance
from seminars.services.attendance import session_attendance_confirm
from seminars.services.bookings import booking_cancel, booking_create
from seminars.services.courses import course_update, enrolment_create, enrolment_delete, seminar_update
from seminars.services.events import event_cancel, event_delete
from seminars.tests.conftest import make_session, make_user
from seminars.tests.test_page_cache import _edit

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("seminars:dashboard")


def _html(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(DASHBOARD, params)
    assert response.status_code == 200
    return response.content.decode()


def _booked(client, user, **params) -> str:
    """The "Upcoming booked sessions" card."""
    html = _html(client, user, **params)
    if "Upcoming booked sessions" not in html:
        return ""
    return html.split("Upcoming booked sessions", 1)[1].split("</section>", 1)[0]


def _rows(html: str) -> int:
    return html.count('data-label="When"')


def _running(client, user, **params) -> str:
    """The "Sessions I run" card."""
    html = _html(client, user, **params)
    if "Sessions I run" not in html:
        return ""
    return html.split("Sessions I run", 1)[1].split("</section>", 1)[0]


def test_booking_and_cancelling_show_at_once(client, event, learner):
    assert "Spring intake" not in _booked(client, learner)
    booking = booking_create(event=event, user=learner, actor=learner)
    assert "Spring intake" in _booked(client, learner)
    booking_cancel(booking=booking, actor=learner)
    assert "Spring intake" not in _booked(client, learner)


def test_a_waitlisted_learner_promoted_sees_the_session_at_once(client, event, learner, learner2, learner3):
    event.capacity, event.waitlist_enabled = 1, True
    event.save()
    first = booking_create(event=event, user=learner, actor=learner)
    waiting = booking_create(event=event, user=learner3, actor=learner3)
    assert waiting.state == Booking.State.WAITLISTED
    assert "Spring intake" not in _booked(client, learner3)
    booking_cancel(booking=first, actor=learner)  # the waitlist moves up
    waiting.refresh_from_db()
    assert waiting.state == Booking.State.BOOKED
    assert "Spring intake" in _booked(client, learner3)


def test_a_moved_session_an_added_one_and_a_deleted_one_show_at_once(client, event, learner, editing_trainer):
    booking_create(event=event, user=learner, actor=learner)
    client.force_login(editing_trainer)
    session = event.sessions.get()
    assert session.start.astimezone(ZoneInfo("Europe/London")).strftime("%-d %b %Y") in _booked(client, learner)

    later = session.start.astimezone(ZoneInfo("Europe/London")) + timedelta(days=3)
    client.force_login(editing_trainer)
    _edit(
        client,
        event,
        start=later.strftime("%Y-%m-%dT%H:%M"),
        finish=(later + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    )
    html = _booked(client, learner)
    assert later.strftime("%-d %b %Y") in html
    assert session.start.astimezone(ZoneInfo("Europe/London")).strftime("%-d %b %Y") not in html

    added = make_session(event, later + timedelta(days=30), zone="Europe/London")
    html = _booked(client, learner)
    assert (later + timedelta(days=30)).strftime("%-d %b %Y") in html
    added.delete()
    assert (later + timedelta(days=30)).strftime("%-d %b %Y") not in _booked(client, learner)


def test_an_event_cancelled_or_deleted_leaves_the_lists_at_once(client, event, seminar, learner, trainer, site_admin):
    booking_create(event=event, user=learner, actor=learner)
    other = SeminarEvent.objects.create(seminar=seminar, name="Autumn intake", capacity=5)
    make_session(other, timezone.now() + timedelta(days=9))
    booking_create(event=other, user=learner, actor=learner)
    assert "Spring intake" in _booked(client, learner) and "Autumn intake" in _booked(client, learner)
    assert "Spring intake" in _running(client, trainer)

    event_cancel(event=event, actor=site_admin)
    assert "Spring intake" not in _booked(client, learner) and "Autumn intake" in _booked(client, learner)
    assert "Spring intake" not in _running(client, trainer)

    event_delete(event=SeminarEvent.objects.get(pk=other.pk), actor=site_admin)
    assert "Autumn intake" not in _booked(client, learner)
    assert "Autumn intake" not in _running(client, trainer)


def test_assigning_and_unassigning_a_trainer_and_the_staff_changing_show_at_once(
    client, event, course, trainer, editing_trainer, site_admin
):
    # Nobody assigned: the course's staff stand in, both run it.
    assert "Spring intake" in _running(client, trainer) and "Spring intake" in _running(client, editing_trainer)

    assigned = EventTrainer.objects.create(event=event, user=trainer, role=EventTrainer.Role.FACILITATOR)
    html = _running(client, trainer)
    assert "Spring intake" in html and "Facilitator" in html
    assert "Spring intake" not in _running(client, editing_trainer)

    assigned.delete()
    assert "Spring intake" in _running(client, editing_trainer)
    assert "Facilitator" not in _running(client, trainer)

    EventTrainer.objects.create(event=event, user=trainer, role=EventTrainer.Role.FACILITATOR)
    assert "Spring intake" not in _running(client, editing_trainer)
    # The one assigned leaves the staff: they run nothing, the staff stand in again.
    enrolment_delete(enrolment=Enrolment.objects.get(course=course, user=trainer), actor=site_admin)
    assert "Spring intake" not in _running(client, trainer)
    assert "Spring intake" in _running(client, editing_trainer)

    newcomer = make_user("nina")
    enrolment_create(course=course, user=newcomer, role=Enrolment.Role.TRAINER, actor=site_admin)
    assert "Spring intake" in _running(client, newcomer)


def test_an_enrolment_removed_hides_the_courses_sessions_at_once(client, event, course, learner, site_admin):
    booking_create(event=event, user=learner, actor=learner)
    assert "Spring intake" in _booked(client, learner)
    enrolment_delete(enrolment=Enrolment.objects.get(course=course, user=learner), actor=site_admin)
    assert "Spring intake" not in _booked(client, learner)
    enrolment_create(course=course, user=learner, role=Enrolment.Role.LEARNER, actor=site_admin)
    assert "Spring intake" in _booked(client, learner)


def test_renaming_the_course_the_seminar_and_the_room_shows_at_once(
    client, event, course, seminar, site_room, learner, trainer, site_admin
):
    session = event.sessions.get()
    session.room = site_room
    session.save()
    booking_create(event=event, user=learner, actor=learner)
    assert "Training room 1" in _booked(client, learner) and "Training room 1" in _running(client, trainer)

    course_update(course=course, actor=site_admin, name="Safety first")
    for html in (_booked(client, learner), _running(client, trainer)):
        assert "Safety first" in html and "Fire wardens" in html
    seminar_update(seminar=seminar, actor=site_admin, name="Fire marshals")
    for html in (_booked(client, learner), _running(client, trainer)):
        assert "Fire marshals" in html and "Training room 1" in html
    site_room.name = "Lecture hall"
    site_room.save()
    for html in (_booked(client, learner), _running(client, trainer)):
        assert "Lecture hall" in html

    site_room.delete()
    assert "Lecture hall" not in _booked(client, learner)


def test_seats_taken_follow_other_peoples_bookings_for_the_trainer(client, event, trainer, learner, learner2):
    assert "0 / 2" in _running(client, trainer)
    booking_create(event=event, user=learner, actor=learner)
    assert "1 / 2" in _running(client, trainer)
    booking = booking_create(event=event, user=learner2, actor=learner2)
    assert "2 / 2" in _running(client, trainer)
    booking_cancel(booking=booking, actor=learner2)
    assert "1 / 2" in _running(client, trainer)


def test_a_session_leaves_the_list_when_it_finishes(client, event, learner, trainer, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    session = event.sessions.get()
    session.start, session.finish = timezone.now() - timedelta(minutes=50), timezone.now() + timedelta(minutes=10)
    session.save()
    later = make_session(event, timezone.now() + timedelta(days=20))
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)  # the event has started
    first_day = session.start.astimezone(ZoneInfo("UTC")).strftime("%-d %b %Y")
    html = _booked(client, learner)
    assert _rows(html) == 2 and first_day in html
    assert _rows(_running(client, trainer)) == 2

    time_machine.shift(timedelta(minutes=9))
    assert _rows(_booked(client, learner)) == 2  # still cached, still running
    time_machine.shift(timedelta(minutes=2))
    html = _booked(client, learner)
    assert _rows(html) == 1 and later.start.strftime("%-d %b %Y") in html
    assert _rows(_running(client, trainer)) == 1


def test_a_cached_card_changes_when_the_join_window_opens(client, event, learner, time_machine):
    room = Room.objects.create(name="Web room", capacity=20, virtual_kind="custom", virtual_url="https://meet.example")
    time_machine.move_to(timezone.now(), tick=False)
    session = event.sessions.get()
    session.start, session.finish = timezone.now() + timedelta(minutes=30), timezone.now() + timedelta(minutes=90)
    session.room = room
    session.save()
    booking_create(event=event, user=learner, actor=learner)
    html = _booked(client, learner)
    assert "will open 15 minutes before" in html and "Join now" not in html

    time_machine.shift(timedelta(minutes=14))
    assert "Join now" not in _booked(client, learner)
    time_machine.shift(timedelta(minutes=1, seconds=1))
    html = _booked(client, learner)
    assert "Join now" in html and "will open 15 minutes before" not in html


def test_confirmed_attendance_shows_at_once(client, bookings, session, learner, trainer, started):
    assert "My attendance" not in _html(client, learner)
    session_attendance_confirm(session=session, rows={bookings["lena"].pk: (Booking.State.NO_SHOW, 0)}, actor=trainer)
    html = _html(client, learner)
    assert "My attendance" in html and "No show" in html
    bookings["lena"].delete()
    assert "My attendance" not in _html(client, learner)


def test_in_the_steady_state_a_learner_reads_nothing_from_the_database(client, event, site_room, learner):
    session = event.sessions.get()
    session.room = site_room
    session.save()
    booking_create(event=event, user=learner, actor=learner)
    _html(client, learner)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(DASHBOARD).content.decode()
    assert "Spring intake" in html
    # (Without Redis, as on a local SQLite run, the session itself is read from the database.)
    asked = [query["sql"] for query in queries.captured_queries if '"django_session"' not in query["sql"]]
    assert asked == []


def test_each_person_and_each_page_gets_their_own_list(client, seminar, learner, learner2):
    events = []
    for number in range(55):
        event = SeminarEvent.objects.create(seminar=seminar, name=f"Drill {number:02}", capacity=5)
        make_session(event, timezone.now() + timedelta(days=2, hours=number))
        Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
        events.append(event)
    first = _booked(client, learner)
    assert "Drill 00" in first and "Drill 49" in first and "Drill 50" not in first and "55 in all" in first
    second = _booked(client, learner, booked_page=2)
    assert "Drill 50" in second and "Drill 54" in second and "Drill 00" not in second
    assert "Drill 54" in _booked(client, learner, booked_page=99)  # out of range: the last page
    assert "Drill 00" in _booked(client, learner, booked_page="x")  # not a number: the first
    assert "Drill" not in _booked(client, learner2)


def test_any_page_number_gives_a_page(client, event, learner, trainer, bookings):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=60, deadline=None)
    @given(
        user=st.sampled_from([learner, trainer]),
        params=st.dictionaries(
            st.sampled_from(["booked_page", "run_page", "attendance_page"]),
            st.one_of(st.text(max_size=30), st.integers().map(str)),
        ),
    )
    def check(user, params):
        client.force_login(user)
        assert client.get(DASHBOARD, params).status_code == 200

    check()


def test_a_list_read_while_a_booking_was_made_is_not_served_after_it(client, event, learner, monkeypatch):
    """The tokens are read before the rows: a list read before a change and stored after it is never current."""
    from seminars import dashboard_cache

    real = dashboard_cache.dashboard_page

    def racing(*args, **kwargs):
        listed = real(*args, **kwargs)  # read before the booking
        monkeypatch.setattr(dashboard_cache, "dashboard_page", real)
        booking_create(event=event, user=learner, actor=learner)
        return listed

    monkeypatch.setattr(dashboard_cache, "dashboard_page", racing)
    assert "Spring intake" not in _booked(client, learner)
    assert "Spring intake" in _booked(client, learner)


def test_a_site_admins_list_outside_their_courses_follows_changes_at_once(client, event, site_admin):
    """A site admin's booked list is not limited to their courses: it follows every course."""
    Booking.objects.create(event=event, user=site_admin, state=Booking.State.BOOKED)
    assert "Spring intake" in _booked(client, site_admin)
    later = timezone.now() + timedelta(days=40)
    make_session(event, later)
    assert later.strftime("%-d %b %Y") in _booked(client, site_admin)
    event_cancel(event=event, actor=site_admin)
    assert "Spring intake" not in _booked(client, site_admin)


def test_an_event_without_bookings_cancelled_leaves_the_trainers_list_at_once(client, event, trainer, site_admin):
    assert "Spring intake" in _running(client, trainer)
    event_cancel(event=event, actor=site_admin)
    assert "Spring intake" not in _running(client, trainer)


def test_attendance_saved_directly_shows_at_once(client, bookings, session, learner, started):
    """As the admin site saves it: no booking changes with it."""
    assert "My attendance" not in _html(client, learner)
    row = SessionAttendance.objects.create(booking=bookings["lena"], session=session, state=Booking.State.NO_SHOW)
    assert "No show" in _html(client, learner)
    row.state = ""
    row.save()
    assert "My attendance" not in _html(client, learner)


def test_becoming_a_site_admin_shows_bookings_outside_ones_courses_at_once(client, event, outsider):
    from django.contrib.auth.models import Permission

    outsider.is_staff = True
    outsider.save()
    Booking.objects.create(event=event, user=outsider, state=Booking.State.BOOKED)
    assert "Spring intake" not in _booked(client, outsider)  # not enrolled in its course
    outsider.user_permissions.add(Permission.objects.get(codename="manage_site"))
    assert "Spring intake" in _booked(client, outsider)
