from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from simulators.zoom.tests.conftest import TIMEOUT, Api, connect

QUIET = {"approval_type": 0, "registrants_confirmation_email": False, "registrants_email_notification": False}


def _person(n, **extra):
    return {"email": f"learner{n}@lms.example", "first_name": f"Learner{n}", "last_name": "Test", **extra}


@pytest.fixture
def meeting(pro):
    """A meeting that approves registrations automatically, with Zoom's emails switched off (as the product makes)."""
    return pro.create(settings=QUIET).json()


def test_registration_settings_on_create_patch_and_get(pro):
    meeting = pro.create(settings={"approval_type": 1, "registrants_confirmation_email": False}).json()
    assert meeting["settings"]["approval_type"] == 1
    assert meeting["settings"]["registrants_confirmation_email"] is False
    assert meeting["settings"]["registrants_email_notification"] is True  # Zoom's default
    assert meeting["registration_url"].startswith(pro.base.replace("/v2", "") + "/meeting/register/")
    pro.patch(
        f"/meetings/{meeting['id']}", json={"settings": {"approval_type": 0, "registrants_email_notification": False}}
    )
    settings = pro.get(f"/meetings/{meeting['id']}").json()["settings"]
    assert (
        settings["approval_type"],
        settings["registrants_confirmation_email"],
        settings["registrants_email_notification"],
    ) == (0, False, False)
    pro.patch(f"/meetings/{meeting['id']}", json={"settings": {"approval_type": 2}})
    assert "registration_url" not in pro.get(f"/meetings/{meeting['id']}").json()


@pytest.mark.parametrize(
    "bad", [{"approval_type": 3}, {"registrants_confirmation_email": "no"}, {"registrants_email_notification": 0}]
)
def test_bad_registration_settings_are_validation_errors(pro, bad):
    answer = pro.create(settings=bad)
    assert answer.status_code == 400 and answer.json()["code"] == 300


def test_add_registrant_gives_a_personal_join_url(sim, pro, meeting):
    answer = pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(1))
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"id", "registrant_id", "join_url", "topic", "start_time"}
    assert body["id"] == meeting["id"] and body["topic"] == meeting["topic"]
    assert body["start_time"] == meeting["start_time"]
    assert body["join_url"].startswith(f"{sim.url}/w/{meeting['id']}?")
    assert parse_qs(urlsplit(body["join_url"]).query)["tk"][0]
    other = pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(2)).json()
    assert other["registrant_id"] != body["registrant_id"] and other["join_url"] != body["join_url"]

    page = requests.get(body["join_url"], timeout=TIMEOUT)
    assert page.status_code == 200
    assert "You joined the meeting as a registrant" in page.text and "learner1@lms.example" in page.text
    assert body["registrant_id"] in page.text


def test_the_same_email_twice_returns_the_same_registrant(sim, pro):
    meeting = pro.create(settings={"approval_type": 0}).json()  # emails on: a second confirmation would show
    first = pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(1)).json()
    again = pro.post(
        f"/meetings/{meeting['id']}/registrants", json=_person(1, email="LEARNER1@lms.example", first_name="Other")
    )
    assert again.status_code == 201
    assert again.json()["registrant_id"] == first["registrant_id"] and again.json()["join_url"] == first["join_url"]
    batch = pro.post(f"/meetings/{meeting['id']}/batch_registrants", json={"registrants": [_person(1)]}).json()
    assert batch["registrants"][0]["registrant_id"] == first["registrant_id"]
    [registrant] = sim.registrants(meeting["id"])
    assert registrant["first_name"] == "Learner1"
    assert [email["kind"] for email in registrant["emails"]] == ["confirmation"]


