"""The event editor: saving an event with its sessions and ad-hoc rooms, every validation
(shown next to the field or session row that caused it, nothing saved), the atomic save,
and what saving, cancelling and deleting set off."""

import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from seminars.models import Booking, Notification, Room, SeminarEvent, Session
from seminars.services.events import event_save
from seminars.tests.conftest import event_post_data, make_session, make_user

UTC = ZoneInfo("UTC")


def field_errors(html: str, field_id: str) -> str:
    """The error list rendered right under one field (empty when there is none)."""
    match = re.search(rf'<ul class="errorlist" id="{re.escape(field_id)}_errors">(.*?)</ul>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", " ", match.group(1))) if match else ""


def row_html(html: str, index: int) -> str:
    for part in html.split('<section class="card session-row')[1:]:
        if f'name="sessions-{index}-start"' in part:
            return part.split("</section>")[0]
    raise AssertionError(f"no session row {index} on the page")


def row_errors(html: str, index: int) -> str:
    match = re.search(r"<ul class=\"errorlist nonfield\" data-row-errors>(.*?)</ul>", row_html(html, index), re.S)
    return unescape(re.sub(r"<[^>]+>", " ", match.group(1))) if match else ""


@pytest.fixture
def trainer_client(client, editing_trainer):
    client.force_login(editing_trainer)
    return client


@pytest.fixture
def add_url(seminar):
    return reverse("seminars:event_add", args=[seminar.pk])


def counts():
    return SeminarEvent.objects.count(), Session.objects.count(), Room.objects.count()


def other_event_in(room, seminar, start_local, minutes=120, zone="UTC"):
    other = SeminarEvent.objects.create(seminar=seminar, name="Other intake", capacity=5)
    make_session(other, start_local, minutes=minutes, zone=zone, room=room)
    return other


# --- Saving ---------------------------------------------------------------------


def test_add_event_saves_event_sessions_and_rooms(trainer_client, add_url, seminar, site_room, editing_trainer):
    data = event_post_data(
        name="Summer intake",
        capacity=12,
        waitlist_enabled="on",
        sessions=[
            {
                "start": "2030-06-10T09:00",
                "finish": "2030-06-10T12:00",
                "zone": "Europe/London",
                "room": {"mode": "site", "id": site_room.pk, "name": site_room.name},
            },
            {
                "start": "2030-06-11T09:00",
                "finish": "2030-06-11T10:30",
                "zone": "Europe/Berlin",
                "room": {
                    "mode": "new",
                    "name": "Online room",
                    "capacity": "30",
                    "description": "Bring headphones.",
                    "virtual_kind": "custom",
                    "virtual_url": "https://meet.example.com/summer",
                },
            },
        ],
    )
    response = trainer_client.post(add_url, data)

    event = SeminarEvent.objects.get(name="Summer intake")
    assert response.status_code == 302
    assert response["Location"] == reverse("seminars:event", args=[event.pk])
    assert (event.capacity, event.waitlist_enabled, event.created_by) == (12, True, editing_trainer)
    first, second = event.sessions.order_by("start")
    assert first.start == datetime(2030, 6, 10, 8, 0, tzinfo=UTC)  # BST is UTC+1
    assert first.finish == datetime(2030, 6, 10, 11, 0, tzinfo=UTC)
    assert first.room == site_room
    assert second.start == datetime(2030, 6, 11, 7, 0, tzinfo=UTC)  # CEST is UTC+2
    assert second.time_zone == "Europe/Berlin"
    adhoc = second.room
    assert (adhoc.event, adhoc.name, adhoc.capacity, adhoc.created_by) == (event, "Online room", 30, editing_trainer)
    assert (adhoc.virtual_kind, adhoc.virtual_url) == ("custom", "https://meet.example.com/summer")
    assert not Room.objects.filter(event__isnull=True).exclude(pk=site_room.pk).exists()


def test_event_without_sessions_is_saved_as_waitlist_only(trainer_client, add_url):
    response = trainer_client.post(add_url, event_post_data(name="Dates to follow"))
    event = SeminarEvent.objects.get(name="Dates to follow")
    assert response.status_code == 302
    assert event.sessions.count() == 0


def test_a_blank_session_row_added_in_the_browser_is_ignored(trainer_client, add_url):
    data = event_post_data(name="One real row", sessions=[{"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00"}])
    data.update(
        {"sessions-TOTAL_FORMS": "2", "sessions-1-start": "", "sessions-1-finish": "", "sessions-1-time_zone": "UTC"}
    )
    response = trainer_client.post(add_url, data)
    assert response.status_code == 302
    assert SeminarEvent.objects.get(name="One real row").sessions.count() == 1


def test_a_removed_row_does_not_block_saving(trainer_client, add_url):
    sessions = [
        {"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00"},
        {"start": "half past nine", "finish": "", "zone": "Nowhere/Special", "delete": True},
    ]
    response = trainer_client.post(add_url, event_post_data(name="One kept", sessions=sessions))
    assert response.status_code == 302
    assert SeminarEvent.objects.get(name="One kept").sessions.count() == 1


def test_edit_form_shows_saved_sessions_in_their_own_zone(trainer_client, event):
    session = event.sessions.get()
    local = session.start.astimezone(ZoneInfo("Europe/London"))
    response = trainer_client.get(reverse("seminars:event_edit", args=[event.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{local:%Y-%m-%dT%H:%M}"' in row_html(html, 0)
    assert 'value="Europe/London"' in row_html(html, 0)


def test_editing_moves_a_session_removes_another_and_cleans_up_its_adhoc_room(trainer_client, event, seminar):
    keep = event.sessions.get()
    extra_room = Room.objects.create(name="Annex", capacity=8, event=event)
    drop = make_session(event, datetime(2030, 1, 5, 9, 0), zone="UTC", room=extra_room)
    data = event_post_data(
        name=event.name,
        capacity=event.capacity,
        initial_forms=2,
        sessions=[
            {"id": keep.pk, "start": "2030-01-04T14:00", "finish": "2030-01-04T15:00", "zone": "Europe/Paris"},
            {"id": drop.pk, "start": "2030-01-05T09:00", "finish": "2030-01-05T10:00", "delete": True},
        ],
    )
    response = trainer_client.post(reverse("seminars:event_edit", args=[event.pk]), data)

    assert response.status_code == 302
    keep.refresh_from_db()
    assert (keep.start, keep.time_zone) == (datetime(2030, 1, 4, 13, 0, tzinfo=UTC), "Europe/Paris")
    assert not Session.objects.filter(pk=drop.pk).exists()
    assert not Room.objects.filter(pk=extra_room.pk).exists()


def test_an_adhoc_room_is_edited_in_place(trainer_client, event):
    session = event.sessions.get()
    room = Room.objects.create(name="Old name", capacity=5, event=event)
    session.room = room
    session.save()
    local = session.start.astimezone(ZoneInfo("Europe/London"))
    data = event_post_data(
        name=event.name,
        capacity=event.capacity,
        initial_forms=1,
        sessions=[
            {
                "id": session.pk,
                "start": f"{local:%Y-%m-%dT%H:%M}",
                "finish": f"{local + timedelta(hours=1):%Y-%m-%dT%H:%M}",
                "zone": "Europe/London",
                "room": {"mode": "adhoc", "id": room.pk, "name": "New name", "capacity": 9, "virtual_kind": ""},
            }
        ],
    )
    response = trainer_client.post(reverse("seminars:event_edit", args=[event.pk]), data)
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.name, room.capacity, room.event_id) == ("New name", 9, event.pk)
    assert Room.objects.count() == 1


# --- Validation: message next to the cause, nothing saved --------------------------------


def post_invalid(client, url, data):
    before = counts()
    response = client.post(url, data)
    assert response.status_code == 200, "an invalid form is shown again, not redirected"
    assert counts() == before, "nothing is saved"
    html = response.content.decode()
    assert "Nothing was saved" in html
    return html


def test_finish_before_start_is_refused_on_the_finish_field(trainer_client, add_url):
    html = post_invalid(
        trainer_client, add_url, event_post_data(sessions=[{"start": "2030-06-10T10:00", "finish": "2030-06-10T09:00"}])
    )
    assert "The finish must be after the start." in field_errors(html, "id_sessions-0-finish")


def test_finish_equal_to_start_is_refused(trainer_client, add_url):
    html = post_invalid(
        trainer_client, add_url, event_post_data(sessions=[{"start": "2030-06-10T10:00", "finish": "2030-06-10T10:00"}])
    )
    assert "The finish must be after the start." in field_errors(html, "id_sessions-0-finish")


def test_overlapping_sessions_are_refused_on_the_later_row(trainer_client, add_url):
    sessions = [
        {"start": "2030-06-10T09:00", "finish": "2030-06-10T12:00"},
        {"start": "2030-06-10T11:00", "finish": "2030-06-10T13:00"},
    ]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert "This session overlaps session 1." in row_errors(html, 1)
    assert row_errors(html, 0) == ""


def test_overlap_is_found_across_time_zones(trainer_client, add_url):
    sessions = [
        {"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "zone": "Europe/London"},  # 08:00 UTC
        {"start": "2030-06-10T10:30", "finish": "2030-06-10T11:30", "zone": "Europe/Berlin"},  # 08:30 UTC
    ]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert "This session overlaps session 1." in row_errors(html, 1)


NINE_TO_TEN = {"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00"}
NINE_TO_ELEVEN = {"start": "2030-06-10T09:00", "finish": "2030-06-10T11:00"}
TEN_TO_ELEVEN = {"start": "2030-06-10T10:00", "finish": "2030-06-10T11:00"}


@pytest.mark.parametrize(
    "first, second, message",
    [
        (NINE_TO_TEN, NINE_TO_ELEVEN, "starts at the same time as session 1."),
        (NINE_TO_ELEVEN, TEN_TO_ELEVEN, "finishes at the same time as session 1."),
    ],
    ids=["same start", "same finish"],
)
def test_sessions_sharing_a_start_or_finish_are_refused(trainer_client, add_url, first, second, message):
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=[first, second]))
    assert f"This session {message}" in row_errors(html, 1)


def test_back_to_back_sessions_are_fine(trainer_client, add_url):
    sessions = [
        {"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00"},
        {"start": "2030-06-10T10:00", "finish": "2030-06-10T11:00"},
    ]
    response = trainer_client.post(add_url, event_post_data(name="Back to back", sessions=sessions))
    assert response.status_code == 302
    assert SeminarEvent.objects.get(name="Back to back").sessions.count() == 2


def test_unknown_time_zone_is_refused_on_the_zone_field(trainer_client, add_url):
    sessions = [{"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "zone": "Europe/Atlantis"}]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert "Unknown time zone" in field_errors(html, "id_sessions-0-time_zone")


def test_malformed_date_is_refused_on_its_field(trainer_client, add_url):
    html = post_invalid(
        trainer_client, add_url, event_post_data(sessions=[{"start": "next tuesday", "finish": "2030-06-10T10:00"}])
    )
    assert "Enter a date and time" in field_errors(html, "id_sessions-0-start")


@pytest.mark.parametrize("capacity", ["0", "-3", "ten"])
def test_capacity_below_one_is_refused_on_the_capacity_field(trainer_client, add_url, capacity):
    html = post_invalid(trainer_client, add_url, event_post_data(capacity=capacity))
    assert "Capacity must be a whole number of at least 1." in field_errors(html, "id_capacity")


def test_capacity_below_the_booked_count_is_refused(trainer_client, event, learner, learner2):
    event.capacity = 3
    event.save()
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    Booking.objects.create(event=event, user=learner2, state=Booking.State.FULLY_ATTENDED)
    session = event.sessions.get()
    local = session.start.astimezone(ZoneInfo("Europe/London"))
    finish = session.finish.astimezone(ZoneInfo("Europe/London"))
    data = event_post_data(
        name=event.name,
        capacity=1,
        initial_forms=1,
        sessions=[
            {
                "id": session.pk,
                "start": f"{local:%Y-%m-%dT%H:%M}",
                "finish": f"{finish:%Y-%m-%dT%H:%M}",
                "zone": "Europe/London",
            }
        ],
    )
    html = post_invalid(trainer_client, reverse("seminars:event_edit", args=[event.pk]), data)
    assert "Capacity cannot be less than the 2 learners already booked." in field_errors(html, "id_capacity")
    event.refresh_from_db()
    assert event.capacity == 3


def test_site_room_booked_by_another_event_at_an_overlapping_time_is_refused(
    trainer_client, add_url, seminar, site_room
):
    other_event_in(site_room, seminar, datetime(2030, 6, 10, 10, 0))
    sessions = [
        {"start": "2030-06-09T09:00", "finish": "2030-06-09T10:00"},
        {
            "start": "2030-06-10T11:00",
            "finish": "2030-06-10T13:00",
            "room": {"mode": "site", "id": site_room.pk, "name": site_room.name},
        },
    ]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert "Training room 1 is already booked by another event at this time." in field_errors(
        html, "id_sessions-1-room"
    )
    assert field_errors(html, "id_sessions-0-room") == ""


def test_site_room_that_allows_conflicts_can_be_double_booked(trainer_client, add_url, seminar, site_room):
    site_room.allow_conflicts = True
    site_room.save()
    other_event_in(site_room, seminar, datetime(2030, 6, 10, 10, 0))
    sessions = [
        {"start": "2030-06-10T11:00", "finish": "2030-06-10T13:00", "room": {"mode": "site", "id": site_room.pk}}
    ]
    response = trainer_client.post(add_url, event_post_data(name="Shared", sessions=sessions))
    assert response.status_code == 302
    assert SeminarEvent.objects.get(name="Shared").sessions.get().room == site_room


def test_a_cancelled_events_session_does_not_hold_a_site_room(trainer_client, add_url, seminar, site_room):
    other = other_event_in(site_room, seminar, datetime(2030, 6, 10, 10, 0))
    other.cancelled = True
    other.save()
    sessions = [
        {"start": "2030-06-10T11:00", "finish": "2030-06-10T13:00", "room": {"mode": "site", "id": site_room.pk}}
    ]
    response = trainer_client.post(add_url, event_post_data(name="Takes over", sessions=sessions))
    assert response.status_code == 302


def new_room(**fields):
    return {"mode": "new", "name": "Pop-up room", "capacity": 10, "description": "", "virtual_kind": "", **fields}


def test_malformed_custom_url_is_refused_on_the_room(trainer_client, add_url):
    room = new_room(virtual_kind="custom", virtual_url="meet example com/abc")
    sessions = [{"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "room": room}]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert "Enter a valid web address starting with https:// or http://." in field_errors(html, "id_sessions-0-room")


def test_javascript_url_is_refused_as_a_custom_link(trainer_client, add_url):
    room = new_room(virtual_kind="custom", virtual_url="javascript:alert(1)")
    sessions = [{"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "room": room}]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert "Enter a valid web address" in field_errors(html, "id_sessions-0-room")


@pytest.mark.parametrize("capacity", [0, "", "many"])
def test_room_capacity_below_one_is_refused_on_the_room(trainer_client, add_url, capacity):
    sessions = [{"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "room": new_room(capacity=capacity)}]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert "Room capacity must be a whole number of at least 1." in field_errors(html, "id_sessions-0-room")


def test_room_without_a_name_is_refused(trainer_client, add_url):
    sessions = [{"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "room": new_room(name="  ")}]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert "Enter the room's name." in field_errors(html, "id_sessions-0-room")


def test_another_events_adhoc_room_cannot_be_taken(trainer_client, add_url, event):
    foreign = Room.objects.create(name="Theirs", capacity=5, event=event)
    room = {"mode": "adhoc", "id": foreign.pk, "name": "Mine now", "capacity": 5}
    sessions = [{"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "room": room}]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert "This room does not belong to this event." in field_errors(html, "id_sessions-0-room")
    foreign.refresh_from_db()
    assert foreign.name == "Theirs"


def test_a_tampered_room_choice_is_refused(trainer_client, add_url):
    data = event_post_data(sessions=[{"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00"}])
    data["sessions-0-room"] = '{"mode": "site", "id": "drop table"}'
    html = post_invalid(trainer_client, add_url, data)
    assert "The room choice is not valid." in field_errors(html, "id_sessions-0-room")


def test_a_provider_room_needs_a_connected_account(trainer_client, add_url, settings):
    from virtualmeeting.models import ProviderConfig

    settings.VIRTUALMEETING = {
        **settings.VIRTUALMEETING,
        "PROVIDERS": ["virtualmeeting.providers.testing.TestProvider"],
    }
    ProviderConfig.objects.create(provider="test", enabled=True)
    room = new_room(virtual_kind="test")
    sessions = [{"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "room": room}]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert "Connect your account before saving this room." in field_errors(html, "id_sessions-0-room")


def test_a_provider_room_is_saved_once_connected(trainer_client, add_url, settings, editing_trainer):
    from virtualmeeting.models import ProviderConfig, ProviderConnection

    settings.VIRTUALMEETING = {
        **settings.VIRTUALMEETING,
        "PROVIDERS": ["virtualmeeting.providers.testing.TestProvider"],
    }
    ProviderConfig.objects.create(provider="test", enabled=True)
    ProviderConnection.objects.create(
        user=editing_trainer, provider="test", remote_account_id="u1", access_token="token", refresh_token="refresh"
    )
    sessions = [{"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "room": new_room(virtual_kind="test")}]
    response = trainer_client.post(add_url, event_post_data(name="Online", sessions=sessions))
    assert response.status_code == 302
    room = SeminarEvent.objects.get(name="Online").sessions.get().room
    assert (room.virtual_kind, room.created_by) == ("test", editing_trainer)


def test_an_unknown_virtual_link_option_is_refused(trainer_client, add_url):
    sessions = [{"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "room": new_room(virtual_kind="skype")}]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert "This virtual room link is not available." in field_errors(html, "id_sessions-0-room")


def test_several_problems_are_all_reported_at_once(trainer_client, add_url):
    sessions = [
        {"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00"},
        {"start": "2030-06-10T09:30", "finish": "2030-06-10T11:00"},
        {"start": "2030-06-11T12:00", "finish": "2030-06-11T11:00"},
        {"start": "2030-03-31T01:30", "finish": "2030-03-31T03:00", "zone": "Europe/London"},
    ]
    html = post_invalid(trainer_client, add_url, event_post_data(capacity=0, sessions=sessions))
    assert "Capacity must be" in field_errors(html, "id_capacity")
    assert "This session overlaps session 1." in row_errors(html, 1)
    assert "The finish must be after the start." in field_errors(html, "id_sessions-2-finish")
    assert "does not exist" in field_errors(html, "id_sessions-3-start")


def test_the_invalid_form_keeps_what_was_typed_and_the_room_chosen(trainer_client, add_url):
    room = new_room(name="Kept room", virtual_kind="custom", virtual_url="not a url")
    sessions = [{"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "room": room}]
    html = post_invalid(trainer_client, add_url, event_post_data(name="Kept name", sessions=sessions))
    assert 'value="Kept name"' in html
    assert "Kept room" in row_html(html, 0)
    assert 'value="2030-06-10T09:00"' in row_html(html, 0)


# --- Atomic save ----------------------------------------------------------------------


def test_a_failure_in_the_last_session_leaves_nothing_saved(seminar, site_room, editing_trainer):
    other_event_in(site_room, seminar, datetime(2030, 6, 12, 9, 0))
    before = counts()
    data = {
        "name": "All or nothing",
        "capacity": 10,
        "sessions": [
            {
                "start": datetime(2030, 6, 10, 9, tzinfo=UTC),
                "finish": datetime(2030, 6, 10, 10, tzinfo=UTC),
                "time_zone": "UTC",
                "room": new_room(name="Fresh ad-hoc room"),
            },
            {
                "start": datetime(2030, 6, 11, 9, tzinfo=UTC),
                "finish": datetime(2030, 6, 11, 10, tzinfo=UTC),
                "time_zone": "UTC",
            },
            {
                "start": datetime(2030, 6, 12, 9, 30, tzinfo=UTC),
                "finish": datetime(2030, 6, 12, 10, 30, tzinfo=UTC),
                "time_zone": "UTC",
                "room": {"mode": "site", "id": site_room.pk},
            },
        ],
    }
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError) as raised:
        event_save(event_or_none=None, seminar=seminar, data=data, actor=editing_trainer)

    assert "sessions.2.room" in raised.value.message_dict
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    # The event, the first two sessions and the new ad-hoc room were written before the
    # conflict showed up; the transaction took them all back.
    assert any('"seminars_room"' in sql for sql in inserts)
    assert sum('"seminars_session"' in sql for sql in inserts) == 2
    assert any('"seminars_seminarevent"' in sql for sql in inserts)
    assert counts() == before
    assert not Room.objects.filter(name="Fresh ad-hoc room").exists()


def test_a_failed_edit_leaves_the_event_as_it_was(seminar, site_room, event, editing_trainer):
    session = event.sessions.get()
    original = (session.start, session.finish)
    other_event_in(site_room, seminar, datetime(2030, 6, 12, 9, 0))
    data = {
        "name": "Renamed",
        "capacity": 7,
        "sessions": [
            {
                "id": session.pk,
                "start": datetime(2030, 6, 1, 9, tzinfo=UTC),
                "finish": datetime(2030, 6, 1, 10, tzinfo=UTC),
                "time_zone": "UTC",
                "room": new_room(),
            },
            {
                "start": datetime(2030, 6, 12, 9, tzinfo=UTC),
                "finish": datetime(2030, 6, 12, 10, tzinfo=UTC),
                "time_zone": "UTC",
                "room": {"mode": "site", "id": site_room.pk},
            },
        ],
    }
    with pytest.raises(ValidationError):
        event_save(event_or_none=event, seminar=seminar, data=data, actor=editing_trainer)
    event.refresh_from_db()
    session.refresh_from_db()
    assert (event.name, event.capacity) == ("Spring intake", 2)
    assert (session.start, session.finish, session.room) == (*original, None)
    assert event.sessions.count() == 1
    assert not event.adhoc_rooms.exists()


# --- What a save sets off ---------------------------------------------------------------


def test_changed_times_notify_booked_learners_after_commit(
    trainer_client, event, learner, django_capture_on_commit_callbacks
):
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    session = event.sessions.get()
    data = event_post_data(
        name=event.name,
        capacity=event.capacity,
        initial_forms=1,
        sessions=[
            {"id": session.pk, "start": "2030-02-01T09:00", "finish": "2030-02-01T10:00", "zone": "Europe/London"}
        ],
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = trainer_client.post(reverse("seminars:event_edit", args=[event.pk]), data)
    assert response.status_code == 302
    assert callbacks, "the notification waits for the commit"
    assert Notification.objects.filter(user=learner, subject__startswith="New times").exists()


def test_unchanged_times_notify_nobody(trainer_client, event, learner, django_capture_on_commit_callbacks):
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    session = event.sessions.get()
    start = session.start.astimezone(ZoneInfo("Europe/London"))
    finish = session.finish.astimezone(ZoneInfo("Europe/London"))
    data = event_post_data(
        name="Renamed only",
        capacity=event.capacity,
        initial_forms=1,
        sessions=[
            {
                "id": session.pk,
                "start": f"{start:%Y-%m-%dT%H:%M}",
                "finish": f"{finish:%Y-%m-%dT%H:%M}",
                "zone": "Europe/London",
            }
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = trainer_client.post(reverse("seminars:event_edit", args=[event.pk]), data)
    assert response.status_code == 302
    assert not Notification.objects.filter(user=learner, subject__startswith="New times").exists()


def test_adding_dates_to_a_waitlist_only_event_books_the_waitlist(trainer_client, seminar, learner):
    event = SeminarEvent.objects.create(seminar=seminar, name="Dates to follow", capacity=5, waitlist_enabled=True)
    booking = Booking.objects.create(event=event, user=learner, state=Booking.State.WAITLISTED)
    data = event_post_data(
        name=event.name,
        capacity=5,
        waitlist_enabled="on",
        sessions=[{"start": "2030-03-01T09:00", "finish": "2030-03-01T10:00"}],
    )
    response = trainer_client.post(reverse("seminars:event_edit", args=[event.pk]), data)
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.state == Booking.State.BOOKED


def test_more_capacity_books_the_waitlist(trainer_client, event, learner, learner2):
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    Booking.objects.create(event=event, user=make_user("lars"), state=Booking.State.BOOKED)
    waiting = Booking.objects.create(event=event, user=learner2, state=Booking.State.WAITLISTED)
    session = event.sessions.get()
    start = session.start.astimezone(ZoneInfo("Europe/London"))
    finish = session.finish.astimezone(ZoneInfo("Europe/London"))
    data = event_post_data(
        name=event.name,
        capacity=3,
        initial_forms=1,
        sessions=[
            {
                "id": session.pk,
                "start": f"{start:%Y-%m-%dT%H:%M}",
                "finish": f"{finish:%Y-%m-%dT%H:%M}",
                "zone": "Europe/London",
            }
        ],
    )
    response = trainer_client.post(reverse("seminars:event_edit", args=[event.pk]), data)
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.state == Booking.State.BOOKED


# --- Cancel and delete -------------------------------------------------------------------


def test_cancel_event_asks_first_then_keeps_the_data(trainer_client, event, learner):
    booking = Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    url = reverse("seminars:event_cancel", args=[event.pk])
    page = trainer_client.get(url)
    assert page.status_code == 200
    assert "Cancel event" in page.content.decode()
    event.refresh_from_db()
    assert not event.cancelled

    response = trainer_client.post(url)
    assert response.status_code == 302
    event.refresh_from_db()
    booking.refresh_from_db()
    assert event.cancelled and event.cancelled_at is not None
    assert event.sessions.count() == 1
    assert booking.state == Booking.State.EVENT_CANCELLED


def test_a_cancelled_event_cannot_be_edited(trainer_client, event):
    event.cancelled = True
    event.save()
    response = trainer_client.post(reverse("seminars:event_edit", args=[event.pk]), event_post_data(name="Sneaky"))
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.name == "Spring intake"


def test_delete_event_asks_first_then_removes_it(trainer_client, event, seminar):
    Room.objects.create(name="Ad-hoc", capacity=3, event=event)
    url = reverse("seminars:event_delete", args=[event.pk])
    assert trainer_client.get(url).status_code == 200
    assert SeminarEvent.objects.filter(pk=event.pk).exists()

    response = trainer_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("seminars:seminar", args=[seminar.pk])
    assert not SeminarEvent.objects.filter(pk=event.pk).exists()
    assert not Room.objects.filter(event_id=event.pk).exists()


def test_deleting_an_event_removes_its_meetings_first(seminar, editing_trainer, settings):
    from virtualmeeting.models import ProviderConfig, ProviderConnection, VirtualMeeting

    settings.VIRTUALMEETING = {
        **settings.VIRTUALMEETING,
        "PROVIDERS": ["virtualmeeting.providers.testing.TestProvider"],
    }
    ProviderConfig.objects.create(provider="test", enabled=True)
    ProviderConnection.objects.create(
        user=editing_trainer, provider="test", remote_account_id="u1", access_token="token", refresh_token="refresh"
    )
    data = {
        "name": "Online",
        "capacity": 5,
        "sessions": [
            {
                "start": datetime(2030, 6, 10, 9, tzinfo=UTC),
                "finish": datetime(2030, 6, 10, 10, tzinfo=UTC),
                "time_zone": "UTC",
                "room": new_room(virtual_kind="test"),
            }
        ],
    }
    event = event_save(event_or_none=None, seminar=seminar, data=data, actor=editing_trainer)
    meeting = VirtualMeeting.objects.get()
    assert meeting.present

    from seminars.services.events import event_delete

    event_delete(event=event, actor=editing_trainer)
    meeting.refresh_from_db()
    assert not meeting.present


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_saves_racing_for_one_site_room_book_it_once(seminar, site_room, editing_trainer):
    """Each save locks the chosen site rooms before checking them, so the second waits and sees the first."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(2)
    results = []

    def save(name, start_hour):
        data = {
            "name": name,
            "capacity": 5,
            "sessions": [
                {
                    "start": datetime(2030, 6, 10, start_hour, tzinfo=UTC),
                    "finish": datetime(2030, 6, 10, start_hour + 2, tzinfo=UTC),
                    "time_zone": "UTC",
                    "room": {"mode": "site", "id": site_room.pk},
                }
            ],
        }
        try:
            barrier.wait(timeout=10)
            event_save(event_or_none=None, seminar=seminar, data=data, actor=editing_trainer)
            results.append("saved")
        except ValidationError:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=args) for args in (("First", 9), ("Second", 10))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == ["refused", "saved"]
    assert Session.objects.filter(room=site_room).count() == 1
    assert SeminarEvent.objects.filter(name__in=["First", "Second"]).count() == 1
