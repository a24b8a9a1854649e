"""Scripted participation: occurrences, join/leave sessions, their webhooks, and the past participants endpoint."""

import json
from urllib.parse import quote

import pytest

from simulators.zoom.client import AdminAPIError
from simulators.zoom.participants import HOST_ENDED, LEFT, OTHER_DEVICE
from simulators.zoom.tests.conftest import Api, connect

QUIET = {"approval_type": 0, "registrants_confirmation_email": False, "registrants_email_notification": False}
START = "2030-01-15T10:00:00Z"


@pytest.fixture(autouse=True)
def _clock(sim):
    """A frozen clock after the scripted sessions (10:00 to 11:00): the tokens taken now stay valid for an hour."""
    sim.set_clock(now="2030-01-15T12:00:00Z")
    sim.freeze_clock()


@pytest.fixture
def meeting(pro):
    return pro.create(topic="Safety induction", start_time=START, duration=60, settings=QUIET).json()


def _register(pro, meeting, n):
    person = {"email": f"learner{n}@lms.example", "first_name": f"Learner{n}", "last_name": "Test"}
    return pro.post(f"/meetings/{meeting['id']}/registrants", json=person).json()["registrant_id"]


def _events(receiver, name=None):
    events = [r["event"] for r in receiver.events]
    return [e for e in events if e["event"] == name] if name else events


def _past(pro, uuid, **params):
    return pro.get(f"/past_meetings/{quote(quote(uuid, safe=''), safe='')}/participants", params=params)


def _play_the_session(sim, pro, meeting):
    """A learner joins at +2 min, leaves at +40, rejoins at +45 from another device; a guest joins; end at +60."""
    learner = _register(pro, meeting, 1)
    uuid = sim.start_meeting(meeting["id"], at=START)
    laptop = sim.participant_join(uuid, registrant_id=learner, at=120)
    sim.participant_leave(uuid, laptop, at=2400)
    phone = sim.participant_join(uuid, registrant_id=learner, at=2700)
    guest = sim.participant_join(uuid, name="Gail Guest", email="gail@elsewhere.example", at=300)
    sim.end_meeting(uuid, at=3600)
    return {"uuid": uuid, "learner": learner, "laptop": laptop, "phone": phone, "guest": guest}


def test_the_scripted_session_sends_signed_participant_webhooks(sim, pro, meeting, receiver):
    story = _play_the_session(sim, pro, meeting)
    names = [e["event"] for e in _events(receiver)]
    assert names == [
        "meeting.started",
        "meeting.participant_joined",
        "meeting.participant_joined",
        "meeting.participant_left",
        "meeting.participant_joined",
        "meeting.participant_joined",
        "meeting.participant_left",
        "meeting.participant_left",
        "meeting.participant_left",
        "meeting.ended",
    ]
    started = _events(receiver, "meeting.started")[0]
    assert started["payload"]["object"] == {
        "id": meeting["id"],
        "uuid": story["uuid"],
        "host_id": meeting["host_id"],
        "topic": "Safety induction",
        "type": 2,
        "start_time": START,
        "duration": 60,
        "timezone": "Europe/London",
    }
    assert started["payload"]["account_id"] == "acctA-zoomsim00000001"
    assert started["event_ts"] == 1894701600000  # the scripted time, in ms

    laptop_joined = _events(receiver, "meeting.participant_joined")[1]
    obj = laptop_joined["payload"]["object"]
    assert {
        key: obj[key] for key in ("id", "uuid", "host_id", "topic", "type", "start_time", "duration", "timezone")
    } == started["payload"]["object"]
    participant = obj["participant"]
    assert participant["registrant_id"] == story["learner"]
    assert participant["participant_uuid"] == story["laptop"]
    assert participant["user_name"] == "Learner1 Test"
    assert participant["email"] == ""  # outside the host's account
    assert participant["join_time"] == "2030-01-15T10:02:00Z"
    assert participant["user_id"] and "leave_time" not in participant
    assert laptop_joined["event_ts"] == 1894701720000

    left = [e["payload"]["object"]["participant"] for e in _events(receiver, "meeting.participant_left")]
    laptop_left = next(p for p in left if p["participant_uuid"] == story["laptop"])
    assert (laptop_left["join_time"], laptop_left["leave_time"], laptop_left["leave_reason"]) == (
        "2030-01-15T10:02:00Z",
        "2030-01-15T10:40:00Z",
        LEFT,
    )
    phone_left = next(p for p in left if p["participant_uuid"] == story["phone"])
    assert phone_left["registrant_id"] == story["learner"] and phone_left["leave_reason"] == HOST_ENDED
    assert phone_left["leave_time"] == "2030-01-15T11:00:00Z"

    ended = _events(receiver, "meeting.ended")[0]["payload"]["object"]
    assert ended["uuid"] == story["uuid"] and ended["end_time"] == "2030-01-15T11:00:00Z"


