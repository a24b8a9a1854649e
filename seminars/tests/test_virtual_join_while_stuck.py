"""An existing meeting stays joinable while its update waits, fails or is held.

The provider still has the meeting (remote id and join URL stored), so the same
visibility matrix holds as for an available meeting, on both sides of the
15-minute boundary, on the card, the pages and at click time; the owner, staff
and admins are told the provider still has the previous time.
"""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from seminars.tests import test_virtual_visibility as visibility
from seminars.tests.test_virtual_visibility import EXPECTED, JOIN_URL, MOMENTS, booking_state
from seminars.virtual_room import UPDATING, session_access
from virtualmeeting.models import VirtualMeeting
from virtualmeeting.tests.conftest import connect

STUCK = ["waiting", "failed", "held", "pending"]

setup = visibility.setup  # the same cast, room and available meeting as the visibility matrix


def _move_session_while_stuck(session, status):
    """The session moved an hour later; Zoom still has the old start because the update is `status`."""
    meeting = VirtualMeeting.objects.get()
    old_start = meeting.start
    meeting.synced_spec = {
        "topic": "Fire wardens",
        "start": old_start.isoformat(),
        "finish": meeting.finish.isoformat(),
        "timezone": session.time_zone,
        "agenda": "",
    }
    meeting.synced_version = 1
    meeting.desired_version = 2
    meeting.start = session.start = old_start + timedelta(hours=1)
    meeting.finish = session.finish = session.finish + timedelta(hours=1)
    session.save()
    meeting.status = status
    meeting.last_error = "Zoom refused the update." if status == "failed" else ""
    meeting.waiting_daily_limit = status == "waiting"
    meeting.next_attempt_at = session.start + timedelta(hours=5)
    meeting.save()
    return meeting


@pytest.mark.parametrize("status", STUCK)
@pytest.mark.parametrize("moment", list(MOMENTS))
@pytest.mark.parametrize("role", list(EXPECTED))
def test_the_visibility_matrix_holds_while_an_update_is_stuck(setup, role, moment, status):
    session, room, people = setup
    meeting = _move_session_while_stuck(session, status)
    user = people[role]
    now = session.start + timedelta(minutes=MOMENTS[moment])
    access = session_access(
        user=user, session=session, booking_state=booking_state(user, session.event), meeting=meeting, now=now
    )
    expected = EXPECTED[role][moment]
    if isinstance(expected, list):
        assert [label for label, _url in access.buttons] == expected
        assert access.can_join
    else:
        assert access.buttons == [] and not access.can_join
        assert access.message == expected


@pytest.mark.parametrize("status", ["waiting", "failed", "held"])
@pytest.mark.parametrize("role", ["owner", "admin", "trainer"])
def test_staff_are_told_zoom_still_has_the_previous_time(client, setup, role, status):
    session, room, people = setup
    _move_session_while_stuck(session, status)
    client.force_login(people[role])
    card = client.get(reverse("seminars:room_card", args=[room.pk])).content.decode()
    assert "still has the previous time" in card
    assert "the link works meanwhile" in card
    assert ("Go to room" in card) or ("Host meeting" in card)


def test_learners_are_not_told_about_the_stuck_update(client, setup):
    session, room, people = setup
    _move_session_while_stuck(session, "failed")
    client.force_login(people["booked"])
    with time_machine.travel(session.start, tick=False):
        card = client.get(reverse("seminars:room_card", args=[room.pk])).content.decode()
    assert "Join now" in card
    assert "previous time" not in card and "refused" not in card


@pytest.mark.parametrize("status", ["waiting", "failed"])
@pytest.mark.parametrize("minutes, allowed", [(-16, False), (-15, True)], ids=["-16", "-15"])
def test_join_now_redirects_at_click_time_like_the_card_says(client, setup, status, minutes, allowed):
    session, room, people = setup
    _move_session_while_stuck(session, status)
    client.force_login(people["booked"])
    join = reverse("seminars:virtual_join", args=[session.pk])
    with time_machine.travel(session.start + timedelta(minutes=minutes), tick=False):
        for page in (reverse("seminars:room", args=[room.pk]), reverse("seminars:event", args=[session.event_id])):
            html = client.get(page).content.decode()
            assert JOIN_URL not in html
            assert (join in html) is allowed
        response = client.get(join)
    if allowed:
        assert response.status_code == 302 and response["Location"] == JOIN_URL
    else:
        assert response["Location"] != JOIN_URL


def test_the_owner_can_still_host_while_the_update_waits(client, setup):
    from virtualmeeting.providers.testing import TestProvider

    session, room, people = setup
    TestProvider.reset()
    connect(people["owner"])
    _move_session_while_stuck(session, "waiting")
    client.force_login(people["owner"])
    client.get(reverse("seminars:virtual_host", args=[session.pk]))
    assert TestProvider.calls("host_url") == 1  # the click reached the provider for a fresh host URL


def test_a_meeting_not_made_yet_still_says_please_wait(setup):
    session, room, people = setup
    meeting = VirtualMeeting.objects.get()
    meeting.status, meeting.remote_id, meeting.join_url = "waiting", "", ""
    meeting.save()
    access = session_access(
        user=people["booked"], session=session, booking_state="booked", meeting=meeting, now=session.start
    )
    assert not access.can_join and access.message == UPDATING