def test_meeting_without_registration_refuses_registrants(pro):
    meeting_id = pro.create().json()["id"]  # approval_type 2 by default
    for answer in (
        pro.post(f"/meetings/{meeting_id}/registrants", json=_person(1)),
        pro.post(f"/meetings/{meeting_id}/batch_registrants", json={"registrants": [_person(1)]}),
    ):
        assert answer.status_code == 404
        assert answer.json() == {
            "code": 404,
            "message": f"Registration has not been enabled for this meeting: {meeting_id}.",
        }
    for answer in (
        pro.get(f"/meetings/{meeting_id}/registrants"),
        pro.put(
            f"/meetings/{meeting_id}/registrants/status",
            json={"action": "cancel", "registrants": [{"email": "a@b.example"}]},
        ),
    ):
        assert answer.status_code == 400
        assert answer.json() == {
            "code": 300,
            "message": f"This meeting has not set registration as required: {meeting_id}.",
        }


def test_a_basic_host_is_refused(sim):
    basic = Api(sim, connect(sim, "basic@zoomsim.test")["access_token"])
    meeting_id = basic.create(settings=QUIET).json()["id"]
    answer = basic.post(f"/meetings/{meeting_id}/registrants", json=_person(1))
    assert answer.status_code == 400
    assert answer.json() == {"code": 200, "message": "Only available for Paid user: zsBASICuser00000000001."}
    assert (
        basic.post(f"/meetings/{meeting_id}/batch_registrants", json={"registrants": [_person(1)]}).json()["code"]
        == 200
    )
    assert sim.registrants(meeting_id) == []
    sim.edit_user("basic@zoomsim.test", type=2)
    assert basic.post(f"/meetings/{meeting_id}/registrants", json=_person(1)).status_code == 201


def test_unknown_or_foreign_meetings(sim, pro, meeting):
    assert pro.post("/meetings/81000000000/registrants", json=_person(1)).json()["code"] == 3001
    assert pro.post("/meetings/81000000000/batch_registrants", json={"registrants": [_person(1)]}).json() == {
        "code": 3001,
        "message": "Meeting does not exist: 81000000000.",
    }
    sim.edit_user("basic@zoomsim.test", type=2)
    basic = Api(sim, connect(sim, "basic@zoomsim.test")["access_token"])
    answer = basic.post(f"/meetings/{meeting['id']}/registrants", json=_person(1))
    assert answer.status_code == 400 and answer.json()["code"] == 3003


# --- emails Zoom would have sent ------------------------------------------------------


def test_no_email_when_both_switches_are_off(sim, pro, meeting):
    pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(1))
    pro.post(f"/meetings/{meeting['id']}/batch_registrants", json={"registrants": [_person(2), _person(3)]})
    registrant_id = sim.registrants(meeting["id"])[0]["id"]
    pro.put(
        f"/meetings/{meeting['id']}/registrants/status",
        json={"action": "cancel", "registrants": [{"id": registrant_id}]},
    )
    assert len(sim.registrants(meeting["id"])) == 3
    assert sim.emails(meeting["id"]) == []


def test_zoom_emails_registrants_by_default(sim, pro):
    meeting = pro.create(settings={"approval_type": 0}).json()
    pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(1))
    pro.post(f"/meetings/{meeting['id']}/batch_registrants", json={"registrants": [_person(2)]})
    registrant_id = sim.registrants(meeting["id"])[0]["id"]
    pro.put(
        f"/meetings/{meeting['id']}/registrants/status",
        json={"action": "cancel", "registrants": [{"id": registrant_id}]},
    )
    sent = [(email["email"], email["kind"]) for email in sim.emails(meeting["id"])]
    assert sent == [
        ("learner1@lms.example", "confirmation"),
        ("learner2@lms.example", "confirmation"),
        ("learner1@lms.example", "cancelled"),
    ]


def test_one_switch_off_is_not_enough_for_approvals_and_cancellations(sim, pro):
    meeting = pro.create(settings={"approval_type": 0, "registrants_confirmation_email": False}).json()
    registrant_id = pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(1)).json()["registrant_id"]
    pro.put(
        f"/meetings/{meeting['id']}/registrants/status",
        json={"action": "cancel", "registrants": [{"id": registrant_id}]},
    )
    assert [email["kind"] for email in sim.emails(meeting["id"])] == ["cancelled"]