def test_a_guest_of_a_registration_meeting_registers_through_zooms_form(sim, pro, meeting, receiver):
    story = _play_the_session(sim, pro, meeting)
    guest = next(
        p
        for p in (e["payload"]["object"]["participant"] for e in _events(receiver, "meeting.participant_joined"))
        if p["participant_uuid"] == story["guest"]
    )
    [form] = [r for r in sim.registrants(meeting["id"]) if r["source"] == "form"]
    assert form["email"] == "gail@elsewhere.example" and guest["registrant_id"] == form["id"]
    assert guest["user_name"] == "Gail Guest" and guest["email"] == ""


def test_a_guest_of_a_meeting_without_registration_has_no_registrant_id(sim, pro, receiver):
    meeting_id = pro.create().json()["id"]
    uuid = sim.start_meeting(meeting_id, host_joins=False)
    sim.participant_join(uuid, name="Phone 1")
    participant = _events(receiver, "meeting.participant_joined")[0]["payload"]["object"]["participant"]
    assert "registrant_id" not in participant and participant["user_name"] == "Phone 1"
    assert sim.registrants(meeting_id) == []


def test_email_is_given_only_inside_the_hosts_account(sim, pro, meeting, receiver):
    uuid = sim.start_meeting(meeting["id"], host_joins=False)
    colleague = _register(pro, meeting, 2)
    sim.participant_join(uuid, registrant_id=colleague, in_account=True)
    seeded = pro.post(
        f"/meetings/{meeting['id']}/registrants", json={"email": "basic@zoomsim.test", "first_name": "Bea"}
    ).json()["registrant_id"]
    sim.participant_join(uuid, registrant_id=seeded)
    other = pro.post(
        f"/meetings/{meeting['id']}/registrants", json={"email": "other@otheraccount.test", "first_name": "Oscar"}
    ).json()["registrant_id"]
    sim.participant_join(uuid, registrant_id=other)
    joined = [e["payload"]["object"]["participant"] for e in _events(receiver, "meeting.participant_joined")]
    assert [(p["email"], bool(p["id"])) for p in joined] == [
        ("learner2@lms.example", True),
        ("basic@zoomsim.test", True),
        ("", False),
    ]
    assert joined[1]["id"] == "zsBASICuser00000000001"


def test_rejoin_from_the_same_device_keeps_its_participant_uuid(sim, pro, meeting):
    learner = _register(pro, meeting, 1)
    uuid = sim.start_meeting(meeting["id"], at=START, host_joins=False)
    device = sim.participant_join(uuid, registrant_id=learner, at=60)
    with pytest.raises(AdminAPIError, match="still in the meeting"):
        sim.participant_join(uuid, registrant_id=learner, participant_uuid=device, at=90)
    sim.participant_leave(uuid, device, at=600)
    assert sim.participant_join(uuid, registrant_id=learner, participant_uuid=device, at=660) == device
    [occurrence] = sim.occurrences(meeting["id"])
    sessions = occurrence["participants"]
    assert [(s["participant_uuid"], s["join_time"], s["leave_time"]) for s in sessions] == [
        (device, "2030-01-15T10:01:00Z", "2030-01-15T10:10:00Z"),
        (device, "2030-01-15T10:11:00Z", None),
    ]
    assert sessions[0]["user_id"] != sessions[1]["user_id"]  # Zoom gives each join its own user_id


def test_a_registrant_link_on_a_second_device(sim, pro, receiver):
    single = pro.create(settings=QUIET).json()
    learner = _register(pro, single, 1)
    uuid = sim.start_meeting(single["id"], at=START, host_joins=False)
    laptop = sim.participant_join(uuid, registrant_id=learner, at=60)
    phone = sim.participant_join(uuid, registrant_id=learner, at=120)
    [left] = _events(receiver, "meeting.participant_left")
    assert left["payload"]["object"]["participant"]["participant_uuid"] == laptop
    assert left["payload"]["object"]["participant"]["leave_reason"] == OTHER_DEVICE
    sim.end_meeting(uuid, at=600)

    multi = pro.create(settings={**QUIET, "allow_multiple_devices": True}).json()
    learner = _register(pro, multi, 1)
    uuid = sim.start_meeting(multi["id"], at=START, host_joins=False)
    sim.participant_join(uuid, registrant_id=learner, at=60)
    sim.participant_join(uuid, registrant_id=learner, at=120)
    [occurrence] = sim.occurrences(multi["id"])
    assert [s["leave_time"] for s in occurrence["participants"]] == [None, None]
    assert phone != laptop


