"""Site rooms (management, availability) and the room page."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from seminars.models import Booking, Course, Room, Seminar, SeminarEvent, Session
from seminars.tests.conftest import enrol, make_session
from seminars.tests.test_events import field_errors

UTC = ZoneInfo("UTC")


@pytest.fixture
def admin_client(client, site_admin):
    client.force_login(site_admin)
    return client


def room_fields(**overrides):
    return {
        "name": "Board room",
        "capacity": "12",
        "description": "",
        "virtual_kind": "",
        "virtual_url": "",
        **overrides,
    }


# --- Site rooms management ------------------------------------------------------------------


def test_site_rooms_list_shows_capacity_and_upcoming_use_but_no_adhoc_rooms(admin_client, site_room, event):
    make_session(event, datetime(2030, 5, 1, 9, 0), room=site_room)
    make_session(event, datetime(2020, 5, 1, 9, 0), room=site_room)  # past: not upcoming
    Room.objects.create(name="Ad-hoc pop-up", capacity=4, event=event)
    response = admin_client.get(reverse("seminars:site_rooms"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Training room 1" in html
    row = html.split("Training room 1")[1].split("</tr>")[0]
    assert '<td class="num">20</td>' in row
    assert '<td class="num">1</td>' in row
    assert "Ad-hoc pop-up" not in html


def test_site_room_is_added(admin_client, site_admin):
    response = admin_client.post(
        reverse("seminars:site_room_add"),
        room_fields(virtual_kind="custom", virtual_url="https://meet.example.com/board", allow_conflicts="on"),
    )
    assert response.status_code == 302
    room = Room.objects.get(name="Board room")
    assert (room.event, room.capacity, room.allow_conflicts, room.created_by) == (None, 12, True, site_admin)
    assert (room.virtual_kind, room.virtual_url) == ("custom", "https://meet.example.com/board")


def test_site_room_is_edited(admin_client, site_room):
    response = admin_client.post(reverse("seminars:site_room_edit", args=[site_room.pk]), room_fields(capacity="30"))
    assert response.status_code == 302
    site_room.refresh_from_db()
    assert (site_room.name, site_room.capacity) == ("Board room", 30)


def test_a_provider_option_on_a_site_room_is_refused(admin_client, settings):
    from virtualmeeting.models import ProviderConfig

    settings.VIRTUALMEETING = {
        **settings.VIRTUALMEETING,
        "PROVIDERS": ["virtualmeeting.providers.testing.TestProvider"],
    }
    ProviderConfig.objects.create(provider="test", enabled=True)
    response = admin_client.post(reverse("seminars:site_room_add"), room_fields(virtual_kind="test"))
    assert response.status_code == 200
    errors = field_errors(response.content.decode(), "id_virtual_kind")
    assert "Meeting providers can only be used on ad-hoc rooms" in errors
    assert not Room.objects.exists()


@pytest.mark.parametrize("capacity", ["0", "-1", "lots"])
def test_site_room_capacity_below_one_is_refused(admin_client, capacity):
    response = admin_client.post(reverse("seminars:site_room_add"), room_fields(capacity=capacity))
    assert response.status_code == 200
    assert "Room capacity must be a whole number of at least 1." in field_errors(
        response.content.decode(), "id_capacity"
    )
    assert not Room.objects.exists()


def test_site_room_malformed_custom_link_is_refused(admin_client):
    response = admin_client.post(
        reverse("seminars:site_room_add"), room_fields(virtual_kind="custom", virtual_url="ftp://files.example.com")
    )
    assert response.status_code == 200
    assert "Enter a valid web address" in field_errors(response.content.decode(), "id_virtual_url")
    assert not Room.objects.exists()


def test_an_adhoc_room_is_not_edited_as_a_site_room(admin_client, event):
    adhoc = Room.objects.create(name="Ad-hoc", capacity=3, event=event)
    assert admin_client.get(reverse("seminars:site_room_edit", args=[adhoc.pk])).status_code == 404
    assert admin_client.post(reverse("seminars:site_room_delete", args=[adhoc.pk])).status_code == 404
    assert Room.objects.filter(pk=adhoc.pk).exists()


def test_deleting_a_site_room_used_by_an_upcoming_session_is_refused(admin_client, site_room, event):
    make_session(event, datetime(2030, 5, 1, 9, 0), room=site_room)
    url = reverse("seminars:site_room_delete", args=[site_room.pk])
    assert "1 upcoming session uses this room" in admin_client.get(url).content.decode()
    response = admin_client.post(url)
    assert response.status_code == 400
    assert "is used by 1 upcoming session" in response.content.decode()
    assert Room.objects.filter(pk=site_room.pk).exists()


def test_a_site_room_used_only_in_the_past_is_deleted(admin_client, site_room, event):
    past = make_session(event, datetime(2020, 5, 1, 9, 0), room=site_room)
    response = admin_client.post(reverse("seminars:site_room_delete", args=[site_room.pk]))
    assert response.status_code == 302
    assert not Room.objects.filter(pk=site_room.pk).exists()
    past.refresh_from_db()
    assert past.room is None


# --- "Choose": availability ---------------------------------------------------------------------


def available(client, start, finish, zone="UTC", event=None):
    params = {"start": start, "finish": finish, "zone": zone}
    if event is not None:
        params["event"] = event.pk
    response = client.get(reverse("seminars:rooms_available"), params)
    return response


@pytest.fixture
def booked_room(site_room, seminar):
    """Training room 1, held 10:00-12:00 UTC on 10 June 2030 by another event."""
    other = SeminarEvent.objects.create(seminar=seminar, name="Other intake", capacity=5)
    make_session(other, datetime(2030, 6, 10, 10, 0), minutes=120, room=site_room)
    return site_room


def room_ids(response):
    assert response.status_code == 200, response.content
    return [room["id"] for room in response.json()["rooms"]]


def test_choose_excludes_a_room_booked_at_an_overlapping_time(admin_client, booked_room):
    free = Room.objects.create(name="Free room", capacity=5)
    ids = room_ids(available(admin_client, "2030-06-10T11:30", "2030-06-10T13:00"))
    assert booked_room.pk not in ids
    assert free.pk in ids


def test_choose_includes_the_room_when_the_times_do_not_overlap(admin_client, booked_room):
    assert booked_room.pk in room_ids(available(admin_client, "2030-06-10T12:00", "2030-06-10T13:00"))
    assert booked_room.pk in room_ids(available(admin_client, "2030-06-10T08:00", "2030-06-10T10:00"))


def test_choose_reads_the_times_in_the_sessions_zone(admin_client, booked_room):
    # 12:30-13:30 in Berlin (CEST, UTC+2) is 10:30-11:30 UTC: overlapping.
    assert booked_room.pk not in room_ids(
        available(admin_client, "2030-06-10T12:30", "2030-06-10T13:30", "Europe/Berlin")
    )
    # 12:30-13:30 in London (BST, UTC+1) is 11:30-12:30 UTC: overlapping too; 13:00 London is free.
    assert booked_room.pk in room_ids(available(admin_client, "2030-06-10T13:00", "2030-06-10T14:00", "Europe/London"))


def test_choose_includes_a_room_that_allows_conflicts(admin_client, booked_room):
    booked_room.allow_conflicts = True
    booked_room.save()
    assert booked_room.pk in room_ids(available(admin_client, "2030-06-10T11:00", "2030-06-10T12:00"))


def test_choose_ignores_the_edited_events_own_sessions(client, booked_room, editing_trainer):
    client.force_login(editing_trainer)
    own_event = Session.objects.get(room=booked_room).event
    response = available(client, "2030-06-10T11:00", "2030-06-10T12:00", event=own_event)
    assert booked_room.pk in room_ids(response)


def test_choose_lists_the_events_adhoc_rooms_but_never_as_site_rooms(admin_client, event):
    adhoc = Room.objects.create(
        name="Pop-up", capacity=3, event=event, virtual_kind="custom", virtual_url="https://x.example"
    )
    body = available(admin_client, "2030-06-10T11:00", "2030-06-10T12:00", event=event).json()
    assert adhoc.pk not in [r["id"] for r in body["rooms"]]
    assert [r["id"] for r in body["adhoc"]] == [adhoc.pk]
    assert body["adhoc"][0]["virtual_url"] == "https://x.example"


@pytest.mark.parametrize(
    "start,finish,zone,message",
    [
        ("2030-06-10T11:00", "2030-06-10T12:00", "Mars/Olympus", "Unknown time zone."),
        ("2030-06-10T12:00", "2030-06-10T11:00", "UTC", "The finish must be after the start."),
        ("garbage", "2030-06-10T11:00", "UTC", "Enter a date and time"),
        ("2030-03-31T01:30", "2030-03-31T03:00", "Europe/London", "does not exist"),
    ],
)
def test_choose_explains_bad_times(admin_client, start, finish, zone, message):
    response = available(admin_client, start, finish, zone)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_choose_for_an_event_needs_edit_rights(client, learner, event):
    client.force_login(learner)
    assert available(client, "2030-06-10T11:00", "2030-06-10T12:00", event=event).status_code == 403


# --- Room page -------------------------------------------------------------------------------------


def test_room_page_shows_the_room_and_the_sessions_using_it(admin_client, site_room, event):
    session = make_session(event, datetime(2030, 6, 10, 9, 0), zone="Europe/London", room=site_room)
    html = admin_client.get(reverse("seminars:room", args=[site_room.pk])).content.decode()
    assert "Training room 1" in html
    assert "Ground floor, by the lifts." in html
    assert "Site room" in html
    assert "Mon 10 Jun 2030, 09:00–10:00 BST" in html
    assert reverse("seminars:event", args=[session.event_id]) in html


def test_adhoc_room_page_names_its_event(client, editing_trainer, event):
    room = Room.objects.create(name="Pop-up", capacity=3, event=event)
    client.force_login(editing_trainer)
    html = client.get(reverse("seminars:room", args=[room.pk])).content.decode()
    assert "Ad-hoc room of" in html
    assert "Fire wardens: Spring intake" in html


def test_room_page_hides_sessions_of_courses_the_viewer_cannot_see(client, learner, site_room, event):
    other_course = Course.objects.create(name="Secret course")
    secret = SeminarEvent.objects.create(
        seminar=Seminar.objects.create(course=other_course, name="Secret seminar"), name="Hidden", capacity=3
    )
    make_session(secret, datetime(2030, 6, 10, 9, 0), room=site_room)
    make_session(event, datetime(2030, 6, 11, 9, 0), room=site_room)
    client.force_login(learner)
    html = client.get(reverse("seminars:room", args=[site_room.pk])).content.decode()
    assert "Spring intake" in html
    assert "Secret seminar" not in html and "Hidden" not in html


def custom_room(event):
    return Room.objects.create(
        name="Online", capacity=30, event=event, virtual_kind="custom", virtual_url="https://meet.example.com/spring"
    )


def test_the_custom_link_is_shown_to_trainers(client, trainer, event):
    room = custom_room(event)
    client.force_login(trainer)
    html = client.get(reverse("seminars:room", args=[room.pk])).content.decode()
    assert "Go to room" in html and "https://meet.example.com/spring" in html


def test_the_custom_link_of_a_used_room_goes_through_our_join_url_for_trainers(client, trainer, event):
    room = custom_room(event)
    session = event.sessions.get()
    session.room = room
    session.save()
    client.force_login(trainer)
    html = client.get(reverse("seminars:room", args=[room.pk])).content.decode()
    join = reverse("seminars:virtual_join", args=[session.pk])
    assert "Go to room" in html and join in html
    assert client.get(join)["Location"] == "https://meet.example.com/spring"


def test_the_custom_link_is_hidden_from_a_booked_learner_until_15_minutes_before(client, learner, event):
    room = custom_room(event)
    session = event.sessions.get()
    session.room = room
    session.save()
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    client.force_login(learner)
    html = client.get(reverse("seminars:room", args=[room.pk])).content.decode()
    join = reverse("seminars:virtual_join", args=[session.pk])
    assert "https://meet.example.com/spring" not in html
    assert "Virtual room will open 15 minutes before next session" in html
    assert join not in html
    assert client.get(join)["Location"] != "https://meet.example.com/spring"

    session.start = timezone.now() + timedelta(minutes=10)
    session.finish = session.start + timedelta(hours=1)
    session.save()
    html = client.get(reverse("seminars:room", args=[room.pk])).content.decode()
    # The raw link never reaches the page: "Join now" goes through our URL, which re-checks the time.
    assert "https://meet.example.com/spring" not in html
    assert "Join now" in html and join in html
    assert client.get(join)["Location"] == "https://meet.example.com/spring"


# --- Constant number of queries -------------------------------------------------------------------


def add_room_use(room, first, count, *, viewer):
    """Sessions of `count` events, each in its own course (where `viewer` is enrolled), in `room`."""
    for n in range(first, first + count):
        course = Course.objects.create(name=f"Course {n}")
        seminar = Seminar.objects.create(course=course, name=f"Seminar {n}")
        event = SeminarEvent.objects.create(seminar=seminar, name=f"Event {n}", capacity=3)
        make_session(event, datetime(2031, 1, 1, 9, 0) + timedelta(days=n), zone="Europe/London", room=room)
        if not viewer.is_superuser and not viewer.is_staff:
            enrol(viewer, course)


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("viewer_fixture", ["site_admin", "outsider"])
def test_room_page_queries_do_not_grow_with_its_sessions(
    client, site_room, viewer_fixture, request, django_assert_max_num_queries
):
    viewer = request.getfixturevalue(viewer_fixture)
    client.force_login(viewer)
    url = reverse("seminars:room", args=[site_room.pk])
    add_room_use(site_room, 0, 2, viewer=viewer)
    small = count_queries(client, url)
    add_room_use(site_room, 2, 30, viewer=viewer)
    with django_assert_max_num_queries(small):
        response = client.get(url)
    html = response.content.decode()
    assert "Seminar 0: Event 0" in html and "Seminar 31: Event 31" in html


def test_site_rooms_list_queries_do_not_grow_with_rooms_or_sessions(
    admin_client, seminar, django_assert_max_num_queries
):
    url = reverse("seminars:site_rooms")
    event = SeminarEvent.objects.create(seminar=seminar, name="Busy", capacity=3)
    for n in range(2):
        make_session(
            event, datetime(2031, 1, 1, 9) + timedelta(days=n), room=Room.objects.create(name=f"R{n}", capacity=5)
        )
    small = count_queries(admin_client, url)
    for n in range(2, 40):
        room = Room.objects.create(name=f"R{n}", capacity=5)
        make_session(event, datetime(2031, 1, 1, 9) + timedelta(days=n), room=room)
        Room.objects.create(name=f"Ad-hoc {n}", capacity=2, event=event)
    with django_assert_max_num_queries(small):
        response = admin_client.get(url)
    html = response.content.decode()
    assert "R39" in html and "Ad-hoc 39" not in html


def test_room_json_is_plain_data(admin_client, site_room):
    body = available(admin_client, "2030-06-10T11:00", "2030-06-10T12:00").json()
    assert json.loads(json.dumps(body))["rooms"][0] == {
        "id": site_room.pk,
        "name": "Training room 1",
        "capacity": 20,
        "description": "Ground floor, by the lifts.",
        "url": reverse("seminars:room", args=[site_room.pk]),
    }