def test_the_batch_flag_decides_for_its_batch(sim, pro, meeting):
    loud = pro.create(settings={"approval_type": 0}).json()
    pro.post(
        f"/meetings/{loud['id']}/batch_registrants",
        json={"registrants_confirmation_email": False, "registrants": [_person(1)]},
    )
    assert sim.emails(loud["id"]) == []
    pro.post(
        f"/meetings/{meeting['id']}/batch_registrants",
        json={"registrants_confirmation_email": True, "registrants": [_person(2)]},
    )
    assert [email["email"] for email in sim.emails(meeting["id"])] == ["learner2@lms.example"]


# --- manual approval, status changes -------------------------------------------------


def test_manual_approval(sim, pro):
    meeting = pro.create(settings={**QUIET, "approval_type": 1}).json()
    pending = pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(1)).json()
    assert "join_url" not in pending
    approved = pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(2, auto_approve=True)).json()
    assert "join_url" in approved
    batch = pro.post(
        f"/meetings/{meeting['id']}/batch_registrants", json={"auto_approve": True, "registrants": [_person(3)]}
    ).json()
    assert "join_url" in batch["registrants"][0]
    listed = pro.get(f"/meetings/{meeting['id']}/registrants", params={"status": "pending"}).json()
    assert [r["id"] for r in listed["registrants"]] == [pending["registrant_id"]]
    assert "join_url" not in listed["registrants"][0]
    [status] = [r["status"] for r in sim.registrants(meeting["id"]) if r["id"] == pending["registrant_id"]]
    assert status == "pending"
    assert requests.get(sim.registrants(meeting["id"])[0]["join_url"], timeout=TIMEOUT).status_code == 403

    answer = pro.put(
        f"/meetings/{meeting['id']}/registrants/status",
        json={"action": "approve", "registrants": [{"email": "learner1@lms.example"}]},
    )
    assert answer.status_code == 204 and answer.content == b""
    approved_now = pro.get(f"/meetings/{meeting['id']}/registrants", params={"status": "approved"}).json()
    assert pending["registrant_id"] in [r["id"] for r in approved_now["registrants"]]


def test_cancel_moves_a_registrant_to_denied_and_kills_the_link(sim, pro, meeting):
    registrant = pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(1)).json()
    answer = pro.put(
        f"/meetings/{meeting['id']}/registrants/status",
        json={
            "action": "cancel",
            "registrants": [{"id": registrant["registrant_id"], "email": "learner1@lms.example"}],
        },
    )
    assert answer.status_code == 204
    assert pro.get(f"/meetings/{meeting['id']}/registrants").json()["registrants"] == []
    denied = pro.get(f"/meetings/{meeting['id']}/registrants", params={"status": "denied"}).json()["registrants"]
    assert [(r["id"], r["status"]) for r in denied] == [(registrant["registrant_id"], "denied")]
    assert sim.registrants(meeting["id"])[0]["status"] == "cancelled"
    page = requests.get(registrant["join_url"], timeout=TIMEOUT)
    assert page.status_code == 403 and "cancelled" in page.text
    # Registering the same email again gives the same (still cancelled) registration; approve brings it back.
    again = pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(1)).json()
    assert again["registrant_id"] == registrant["registrant_id"] and "join_url" not in again
    pro.put(
        f"/meetings/{meeting['id']}/registrants/status",
        json={"action": "approve", "registrants": [{"id": registrant["registrant_id"]}]},
    )
    assert requests.get(registrant["join_url"], timeout=TIMEOUT).status_code == 200