def test_a_refused_join_registers_nobody(sim, pro, meeting):
    uuid = sim.start_meeting(meeting["id"])
    with pytest.raises(AdminAPIError, match="HTTP 404"):
        sim.participant_join(uuid, name="Gail Guest", participant_uuid="NO-SUCH-DEVICE")
    assert sim.registrants(meeting["id"]) == []


def test_zoom_keeps_out_a_cancelled_registrant(sim, pro, meeting):
    learner = _register(pro, meeting, 1)
    pro.put(
        f"/meetings/{meeting['id']}/registrants/status", json={"action": "cancel", "registrants": [{"id": learner}]}
    )
    uuid = sim.start_meeting(meeting["id"])
    with pytest.raises(AdminAPIError, match="cancelled"):
        sim.participant_join(uuid, registrant_id=learner)


def test_scripted_times_must_make_sense(sim, pro, meeting):
    uuid = sim.start_meeting(meeting["id"], at=START)
    with pytest.raises(AdminAPIError, match="before the meeting started"):
        sim.participant_join(uuid, name="Early", at="2030-01-15T09:59:00Z")
    device = sim.participant_join(uuid, name="On time", at="2030-01-15T10:05:00Z")
    with pytest.raises(AdminAPIError, match="before they joined"):
        sim.participant_leave(uuid, device, at=60)
    with pytest.raises(AdminAPIError, match="cannot end"):
        sim.end_meeting(uuid, at=120)
    with pytest.raises(AdminAPIError, match="HTTP 400"):
        sim.participant_join(uuid, name="Bad time", at="half past ten")
    sim.end_meeting(uuid, at=3600)
    with pytest.raises(AdminAPIError, match="has ended"):
        sim.participant_join(uuid, name="Late", at=3700)


def test_each_start_is_a_new_occurrence(sim, pro, meeting):
    first = sim.start_meeting(meeting["id"], at=START)
    assert first == meeting["uuid"]
    with pytest.raises(AdminAPIError, match="already in progress"):
        sim.start_meeting(meeting["id"])
    sim.end_meeting(meeting["id"], at=1800)
    assert pro.get(f"/meetings/{meeting['id']}").json()["status"] == "waiting"
    second = sim.start_meeting(meeting["id"], at="2030-01-15T12:00:00Z")
    assert second != first
    assert pro.get(f"/meetings/{meeting['id']}").json()["status"] == "started"
    assert [o["uuid"] for o in sim.occurrences(meeting["id"])] == [first, second]


# --- webhooks switched off, and Zoom's retries ----------------------------------------


def test_webhooks_switched_off_send_nothing(sim, pro, meeting, receiver):
    assert sim.set_webhooks(False)["enabled"] is False
    _play_the_session(sim, pro, meeting)
    assert receiver.events == []
    deliveries = sim.webhook_deliveries()
    assert deliveries and all(not d["delivered"] and "switched off" in d["error"] for d in deliveries)
    assert sim.webhook_retries() == []
    sim.advance_clock(6 * 60)
    assert receiver.events == []
    sim.set_webhooks(True)
    sim.delete_meeting(pro.create().json()["id"])
    assert [e["event"] for e in _events(receiver)] == ["meeting.deleted"]


def test_participant_events_are_retried_like_every_event(sim, pro, meeting, receiver):
    sim.edit_app("zoomsim-client-id", webhook_url="http://127.0.0.1:9/down")
    learner = _register(pro, meeting, 1)
    uuid = sim.start_meeting(meeting["id"], host_joins=False)
    sim.participant_join(uuid, registrant_id=learner)
    assert [r["envelope"]["event"] for r in sim.webhook_retries()] == ["meeting.started", "meeting.participant_joined"]
    sim.edit_app("zoomsim-client-id", webhook_url=receiver.url)
    sim.advance_clock(5 * 60)
    assert [e["event"] for e in _events(receiver)] == ["meeting.started", "meeting.participant_joined"]
    assert _events(receiver)[1]["payload"]["object"]["participant"]["registrant_id"] == learner


