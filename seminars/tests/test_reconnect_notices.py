"""A connection that lacks the scopes of attendance or recordings keeps making meetings, and its owner is
told "Reconnect to enable attendance" (or recordings), naming the scopes, on the room card and the profile."""

import re

import pytest
from django.urls import reverse

from seminars.models import Room
from seminars.tests.conftest import connect
from seminars.tests.test_virtual_meetings import NEW_ZOOM_ROOM, row, save
from virtualmeeting.models import VirtualMeeting

ATTENDANCE = "Reconnect to enable attendance: the Test Meeting connection lacks the scope participants:read."
RECORDINGS = "Reconnect to enable recordings: the Test Meeting connection lacks the scopes recordings:read, cloud:list."


@pytest.fixture(autouse=True)
def test_provider(test_provider):
    """The test provider, asking for scopes of its own for attendance and recordings."""
    test_provider.require_scopes("attendance", ["participants:read"])
    test_provider.require_scopes("recordings", ["recordings:read", "cloud:list"])
    return test_provider


@pytest.fixture
def room(event, editing_trainer):
    connect(editing_trainer)  # scopes "meeting:write": none of the capabilities' scopes
    room = Room.objects.create(name="Online", capacity=10, event=event, virtual_kind="test", created_by=editing_trainer)
    event.sessions.update(room=room)
    return room


def text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'")


def room_card(client, user, room):
    client.force_login(user)
    return text(client.get(reverse("seminars:room_card", args=[room.pk])).content.decode())


def test_the_owner_is_told_what_to_reconnect_for_on_the_room_card_and_its_page(client, room, editing_trainer):
    card = room_card(client, editing_trainer, room)
    assert ATTENDANCE in card and RECORDINGS in card
    assert "Meetings are still created and updated meanwhile." in card
    page = text(client.get(reverse("seminars:room", args=[room.pk])).content.decode())
    assert ATTENDANCE in page
    assert reverse("seminars:profile") in client.get(reverse("seminars:room_card", args=[room.pk])).content.decode()


@pytest.mark.parametrize("who", ["trainer", "site_admin", "learner"])
def test_nobody_but_the_owner_is_told(client, room, request, who):
    card = room_card(client, request.getfixturevalue(who), room)
    assert "Reconnect to enable" not in card


def test_the_profile_names_the_missing_scopes_per_connection(client, editing_trainer):
    connect(editing_trainer)
    client.force_login(editing_trainer)
    page = text(client.get(reverse("seminars:profile")).content.decode())
    assert ATTENDANCE in page and RECORDINGS in page
    assert "Connected" in page  # the connection works: nothing else is wrong with it


def test_a_connection_with_every_scope_says_nothing(client, room, editing_trainer):
    connect(editing_trainer, scopes="meeting:write participants:read recordings:read cloud:list")
    assert "Reconnect to enable" not in room_card(client, editing_trainer, room)
    assert "Reconnect to enable" not in text(client.get(reverse("seminars:profile")).content.decode())


def test_only_what_is_missing_is_named(client, room, editing_trainer):
    connect(editing_trainer, scopes="meeting:write participants:read recordings:read")
    card = room_card(client, editing_trainer, room)
    assert "Reconnect to enable attendance" not in card
    assert "Reconnect to enable recordings: the Test Meeting connection lacks the scope cloud:list." in card


def test_meetings_keep_being_made_without_the_scopes(
    client, event, editing_trainer, test_provider, django_capture_on_commit_callbacks
):
    connect(editing_trainer)
    client.force_login(editing_trainer)
    save(client, event, [row(event.sessions.get(), room=NEW_ZOOM_ROOM)], django_capture_on_commit_callbacks)
    assert test_provider.calls("create") == 1
    assert VirtualMeeting.objects.get().status == "available"