def test_status_change_with_an_unknown_registrant_changes_nothing(sim, pro, meeting):
    known = pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(1)).json()["registrant_id"]
    answer = pro.put(
        f"/meetings/{meeting['id']}/registrants/status",
        json={"action": "deny", "registrants": [{"id": known}, {"id": "nobody"}]},
    )
    assert answer.status_code == 404 and answer.json()["code"] == 404
    assert sim.registrants(meeting["id"])[0]["status"] == "approved"


@pytest.mark.parametrize(
    "body",
    [
        {"action": "remove", "registrants": [{"id": "x"}]},
        {"action": "cancel"},
        {"action": "cancel", "registrants": [{"id": f"r{n}"} for n in range(31)]},
    ],
)
def test_status_body_is_validated(pro, meeting, body):
    answer = pro.put(f"/meetings/{meeting['id']}/registrants/status", json=body)
    assert answer.status_code == 400 and answer.json()["code"] == 300


# --- batches, validation, capacity, paging ---------------------------------------------


def test_batch_of_thirty(sim, pro, meeting):
    answer = pro.post(
        f"/meetings/{meeting['id']}/batch_registrants",
        json={
            "auto_approve": True,
            "registrants_confirmation_email": False,
            "registrants": [_person(n) for n in range(30)],
        },
    )
    assert answer.status_code == 200
    registrants = answer.json()["registrants"]
    assert [r["email"] for r in registrants] == [f"learner{n}@lms.example" for n in range(30)]
    assert all(set(r) == {"email", "registrant_id", "join_url"} for r in registrants)
    assert len({r["join_url"] for r in registrants}) == 30
    too_many = pro.post(
        f"/meetings/{meeting['id']}/batch_registrants", json={"registrants": [_person(n) for n in range(100, 131)]}
    )
    assert too_many.status_code == 400 and too_many.json()["code"] == 300
    assert len(sim.registrants(meeting["id"])) == 30


@pytest.mark.parametrize(
    ("person", "field"),
    [
        ({"first_name": "No email"}, "registrant.email"),
        ({"email": "not-an-email", "first_name": "X"}, "registrant.email"),
        ({"email": "a@b.example"}, "registrant.first_name"),
        ({"email": "a@b.example", "first_name": "x" * 65}, "registrant.first_name"),
        ({"email": "a@b.example", "first_name": "X", "last_name": ["list"]}, "registrant.last_name"),
    ],
)
def test_registrant_body_is_validated(sim, pro, meeting, person, field):
    answer = pro.post(f"/meetings/{meeting['id']}/registrants", json=person)
    assert answer.status_code == 400 and answer.json()["code"] == 300
    assert field in [error["field"] for error in answer.json()["errors"]]
    assert sim.registrants(meeting["id"]) == []


def test_a_bad_batch_registers_nobody(sim, pro, meeting):
    answer = pro.post(
        f"/meetings/{meeting['id']}/batch_registrants",
        json={"registrants": [_person(1), {"email": "broken", "first_name": "B"}]},
    )
    assert answer.status_code == 400
    assert [error["field"] for error in answer.json()["errors"]] == ["registrants[1].email"]
    assert sim.registrants(meeting["id"]) == []


def test_capacity(sim, pro, meeting):
    sim.limits(max_registrants=3)
    for n in range(3):
        assert pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(n)).status_code == 201
    full = pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(3))
    assert full.status_code == 400
    assert full.json() == {"code": 3043, "message": "Meeting has reached maximum attendee capacity."}
    assert pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(0)).status_code == 201  # already in
    second = pro.create(settings=QUIET).json()
    pro.post(f"/meetings/{second['id']}/registrants", json=_person(0))
    batch = pro.post(
        f"/meetings/{second['id']}/batch_registrants",
        json={"registrants": [_person(0), _person(1), _person(2), _person(3)]},
    )
    assert batch.status_code == 404 and batch.json()["code"] == 3043
    assert len(sim.registrants(second["id"])) == 1


def test_the_default_capacity_is_4999(sim):
    assert sim.limits()["max_registrants"] == 4999


