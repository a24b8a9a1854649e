"""Alternative hosts against the Zoom simulator over HTTP: the worker's sync makes a site-account meeting naming
them (GET shows them), a change of them is one update of the same meeting, and an alternative host Zoom refuses
(a Basic user) fails the meeting with Zoom's reason instead of making it without them."""

from django.contrib.auth.models import User

from virtualmeeting.models import VirtualMeeting
from virtualmeeting.providers.base import AccountHost
from virtualmeeting.sync import meeting_sync
from virtualmeeting_zoom.tests import test_account_meetings_simulator as simulated

zoom_sim, provider = simulated.zoom_sim, simulated.provider  # the simulator over HTTP, Zoom set up for it


def alternative_hosts_in_zoom(provider, meeting):
    """What GET /meetings/{id} says of the meeting's alternative hosts."""
    row = VirtualMeeting.objects.get(pk=meeting.pk)
    remote = provider.get_meeting(connection=AccountHost(row.remote_host), remote_id=row.remote_id)
    return remote.extra["alternative_hosts"]


def test_the_meeting_is_made_with_its_alternative_hosts_and_they_change_in_place(zoom_sim, provider):
    zoom_sim.add_users(
        users=[
            {"email": "hana@zoomsim.test", "first_name": "Hana", "type": 2},
            {"email": "lena@zoomsim.test", "first_name": "Lena", "type": 2},
            {"email": "omar@zoomsim.test", "first_name": "Omar", "type": 3},
        ]
    )
    host = provider.account_user("hana@zoomsim.test")
    owner = User.objects.create(username="olga", email="olga@example.com")
    start = simulated.start_at(4)
    both = ["lena@zoomsim.test", "omar@zoomsim.test"]

    meeting = simulated.put("room", owner, start, hosting="account", host=host.remote_id, alternative_hosts=both)
    assert meeting_sync(meeting.pk) == ["create"]
    assert alternative_hosts_in_zoom(provider, meeting) == "lena@zoomsim.test;omar@zoomsim.test"
    [made] = zoom_sim.meetings(host="hana@zoomsim.test")

    simulated.put("room", owner, start, hosting="account", host=host.remote_id, alternative_hosts=both[1:])
    assert meeting_sync(meeting.pk) == ["update"]
    assert alternative_hosts_in_zoom(provider, meeting) == "omar@zoomsim.test"
    assert [m["id"] for m in zoom_sim.meetings(host="hana@zoomsim.test")] == [made["id"]]  # the same meeting
    assert zoom_sim.quota("hana@zoomsim.test")["used"] == 2


def test_an_alternative_host_zoom_refuses_fails_the_meeting_saying_why(zoom_sim, provider):
    zoom_sim.add_users(users=[{"email": "hana@zoomsim.test", "first_name": "Hana", "type": 2}])
    host = provider.account_user("hana@zoomsim.test")
    owner = User.objects.create(username="olga", email="olga@example.com")

    meeting = simulated.put(
        "room",
        owner,
        simulated.start_at(4),
        hosting="account",
        host=host.remote_id,
        alternative_hosts=["basic@zoomsim.test"],
    )
    meeting_sync(meeting.pk)

    row = VirtualMeeting.objects.get(pk=meeting.pk)
    assert row.status == "failed" and not row.remote_id
    assert "Zoom refused an alternative host of this meeting" in row.last_error
    assert "basic@zoomsim.test" in row.last_error
    assert zoom_sim.meetings(host="hana@zoomsim.test") == []
