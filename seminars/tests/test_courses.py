"""Courses, participants, seminars and the dashboard: forms, services, pages and query counts."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from seminars.models import Booking, Course, Enrolment, Room, Seminar, SeminarEvent, Session
from seminars.selectors.courses import EVENTS_PER_PAGE, event_list_for_seminar
from seminars.services.courses import course_delete, seminar_delete
from seminars.tests.conftest import enrol, field_error, make_session, make_user

# ---- Courses ------------------------------------------------------------------------------------


def test_site_admin_adds_a_course(client, site_admin):
    client.force_login(site_admin)

    response = client.post(
        reverse("seminars:course_add"),
        {"name": "First aid", "short_name": "FA", "summary": "Basics.", "allow_self_enrolment": "on"},
    )

    course = Course.objects.get(name="First aid")
    assert response.status_code == 302
    assert response["Location"] == reverse("seminars:course", args=[course.pk])
    assert course.allow_self_enrolment is True


@pytest.mark.parametrize("name", ["", "   "])
def test_course_without_a_name_is_refused_next_to_the_field(client, site_admin, name):
    client.force_login(site_admin)

    response = client.post(reverse("seminars:course_add"), {"name": name, "short_name": "X"})

    assert response.status_code == 200
    assert "Enter the course" in field_error(response.content.decode(), "name")
    assert not Course.objects.exists()


def test_an_empty_post_reports_the_missing_fields(client, course, site_admin):
    client.force_login(site_admin)

    course_page = client.post(reverse("seminars:course_add")).content.decode()
    seminar_page = client.post(reverse("seminars:seminar_add", args=[course.pk])).content.decode()
    enrol_page = client.post(reverse("seminars:participants", args=[course.pk])).content.decode()

    assert "Enter the course" in field_error(course_page, "name")
    assert "Enter the seminar" in field_error(seminar_page, "name")
    assert "Enter the username or email" in field_error(enrol_page, "user")
    assert Course.objects.count() == 1 and not Seminar.objects.exists()


def test_course_name_too_long_is_refused_next_to_the_field(client, site_admin):
    client.force_login(site_admin)

    response = client.post(reverse("seminars:course_add"), {"name": "x" * 300})

    assert "at most 255 characters" in field_error(response.content.decode(), "name")
    assert not Course.objects.exists()


def test_editing_trainer_edits_the_course(client, course, editing_trainer):
    client.force_login(editing_trainer)

    response = client.post(reverse("seminars:course_edit", args=[course.pk]), {"name": "Safety 2", "summary": "New"})

    assert response.status_code == 302
    course.refresh_from_db()
    assert (course.name, course.summary, course.allow_self_enrolment) == ("Safety 2", "New", False)


def test_course_edit_with_blank_name_keeps_the_old_one(client, course, editing_trainer):
    client.force_login(editing_trainer)

    response = client.post(reverse("seminars:course_edit", args=[course.pk]), {"name": ""})

    assert "Enter the course" in field_error(response.content.decode(), "name")
    course.refresh_from_db()
    assert course.name == "Safety training"


def test_course_list_shows_enrolled_and_self_enrolment_courses(client, course, learner):
    open_course = Course.objects.create(name="Open to all", allow_self_enrolment=True)
    Course.objects.create(name="Closed other")
    client.force_login(learner)

    html = client.get(reverse("seminars:courses")).content.decode()

    assert course.name in html
    assert open_course.name in html
    assert "Enrol me" in html
    assert reverse("seminars:self_enrol", args=[open_course.pk]) in html
    assert "Closed other" not in html


def test_site_admin_sees_every_course(client, site_admin):
    Course.objects.create(name="Alpha")
    Course.objects.create(name="Beta")
    client.force_login(site_admin)

    html = client.get(reverse("seminars:courses")).content.decode()

    assert "Alpha" in html and "Beta" in html
    assert "Add a new course" in html


def test_self_enrolment(client, outsider):
    open_course = Course.objects.create(name="Open to all", allow_self_enrolment=True)
    client.force_login(outsider)

    response = client.post(reverse("seminars:self_enrol", args=[open_course.pk]))

    assert response.status_code == 302
    enrolment = Enrolment.objects.get(user=outsider, course=open_course)
    assert enrolment.role == Enrolment.Role.LEARNER
    assert client.get(reverse("seminars:course", args=[open_course.pk])).status_code == 200


def test_self_enrolment_twice_keeps_one_enrolment_and_the_role(client, course, trainer):
    course.allow_self_enrolment = True
    course.save()
    client.force_login(trainer)

    client.post(reverse("seminars:self_enrol", args=[course.pk]))

    assert list(Enrolment.objects.filter(user=trainer).values_list("role", flat=True)) == [Enrolment.Role.TRAINER]


def test_course_delete_confirms_then_deletes_everything(client, course, event, learner, site_admin):
    Booking.objects.create(event=event, user=learner)
    client.force_login(site_admin)
    url = reverse("seminars:course_delete", args=[course.pk])

    confirm = client.get(url).content.decode()
    assert "1 booking<" in confirm and "1 event<" in confirm and "2 enrolments" in confirm
    assert Course.objects.filter(pk=course.pk).exists()

    response = client.post(url)

    assert response.status_code == 302
    assert not Course.objects.filter(pk=course.pk).exists()
    assert not SeminarEvent.objects.exists()
    assert not Booking.objects.exists()


def test_course_delete_service_keeps_site_rooms(course, event, site_admin):
    room = Room.objects.create(name="Site room", capacity=5)
    Session.objects.filter(event=event).update(room=room)

    course_delete(course=course, actor=site_admin)

    assert Room.objects.filter(pk=room.pk).exists()
    assert not Session.objects.exists()


# ---- Participants --------------------------------------------------------------------------------


def test_site_admin_enrols_by_username_and_email(client, course, site_admin, outsider):
    other = make_user("ophelia")
    client.force_login(site_admin)
    url = reverse("seminars:participants", args=[course.pk])

    client.post(url, {"user": "otto", "role": Enrolment.Role.TRAINER})
    client.post(url, {"user": "OPHELIA@example.com", "role": Enrolment.Role.EDITING_TRAINER})

    assert Enrolment.objects.get(user=outsider, course=course).role == Enrolment.Role.TRAINER
    assert Enrolment.objects.get(user=other, course=course).role == Enrolment.Role.EDITING_TRAINER


@pytest.mark.parametrize(
    "value,message",
    [
        ("", "Enter the username or email"),
        ("nobody", "No user with the username or email"),
        ("lena", "lena is already enrolled in this course."),
    ],
)
def test_enrol_form_errors_are_next_to_the_field(client, course, site_admin, learner, value, message):
    client.force_login(site_admin)
    before = Enrolment.objects.count()

    response = client.post(reverse("seminars:participants", args=[course.pk]), {"user": value, "role": "learner"})

    assert response.status_code == 200
    assert message in field_error(response.content.decode(), "user")
    assert Enrolment.objects.count() == before


def test_enrol_form_refuses_an_unknown_role(client, course, site_admin, outsider):
    client.force_login(site_admin)

    response = client.post(reverse("seminars:participants", args=[course.pk]), {"user": "otto", "role": "god"})

    assert "Select a valid choice" in field_error(response.content.decode(), "role")
    assert not Enrolment.objects.filter(user=outsider).exists()


def test_enrol_form_refuses_a_suspended_account(client, course, site_admin, outsider):
    outsider.is_active = False
    outsider.save()
    client.force_login(site_admin)

    response = client.post(reverse("seminars:participants", args=[course.pk]), {"user": "otto", "role": "learner"})

    assert "suspended" in field_error(response.content.decode(), "user")


def test_editing_trainer_changes_a_role_and_unenrols(client, course, editing_trainer, learner):
    client.force_login(editing_trainer)
    enrolment = Enrolment.objects.get(user=learner, course=course)

    client.post(reverse("seminars:participant_role", args=[course.pk, enrolment.pk]), {"role": "trainer"})
    enrolment.refresh_from_db()
    assert enrolment.role == Enrolment.Role.TRAINER

    client.post(reverse("seminars:participant_remove", args=[course.pk, enrolment.pk]))
    assert not Enrolment.objects.filter(pk=enrolment.pk).exists()
    client.force_login(learner)
    assert client.get(reverse("seminars:course", args=[course.pk])).status_code == 404


def test_role_change_to_an_unknown_role_changes_nothing(client, course, editing_trainer, learner):
    client.force_login(editing_trainer)
    enrolment = Enrolment.objects.get(user=learner, course=course)

    response = client.post(reverse("seminars:participant_role", args=[course.pk, enrolment.pk]), {"role": "admin"})

    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.role == Enrolment.Role.LEARNER


def test_editing_trainer_cannot_change_their_own_enrolment(client, course, editing_trainer):
    client.force_login(editing_trainer)
    own = Enrolment.objects.get(user=editing_trainer, course=course)

    response = client.post(reverse("seminars:participant_role", args=[course.pk, own.pk]), {"role": "learner"})

    assert response.status_code == 403
    own.refresh_from_db()
    assert own.role == Enrolment.Role.EDITING_TRAINER


def test_enrolment_of_another_course_is_not_reachable(client, course, editing_trainer):
    other = Course.objects.create(name="Other")
    foreign = enrol(make_user("fred"), other)
    client.force_login(editing_trainer)

    response = client.post(reverse("seminars:participant_remove", args=[course.pk, foreign.pk]))

    assert response.status_code == 404
    assert Enrolment.objects.filter(pk=foreign.pk).exists()


def test_trainer_sees_participants_without_the_enrol_form(client, course, trainer, learner):
    client.force_login(trainer)

    html = client.get(reverse("seminars:participants", args=[course.pk])).content.decode()

    assert "lena" in html
    assert "Enrol user" not in html
    assert "Unenrol" not in html


# ---- Seminars ------------------------------------------------------------------------------------


def test_editing_trainer_adds_a_seminar(client, course, editing_trainer):
    client.force_login(editing_trainer)

    response = client.post(
        reverse("seminars:seminar_add", args=[course.pk]), {"name": "Evacuation drills", "description": "Twice a year."}
    )

    seminar = Seminar.objects.get(name="Evacuation drills")
    assert seminar.course == course
    assert response["Location"] == reverse("seminars:seminar", args=[seminar.pk])


def test_seminar_without_a_name_is_refused_next_to_the_field(client, course, editing_trainer):
    client.force_login(editing_trainer)

    response = client.post(reverse("seminars:seminar_add", args=[course.pk]), {"name": " ", "description": "x"})

    assert "Enter the seminar" in field_error(response.content.decode(), "name")
    assert not Seminar.objects.exists()


def test_seminar_edit(client, seminar, editing_trainer):
    client.force_login(editing_trainer)

    client.post(reverse("seminars:seminar_edit", args=[seminar.pk]), {"name": "Fire wardens II", "description": ""})

    seminar.refresh_from_db()
    assert (seminar.name, seminar.description) == ("Fire wardens II", "")


def test_seminar_edit_invalid_keeps_the_old_values(client, seminar, editing_trainer):
    client.force_login(editing_trainer)

    response = client.post(reverse("seminars:seminar_edit", args=[seminar.pk]), {"name": "", "description": "new"})

    assert "Enter the seminar" in field_error(response.content.decode(), "name")
    seminar.refresh_from_db()
    assert seminar.description == "How to lead an evacuation."


def test_seminar_delete_via_confirmation(client, course, seminar, event, editing_trainer):
    client.force_login(editing_trainer)
    url = reverse("seminars:seminar_delete", args=[seminar.pk])

    assert "Delete seminar" in client.get(url).content.decode()
    response = client.post(url)

    assert response["Location"] == reverse("seminars:course", args=[course.pk])
    assert not Seminar.objects.exists()
    assert not SeminarEvent.objects.exists()


def test_seminar_delete_service_removes_adhoc_rooms(seminar, event, site_admin):
    adhoc = Room.objects.create(name="Ad hoc", capacity=4, event=event)

    seminar_delete(seminar=seminar, actor=site_admin)

    assert not Room.objects.filter(pk=adhoc.pk).exists()


# ---- The seminar page ----------------------------------------------------------------------------


def _future(days, hour=9, zone="Europe/London"):
    today = timezone.now().astimezone(ZoneInfo(zone)).date()
    return datetime.combine(today + timedelta(days=days), datetime.min.time()).replace(hour=hour)


def test_seminar_page_shows_sessions_rooms_seats_and_status(client, seminar, event, learner, learner2):
    room = Room.objects.create(name="Boardroom", capacity=10)
    Session.objects.filter(event=event).update(room=room)
    Booking.objects.create(event=event, user=learner)
    tokyo = SeminarEvent.objects.create(seminar=seminar, name="Tokyo", capacity=1)
    make_session(tokyo, _future(10, zone="Asia/Tokyo"), zone="Asia/Tokyo")
    Booking.objects.create(event=tokyo, user=learner2)
    client.force_login(learner)

    html = client.get(reverse("seminars:seminar", args=[seminar.pk])).content.decode()

    assert "Spring intake" in html and "Tokyo" in html
    assert "Boardroom" in html
    assert "(Asia/Tokyo)" in html and "(Europe/London)" in html
    assert '1 <span class="muted small">of 2' in html  # one seat left on the spring intake
    assert "You: Booked" in html
    assert "Full" in html  # Tokyo: one seat, taken, no waitlist
    assert "Bookable" in html


def test_seminar_page_shows_times_in_the_viewers_zone(client, seminar, event, learner):
    from seminars.models import Profile

    Profile.objects.create(user=learner, time_zone="America/New_York")
    client.force_login(learner)

    html = client.get(reverse("seminars:seminar", args=[seminar.pk])).content.decode()

    assert "Your time:" in html
    assert "(America/New_York)" in html


def test_event_status_rules(seminar, learner, learner2):
    now = timezone.now()
    full = SeminarEvent.objects.create(seminar=seminar, name="full", capacity=1)
    waitlist = SeminarEvent.objects.create(seminar=seminar, name="waitlist", capacity=1, waitlist_enabled=True)
    cancelled = SeminarEvent.objects.create(seminar=seminar, name="cancelled", capacity=5, cancelled=True)
    past = SeminarEvent.objects.create(seminar=seminar, name="past", capacity=5)
    SeminarEvent.objects.create(seminar=seminar, name="no dates", capacity=5)
    open_ = SeminarEvent.objects.create(seminar=seminar, name="open", capacity=5)
    for ev in (full, waitlist, cancelled, open_):
        Session.objects.create(event=ev, start=now + timedelta(days=3), finish=now + timedelta(days=3, hours=1))
    Session.objects.create(event=past, start=now - timedelta(days=3), finish=now - timedelta(days=3, hours=-1))
    Booking.objects.create(event=full, user=learner)
    Booking.objects.create(event=waitlist, user=learner)
    Booking.objects.create(event=waitlist, user=learner2, state=Booking.State.WAITLISTED)
    Booking.objects.create(event=open_, user=learner, state=Booking.State.USER_CANCELLED)

    upcoming = event_list_for_seminar(seminar=seminar, user=learner2)
    past_page = event_list_for_seminar(seminar=seminar, user=learner2, past=True)
    assert [e.name for e in past_page] == ["past"]
    rows = {e.name: e for e in [*upcoming, *past_page]}

    assert {name: e.status for name, e in rows.items()} == {
        "full": "full",
        "waitlist": "waitlist",
        "cancelled": "cancelled",
        "past": "past",
        "no dates": "waitlist_only",
        "open": "bookable",
    }
    assert rows["open"].seats_left == 5  # a cancelled booking frees its seat
    assert rows["waitlist"].waitlist_count == 1
    assert rows["waitlist"].my_booking_state == Booking.State.WAITLISTED
    assert rows["full"].my_booking_state is None
    assert list(rows)[-1] == "past"  # past events come last


def _fill_seminar(seminar, count, learners, rooms):
    """`count` events with two sessions each (different zones, rooms) and bookings in several states."""
    zones = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
    first = seminar.events.count()
    for i in range(first, first + count):
        ev = SeminarEvent.objects.create(seminar=seminar, name=f"Event {i}", capacity=3, waitlist_enabled=i % 2 == 0)
        zone = zones[i % len(zones)]
        make_session(ev, _future(5 + i, zone=zone), zone=zone, room=rooms[i % len(rooms)])
        make_session(
            ev,
            _future(5 + i, hour=14, zone=zone),
            zone=zone,
            room=Room.objects.create(name=f"Adhoc {i}", capacity=3, event=ev),
        )
        for j, user in enumerate(learners):
            state = [Booking.State.BOOKED, Booking.State.WAITLISTED, Booking.State.USER_CANCELLED][(i + j) % 3]
            Booking.objects.create(event=ev, user=user, state=state)


def _count_queries(client, url):
    """Queries of one request in the steady state: the viewer's header facts already cached (lms.userfacts)."""
    client.get(url)
    return _count_one(client, url)