def test_list_pages_with_next_page_token(sim, pro, meeting):
    pro.post(f"/meetings/{meeting['id']}/batch_registrants", json={"registrants": [_person(n) for n in range(7)]})
    seen, token, pages = [], "", 0
    while True:
        body = pro.get(
            f"/meetings/{meeting['id']}/registrants",
            params={"status": "approved", "page_size": 3, "next_page_token": token},
        ).json()
        assert body["total_records"] == 7 and body["page_size"] == 3 and body["page_count"] == 3
        seen += [r["email"] for r in body["registrants"]]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert seen == [f"learner{n}@lms.example" for n in range(7)] and pages == 3
    first = body["registrants"][0]
    assert {"id", "email", "first_name", "last_name", "status", "create_time", "join_url"} <= set(first)
    bad = pro.get(f"/meetings/{meeting['id']}/registrants", params={"status": "everyone"})
    assert bad.status_code == 400 and bad.json()["code"] == 300


def test_batch_needs_a_scheduled_meeting(pro):
    meeting_id = pro.create(type=8, settings=QUIET).json()["id"]
    answer = pro.post(f"/meetings/{meeting_id}/batch_registrants", json={"registrants": [_person(1)]})
    assert answer.status_code == 400 and answer.json()["code"] == 303


def test_no_registration_once_the_meeting_is_over(sim, pro, meeting):
    sim.start_meeting(meeting["id"])
    sim.end_meeting(meeting["id"])
    answer = pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(1))
    assert answer.status_code == 400 and answer.json()["code"] == 3038


# --- limits and scopes ---------------------------------------------------------------


def test_registrant_calls_count_in_their_per_second_buckets(sim, pro, meeting):
    sim.freeze_clock()
    sim.advance_clock(1)
    adds = [pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(n)) for n in range(31)]
    assert [a.status_code for a in adds] == [201] * 30 + [429]
    assert {a.headers["X-RateLimit-Category"] for a in adds} == {"Light"}
    assert pro.get(f"/meetings/{meeting['id']}").status_code == 429  # the same Light bucket
    batches = [
        pro.post(f"/meetings/{meeting['id']}/batch_registrants", json={"registrants": [_person(100 + n)]})
        for n in range(11)
    ]
    assert [b.status_code for b in batches] == [200] * 10 + [429]
    assert batches[0].headers["X-RateLimit-Category"] == "Heavy" and batches[0].headers["X-RateLimit-Limit"] == "10"
    lists = [pro.get(f"/meetings/{meeting['id']}/registrants") for _ in range(21)]
    assert [a.status_code for a in lists] == [200] * 20 + [429]
    assert lists[0].headers["X-RateLimit-Category"] == "Medium"
    assert (
        pro.put(
            f"/meetings/{meeting['id']}/registrants/status",
            json={"action": "cancel", "registrants": [{"email": "learner1@lms.example"}]},
        ).status_code
        == 429
    )
    sim.advance_clock(1)
    assert pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(200)).status_code == 201


def test_registrant_calls_do_not_spend_the_daily_budget(sim, pro, meeting):
    sim.set_quota_used("pro@zoomsim.test", 100)
    assert pro.post(f"/meetings/{meeting['id']}/registrants", json=_person(1)).status_code == 201
    assert (
        pro.post(f"/meetings/{meeting['id']}/batch_registrants", json={"registrants": [_person(2)]}).status_code == 200
    )
    assert pro.get(f"/meetings/{meeting['id']}/registrants").status_code == 200
    assert (
        pro.put(
            f"/meetings/{meeting['id']}/registrants/status",
            json={"action": "cancel", "registrants": [{"email": "learner2@lms.example"}]},
        ).status_code
        == 204
    )
    assert sim.quota("pro@zoomsim.test")["used"] == 100
    assert pro.patch(f"/meetings/{meeting['id']}", json={"topic": "x"}).status_code == 429


