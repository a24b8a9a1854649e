"""Who sees which virtual room link, and when: the visibility matrix, enforced on the server.

Times -16, -15, -1 minutes before the session, during it and after it; roles
owner, site admin, trainer, booked, waitlisted and cancelled learner, outsider.
The clock is moved with time_machine; the links are checked on the room page,
the event page and at click time (our join URL).
"""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from seminars.meetings import meeting_reference
from seminars.models import Booking, Room
from seminars.tests.conftest import enrol, make_user
from seminars.virtual_room import NO_LONGER, OPENS_SOON, UNAVAILABLE, session_access
from virtualmeeting.models import ProviderConfig, VirtualMeeting

JOIN_URL = "https://meet.test.invalid/j/123456789"


@pytest.fixture
def setup(settings, event, editing_trainer, trainer, learner, learner2, outsider, site_admin):
    settings.VIRTUALMEETING = {"PROVIDERS": ["virtualmeeting.providers.testing.TestProvider"]}
    ProviderConfig.objects.update_or_create(provider="test", defaults={"enabled": True})
    room = Room.objects.create(name="Online", capacity=10, event=event, virtual_kind="test", created_by=editing_trainer)
    session = event.sessions.get()
    session.room = room
    session.save()
    VirtualMeeting.objects.create(
        reference=meeting_reference(session, room),
        provider="test",
        owner=editing_trainer,
        remote_id="123456789",
        join_url=JOIN_URL,
        status="available",
        start=session.start,
        finish=session.finish,
        time_zone=session.time_zone,
    )
    cancelled = make_user("carl")
    enrol(cancelled, event.seminar.course)
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    Booking.objects.create(event=event, user=learner2, state=Booking.State.WAITLISTED)
    Booking.objects.create(event=event, user=cancelled, state=Booking.State.USER_CANCELLED)
    people = {
        "owner": editing_trainer,
        "admin": site_admin,
        "trainer": trainer,
        "booked": learner,
        "waitlisted": learner2,
        "cancelled": cancelled,
        "outsider": outsider,
    }
    return session, room, people


MOMENTS = {"-16": -16, "-15": -15, "-1": -1, "during": 30, "after": 61}

# What each role sees at each moment: the buttons, else the message.
EXPECTED = {
    "owner": {m: ["Host meeting", "Join as attendee"] for m in MOMENTS},
    "admin": {m: ["Go to room"] for m in MOMENTS},
    "trainer": {m: ["Go to room"] for m in MOMENTS},
    "booked": {"-16": OPENS_SOON, "-15": ["Join now"], "-1": ["Join now"], "during": ["Join now"], "after": NO_LONGER},
    "waitlisted": {m: UNAVAILABLE for m in MOMENTS},
    "cancelled": {m: UNAVAILABLE for m in MOMENTS},
    "outsider": {m: UNAVAILABLE for m in MOMENTS},
}


def booking_state(user, event):
    return Booking.objects.filter(user=user, event=event).values_list("state", flat=True).first()


@pytest.mark.parametrize("moment", list(MOMENTS))
@pytest.mark.parametrize("role", list(EXPECTED))
def test_visibility_matrix(setup, role, moment):
    session, room, people = setup
    user = people[role]
    meeting = VirtualMeeting.objects.get()
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


@pytest.mark.parametrize("moment", list(MOMENTS))
@pytest.mark.parametrize("role", ["booked", "waitlisted", "cancelled", "trainer"])
def test_the_join_url_only_reaches_those_allowed_at_click_time(client, setup, role, moment):
    session, room, people = setup
    client.force_login(people[role])
    join = reverse("seminars:virtual_join", args=[session.pk])
    allowed = isinstance(EXPECTED[role][moment], list)
    with time_machine.travel(session.start + timedelta(minutes=MOMENTS[moment]), tick=False):
        for page in (reverse("seminars:room", args=[room.pk]), reverse("seminars:event", args=[session.event_id])):
            html = client.get(page).content.decode()
            assert JOIN_URL not in html  # the raw link never reaches a page
            assert (join in html) == allowed
        response = client.get(join)
    if allowed:
        assert response.status_code == 302 and response["Location"] == JOIN_URL
    else:
        assert response["Location"] != JOIN_URL


def test_outsiders_get_404_for_the_join_link(client, setup):
    session, room, people = setup
    client.force_login(people["outsider"])
    with time_machine.travel(session.start, tick=False):
        assert client.get(reverse("seminars:virtual_join", args=[session.pk])).status_code == 404


def test_a_cancelled_event_closes_the_room_for_learners(client, setup):
    session, room, people = setup
    session.event.cancelled = True
    session.event.save()
    access = session_access(
        user=people["booked"],
        session=session,
        booking_state=Booking.State.BOOKED,
        meeting=VirtualMeeting.objects.get(),
        now=session.start,
    )
    assert access.message == NO_LONGER and not access.can_join


def test_only_the_owner_can_host_and_gets_a_fresh_host_url(client, setup):
    from virtualmeeting.providers.testing import TestProvider

    session, room, people = setup
    TestProvider.reset()
    host = reverse("seminars:virtual_host", args=[session.pk])
    for role in ("admin", "trainer", "booked"):
        client.force_login(people[role])
        assert client.get(host).status_code == 403
    assert TestProvider.calls("host_url") == 0


def test_while_the_meeting_is_being_created_capable_users_see_please_wait(client, setup):
    session, room, people = setup
    VirtualMeeting.objects.update(status="creating", join_url="", remote_id="")
    client.force_login(people["trainer"])
    html = client.get(reverse("seminars:room", args=[room.pk])).content.decode()
    assert "Updating virtual room. Please wait..." in html
    assert 'data-pending="1"' in html  # the card reloads itself until the meeting is ready
    card = client.get(reverse("seminars:room_card", args=[room.pk])).content.decode()
    assert "Updating virtual room" in card


def test_a_failed_meeting_is_explained_once_to_the_owner(client, setup):
    session, room, people = setup
    VirtualMeeting.objects.update(status="failed", join_url="", remote_id="", last_error="Zoom refused the topic.")
    client.force_login(people["owner"])
    card = client.get(reverse("seminars:room_card", args=[room.pk])).content.decode()
    assert card.count("Zoom refused the topic") == 1
    assert "Retry now" in card


def test_my_sessions_offers_join_now_only_inside_the_window(client, setup):
    session, room, people = setup
    join = reverse("seminars:virtual_join", args=[session.pk])
    client.force_login(people["booked"])
    with time_machine.travel(session.start - timedelta(minutes=16), tick=False):
        html = client.get(reverse("seminars:dashboard")).content.decode()
    assert join not in html and str(OPENS_SOON) in html
    with time_machine.travel(session.start - timedelta(minutes=15), tick=False):
        html = client.get(reverse("seminars:dashboard")).content.decode()
    assert "Join now" in html and join in html and JOIN_URL not in html


def test_my_sessions_offers_the_owner_host_meeting(client, setup):
    session, room, people = setup
    client.force_login(people["owner"])
    html = client.get(reverse("seminars:dashboard")).content.decode()
    assert "Host meeting" in html and reverse("seminars:virtual_host", args=[session.pk]) in html