# --- GET /past_meetings/{uuid}/participants --------------------------------------------


def test_past_participants_appear_after_the_delay(sim, pro, meeting):
    learner = _register(pro, meeting, 1)
    uuid = sim.start_meeting(meeting["id"], at=START)
    sim.participant_join(uuid, registrant_id=learner, at=120)
    running = _past(pro, uuid)
    assert running.status_code == 404
    assert running.json() == {"code": 3001, "message": "Meeting ID is invalid or not end."}
    sim.end_meeting(uuid, at=3600)
    sim.advance_clock(299)
    assert _past(pro, uuid).json()["code"] == 3001  # Zoom needs 5 minutes by default, from when it learns
    sim.advance_clock(1)
    answer = _past(pro, uuid)
    assert answer.status_code == 200 and answer.json()["total_records"] == 2


def test_a_meeting_scripted_to_end_later_has_data_only_after_that(sim, pro, meeting):
    sim.set_participants_delay(60)
    uuid = sim.start_meeting(meeting["id"], at="2030-01-15T12:00:00Z")
    sim.participant_join(uuid, name="Someone", at=60)
    sim.end_meeting(uuid, at=1800)  # 12:30, while the clock says 12:00
    sim.advance_clock(1800 + 59)
    assert _past(pro, uuid).json()["code"] == 3001
    sim.advance_clock(1)
    assert _past(pro, uuid).status_code == 200


def test_the_delay_is_settable_to_zero(sim, pro, meeting):
    sim.set_participants_delay(0)
    uuid = sim.start_meeting(meeting["id"])
    sim.participant_join(uuid, name="Someone", email="someone@elsewhere.example")
    sim.end_meeting(uuid)
    assert _past(pro, uuid).status_code == 200


def test_past_participants_give_every_session(sim, pro, meeting):
    sim.set_participants_delay(0)
    story = _play_the_session(sim, pro, meeting)
    body = _past(pro, story["uuid"], page_size=300).json()
    assert body["total_records"] == 4 and body["page_size"] == 300 and body["next_page_token"] == ""
    rows = body["participants"]
    host, laptop, guest, phone = rows  # in the order they joined
    assert (host["name"], host["user_email"], host["id"]) == ("Pat Pro", "pro@zoomsim.test", "zsPROuser0000000000001")
    assert host["internal_user"] is True and "registrant_id" not in host
    assert (laptop["registrant_id"], laptop["user_email"], laptop["id"]) == (story["learner"], "", "")
    assert (laptop["join_time"], laptop["leave_time"], laptop["duration"]) == (
        "2030-01-15T10:02:00Z",
        "2030-01-15T10:40:00Z",
        38 * 60,
    )
    assert (phone["join_time"], phone["leave_time"], phone["duration"]) == (
        "2030-01-15T10:45:00Z",
        "2030-01-15T11:00:00Z",
        15 * 60,
    )
    assert phone["registrant_id"] == story["learner"] and phone["user_id"] != laptop["user_id"]
    assert guest["name"] == "Gail Guest" and guest["registrant_id"] != story["learner"]
    assert {
        "id",
        "name",
        "user_id",
        "user_email",
        "join_time",
        "leave_time",
        "duration",
        "failover",
        "status",
        "internal_user",
    } <= set(laptop)


def test_the_specs_variant_gives_only_id_name_and_email(sim, pro, meeting):
    sim.limits(participants_delay_seconds=0, past_participants_variant="spec")
    story = _play_the_session(sim, pro, meeting)
    rows = _past(pro, story["uuid"]).json()["participants"]
    assert [set(row) for row in rows] == [{"id", "name", "user_email"}] * 4


def test_past_participants_pages(sim, pro, meeting):
    sim.set_participants_delay(0)
    uuid = sim.start_meeting(meeting["id"])
    for n in range(6):
        sim.participant_join(uuid, name=f"Person {n}", email=f"p{n}@elsewhere.example")
    sim.end_meeting(uuid)
    names, token, pages = [], "", 0
    while True:
        body = _past(pro, uuid, page_size=3, next_page_token=token).json()
        assert body["total_records"] == 7 and body["page_count"] == 3
        names += [p["name"] for p in body["participants"]]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert pages == 3 and names == ["Pat Pro"] + [f"Person {n}" for n in range(6)]