def test_granular_scopes_for_registrants(sim, pro, meeting):
    only_meetings = Api(
        sim,
        connect(sim, client_id="zoomsim-meetings-only-client-id", secret="zoomsim-meetings-only-client-secret")[
            "access_token"
        ],
    )
    calls = {
        "meeting:write:registrant": only_meetings.post(f"/meetings/{meeting['id']}/registrants", json=_person(1)),
        "meeting:write:batch_registrants": only_meetings.post(
            f"/meetings/{meeting['id']}/batch_registrants", json={"registrants": [_person(1)]}
        ),
        "meeting:read:list_registrants": only_meetings.get(f"/meetings/{meeting['id']}/registrants"),
        "meeting:update:registrant_status": only_meetings.put(
            f"/meetings/{meeting['id']}/registrants/status", json={"action": "cancel", "registrants": []}
        ),
    }
    for scope, answer in calls.items():
        assert answer.status_code == 400
        assert answer.json() == {
            "code": 4711,
            "message": f"Invalid access token, does not contain scopes:[{scope}, {scope}:admin].",
        }
    assert only_meetings.create().status_code == 201


def test_classic_scopes_for_registrants(sim):
    classic = Api(
        sim, connect(sim, client_id="zoomsim-classic-client-id", secret="zoomsim-classic-client-secret")["access_token"]
    )
    meeting_id = classic.create(settings=QUIET).json()["id"]
    assert classic.post(f"/meetings/{meeting_id}/registrants", json=_person(1)).status_code == 201
    assert classic.get(f"/meetings/{meeting_id}/registrants").status_code == 200
    sim.edit_app("zoomsim-classic-client-id", scopes="meeting:read user:read")
    reduced = Api(
        sim, connect(sim, client_id="zoomsim-classic-client-id", secret="zoomsim-classic-client-secret")["access_token"]
    )
    assert reduced.get(f"/meetings/{meeting_id}/registrants").status_code == 200
    answer = reduced.post(f"/meetings/{meeting_id}/batch_registrants", json={"registrants": [_person(2)]})
    assert (
        answer.json()["message"]
        == "Invalid access token, does not contain scopes:[meeting:write, meeting:write:admin]."
    )


def test_registrant_routes_take_faults(sim, pro, meeting):
    sim.next_fault("registrants.batch", "drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        pro.post(f"/meetings/{meeting['id']}/batch_registrants", json={"registrants": [_person(1)]})
    assert [r["email"] for r in sim.registrants(meeting["id"])] == ["learner1@lms.example"]  # applied, answer lost
    retried = pro.post(f"/meetings/{meeting['id']}/batch_registrants", json={"registrants": [_person(1)]}).json()
    assert retried["registrants"][0]["registrant_id"] == sim.registrants(meeting["id"])[0]["id"]


# --- Zoom's registration form behind the shared link ------------------------------------


def test_shared_link_of_a_registration_meeting_shows_the_form(sim, pro, meeting):
    page = requests.get(meeting["join_url"], timeout=TIMEOUT)
    assert page.status_code == 200
    assert "Meeting Registration" in page.text and "You joined" not in page.text
    session = requests.Session()
    form = session.get(meeting["registration_url"], timeout=TIMEOUT)
    assert "Meeting Registration" in form.text
    bad = session.post(
        meeting["registration_url"], data={"first_name": "G", "email": "nope"}, timeout=TIMEOUT, allow_redirects=False
    )
    assert bad.status_code == 400 and "valid email" in bad.text
    done = session.post(
        meeting["registration_url"],
        data={"first_name": "Guest", "last_name": "Person", "email": "guest@elsewhere.example"},
        timeout=TIMEOUT,
        allow_redirects=False,
    )
    assert done.status_code == 302
    [registrant] = sim.registrants(meeting["id"])
    assert registrant["source"] == "form" and done.headers["Location"] == registrant["join_url"]
    assert "You joined the meeting as a registrant" in session.get(done.headers["Location"], timeout=TIMEOUT).text