def _count_one(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("role", ["learner", "editing_trainer", "site_admin"])
def test_seminar_page_runs_a_constant_number_of_queries(
    request, client, course, seminar, learner, django_assert_max_num_queries, role
):
    viewer = request.getfixturevalue(role)
    learners = [learner] + [enrol(make_user(f"l{i}"), course).user for i in range(4)]
    rooms = [Room.objects.create(name=f"Site {i}", capacity=9) for i in range(2)]
    client.force_login(viewer)
    url = reverse("seminars:seminar", args=[seminar.pk])

    # The first view after a change reads what changed (the list, the rows made again, the viewer's facts); the
    # next is served from the cache. Neither grows with the number of events (seminars.page_cache).
    client.get(url)  # the login's first request: the user and their facts read once
    _fill_seminar(seminar, 3, learners, rooms)
    with django_assert_max_num_queries(20):
        first_small, _ = _count_one(client, url)
    small, _ = _count_one(client, url)

    _fill_seminar(seminar, 27, learners, rooms)
    with django_assert_max_num_queries(20):
        first_large, _ = _count_one(client, url)
    large, response = _count_one(client, url)

    assert SeminarEvent.objects.count() == 30
    html = response.content.decode()
    assert all(f">Event {i}<" in html for i in range(EVENTS_PER_PAGE))  # one page of the 30
    assert (large, first_large) == (small, first_small), (small, first_small, large, first_large)


# ---- Dashboard -----------------------------------------------------------------------------------


def test_dashboard_lists_the_learners_upcoming_booked_sessions(client, seminar, event, learner):
    Booking.objects.create(event=event, user=learner)
    cancelled = SeminarEvent.objects.create(seminar=seminar, name="Cancelled one", capacity=5, cancelled=True)
    make_session(cancelled, _future(3))
    Booking.objects.create(event=cancelled, user=learner)
    waiting = SeminarEvent.objects.create(seminar=seminar, name="Waiting one", capacity=5)
    make_session(waiting, _future(4))
    Booking.objects.create(event=waiting, user=learner, state=Booking.State.WAITLISTED)
    past = SeminarEvent.objects.create(seminar=seminar, name="Past one", capacity=5)
    make_session(past, _future(-3))
    Booking.objects.create(event=past, user=learner)
    client.force_login(learner)

    html = client.get(reverse("seminars:dashboard")).content.decode()

    assert "Spring intake" in html
    assert "Cancelled one" not in html
    assert "Waiting one" not in html
    assert "Past one" not in html
    assert "Sessions I run" not in html


def test_dashboard_hides_sessions_of_a_course_the_learner_left(client, course, event, learner):
    Booking.objects.create(event=event, user=learner)
    Enrolment.objects.filter(user=learner, course=course).delete()
    client.force_login(learner)

    html = client.get(reverse("seminars:dashboard")).content.decode()

    assert "Spring intake" not in html
    assert "no upcoming booked sessions" in html


def test_dashboard_lists_the_sessions_a_trainer_runs(client, course, event, trainer, learner):
    Booking.objects.create(event=event, user=learner)
    other_course = Course.objects.create(name="Other")
    other = SeminarEvent.objects.create(
        seminar=Seminar.objects.create(course=other_course, name="Elsewhere"), name="Not mine", capacity=3
    )
    make_session(other, _future(2))
    client.force_login(trainer)

    html = client.get(reverse("seminars:dashboard")).content.decode()

    assert "Sessions I run" in html
    assert "Upcoming booked sessions" not in html  # no empty learner card for a trainer
    assert "Spring intake" in html
    assert "1 / 2" in html  # booked / capacity
    assert "Not mine" not in html


def test_dashboard_runs_a_constant_number_of_queries(
    client, course, seminar, learner, trainer, django_assert_max_num_queries
):
    rooms = [Room.objects.create(name="Site", capacity=9)]
    client.force_login(learner)
    url = reverse("seminars:dashboard")

    # The first view after a change reads what changed; the next is served from the cache. Neither grows with the
    # number of sessions (seminars.page_cache).
    client.get(url)  # the login's first request: the user and their facts read once
    _fill_seminar(seminar, 3, [learner], rooms)
    with django_assert_max_num_queries(16):
        first_small, _ = _count_one(client, url)
    small, _ = _count_one(client, url)
    _fill_seminar(seminar, 27, [learner], rooms)
    with django_assert_max_num_queries(16):
        first_large, _ = _count_one(client, url)
    large, response = _count_one(client, url)

    assert (large, first_large) == (small, first_small), (small, first_small, large, first_large)
    html = response.content.decode()
    # The learner is booked on every third event, waitlisted or cancelled on the others.
    assert [i for i in range(30) if f">Event {i}<" in html] == list(range(0, 30, 3))

    client.force_login(trainer)
    client.get(url)
    with django_assert_max_num_queries(11):
        _count_one(client, url)


def test_course_list_course_page_and_participants_run_constant_queries(client, course, editing_trainer):
    client.force_login(editing_trainer)
    pages = [
        reverse("seminars:courses"),
        reverse("seminars:course", args=[course.pk]),
        reverse("seminars:participants", args=[course.pk]),
    ]

    def grow(n):
        start = Course.objects.count()
        for i in range(start, start + n):
            other = Course.objects.create(name=f"Course {i}", allow_self_enrolment=i % 2 == 0)
            enrol(editing_trainer, other, Enrolment.Role.TRAINER)
            seminar = Seminar.objects.create(course=course, name=f"Seminar {i}")
            SeminarEvent.objects.create(seminar=seminar, capacity=3)
            enrol(make_user(f"person{i}"), course)

    grow(2)
    small = [_count_queries(client, url)[0] for url in pages]
    grow(20)
    large = [_count_queries(client, url)[0] for url in pages]

    assert large == small
    assert max(large) <= 10
    html = _count_queries(client, pages[2])[1].content.decode()
    assert "person21" in html


def test_the_seminar_page_lists_upcoming_events_a_page_at_a_time_and_past_ones_apart(client, seminar, learner):
    now = timezone.now()
    for n in range(EVENTS_PER_PAGE + 3):
        ev = SeminarEvent.objects.create(seminar=seminar, name=f"Upcoming {n:02d}", capacity=5)
        Session.objects.create(event=ev, start=now + timedelta(days=n + 1), finish=now + timedelta(days=n + 1, hours=1))
    old = SeminarEvent.objects.create(seminar=seminar, name="Long ago", capacity=5)
    Session.objects.create(event=old, start=now - timedelta(days=30), finish=now - timedelta(days=30, hours=-1))
    client.force_login(learner)
    url = reverse("seminars:seminar", args=[seminar.pk])

    first = client.get(url).content.decode()
    assert "Upcoming 00" in first and f"Upcoming {EVENTS_PER_PAGE - 1:02d}" in first
    assert f"Upcoming {EVENTS_PER_PAGE:02d}" not in first and "Long ago" not in first
    assert "Past events (1)" in first and "Page 1 of 2" in first

    second = client.get(url, {"page": 2}).content.decode()
    assert f"Upcoming {EVENTS_PER_PAGE + 2:02d}" in second and "Upcoming 00" not in second

    past = client.get(url, {"past": 1}).content.decode()
    assert "Long ago" in past and "Upcoming 00" not in past


def test_my_sessions_shows_the_next_sessions_a_page_at_a_time(client, seminar, editing_trainer):
    from seminars.selectors.courses import SESSIONS_PER_PAGE

    ev = SeminarEvent.objects.create(seminar=seminar, name="Weekly", capacity=5)
    now = timezone.now()
    for n in range(SESSIONS_PER_PAGE + 2):
        Session.objects.create(event=ev, start=now + timedelta(days=n + 1), finish=now + timedelta(days=n + 1, hours=1))
    client.force_login(editing_trainer)

    first = client.get(reverse("seminars:dashboard"))
    assert len(first.context["trainer_sessions"].object_list) == SESSIONS_PER_PAGE
    assert "run_page=2" in first.content.decode()
    second = client.get(reverse("seminars:dashboard"), {"run_page": 2})
    assert len(second.context["trainer_sessions"].object_list) == 2