def test_a_meeting_with_one_participant_gives_no_results(sim, pro, meeting):
    sim.set_participants_delay(0)
    uuid = sim.start_meeting(meeting["id"])
    sim.end_meeting(uuid)
    body = _past(pro, uuid).json()
    assert body["participants"] == [] and body["total_records"] == 0


def test_a_uuid_with_slashes_must_be_double_encoded(sim, pro, meeting):
    sim.set_participants_delay(0)
    uuid = sim.start_meeting(meeting["id"], uuid="/ab+c//dEf9==")
    sim.participant_join(uuid, name="Someone", email="someone@elsewhere.example")
    sim.end_meeting(uuid)
    single = pro.get(f"/past_meetings/{quote(uuid, safe='')}/participants")
    assert single.status_code == 404 and single.json() == {
        "code": 3001,
        "message": "This meeting is not available or ID is not valid.",
    }
    assert _past(pro, uuid).status_code == 200

    plain = sim.start_meeting(meeting["id"], uuid="Zm9v+YmFy/cXV4==")
    sim.participant_join(plain, name="Someone", email="someone@elsewhere.example")
    sim.end_meeting(plain)
    assert pro.get(f"/past_meetings/{quote(plain, safe='')}/participants").status_code == 200
    assert _past(pro, plain).status_code == 200
    # A meeting id stands for its latest occurrence.
    latest = pro.get(f"/past_meetings/{meeting['id']}/participants").json()
    assert latest["total_records"] == 2 and _past(pro, "no-such-uuid==").json()["code"] == 3001


def test_past_participants_need_a_paid_account(sim, pro, meeting):
    sim.set_participants_delay(0)
    uuid = sim.start_meeting(meeting["id"])
    sim.participant_join(uuid, name="Someone")
    sim.end_meeting(uuid)
    sim.set_account_plan("acctA-zoomsim00000001", "free")
    answer = _past(pro, uuid)
    assert answer.status_code == 400
    assert answer.json() == {"code": 200, "message": "Only available for paid account: acctA-zoomsim00000001."}


def test_past_participants_of_another_host(sim, pro, meeting):
    sim.set_participants_delay(0)
    uuid = sim.start_meeting(meeting["id"])
    sim.participant_join(uuid, name="Someone")
    sim.end_meeting(uuid)
    basic = Api(sim, connect(sim, "basic@zoomsim.test")["access_token"])
    assert _past(basic, uuid).json()["code"] == 300
    other = Api(
        sim,
        connect(sim, "other@otheraccount.test", "zoomsim-published-client-id", "zoomsim-published-client-secret")[
            "access_token"
        ],
    )
    assert _past(other, uuid).json()["code"] == 3001


def test_past_participants_scopes_and_bucket(sim, pro, meeting):
    sim.set_participants_delay(0)
    uuid = sim.start_meeting(meeting["id"])
    sim.participant_join(uuid, name="Someone")
    sim.end_meeting(uuid)
    only_meetings = Api(
        sim,
        connect(sim, client_id="zoomsim-meetings-only-client-id", secret="zoomsim-meetings-only-client-secret")[
            "access_token"
        ],
    )
    assert "meeting:read:list_past_participants" in _past(only_meetings, uuid).json()["message"]
    classic = Api(
        sim, connect(sim, client_id="zoomsim-classic-client-id", secret="zoomsim-classic-client-secret")["access_token"]
    )
    assert _past(classic, uuid).status_code == 200  # classic meeting:read
    sim.advance_clock(1)
    answers = [_past(pro, uuid) for _ in range(21)]
    assert [a.status_code for a in answers] == [200] * 20 + [429]
    assert answers[0].headers["X-RateLimit-Category"] == "Medium"


def test_ctl_plays_a_session(sim, pro, meeting, capsys):
    from simulators.zoom.cli import ctl

    def run(*args):
        assert ctl(["--url", sim.url, *args]) == 0
        return json.loads(capsys.readouterr().out)

    learner = _register(pro, meeting, 1)
    uuid = run("start-meeting", str(meeting["id"]), "--at", START, "--no-host")["uuid"]
    device = run("join", uuid, "--registrant-id", learner, "--at", "120")["participant_uuid"]
    run("leave", uuid, device, "--at", "2400")
    run("end-meeting", str(meeting["id"]), "--at", "3600")
    [occurrence] = run("occurrences", "--meeting", str(meeting["id"]))
    assert [(p["registrant_id"], p["join_time"], p["leave_time"]) for p in occurrence["participants"]] == [
        (learner, "2030-01-15T10:02:00Z", "2030-01-15T10:40:00Z")
    ]
