import re

import pytest

from simulators.zoom.seed import DEFAULT_REDIRECT_URI
from simulators.zoom.tests.conftest import Api, connect

MEETING_FIELDS = {
    "id",
    "uuid",
    "host_id",
    "host_email",
    "topic",
    "type",
    "status",
    "start_time",
    "duration",
    "timezone",
    "agenda",
    "created_at",
    "join_url",
    "start_url",
    "password",
    "settings",
}


def test_users_me_shape(pro):
    answer = pro.get("/users/me")
    assert answer.status_code == 200
    body = answer.json()
    assert {"id", "first_name", "last_name", "email", "type", "account_id", "timezone", "pmi", "status"} <= set(body)
    assert body["email"] == "pro@zoomsim.test" and body["type"] == 2 and body["timezone"] == "Europe/London"
    assert body["status"] == "active"


def test_create_returns_201_with_the_meeting_object(pro, sim):
    answer = pro.create(
        topic="Intro",
        agenda="Read chapter 1",
        password="abc@_*-9",
        settings={"join_before_host": True, "jbh_time": 5, "waiting_room": False},
    )
    assert answer.status_code == 201
    meeting = answer.json()
    assert MEETING_FIELDS <= set(meeting)
    assert isinstance(meeting["id"], int) and 10 <= len(str(meeting["id"])) <= 11
    assert meeting["host_email"] == "pro@zoomsim.test" and meeting["status"] == "waiting"
    assert meeting["start_time"] == "2030-01-15T10:00:00Z" and meeting["timezone"] == "Europe/London"
    assert meeting["topic"] == "Intro" and meeting["agenda"] == "Read chapter 1" and meeting["password"] == "abc@_*-9"
    assert meeting["settings"]["join_before_host"] is True and meeting["settings"]["jbh_time"] == 5
    assert meeting["join_url"].startswith(f"{sim.url}/j/{meeting['id']}?pwd=")
    assert meeting["start_url"].startswith(f"{sim.url}/s/{meeting['id']}?zak=")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meeting["created_at"])


def test_waiting_room_turns_join_before_host_off(pro):
    meeting = pro.create(settings={"join_before_host": True, "waiting_room": True}).json()
    assert meeting["settings"]["join_before_host"] is False


def test_get_gives_a_fresh_start_url_each_time(pro):
    meeting_id = pro.create().json()["id"]
    first, second = pro.get(f"/meetings/{meeting_id}"), pro.get(f"/meetings/{meeting_id}")
    assert first.status_code == 200 and first.json()["id"] == meeting_id
    assert first.json()["start_url"] != second.json()["start_url"]


def test_patch_is_partial_and_answers_204_with_empty_body(pro):
    meeting_id = pro.create(topic="Before", agenda="Keep me").json()["id"]
    answer = pro.patch(f"/meetings/{meeting_id}", json={"topic": "After", "start_time": "2030-02-01T09:30:00Z"})
    assert answer.status_code == 204 and answer.content == b""
    meeting = pro.get(f"/meetings/{meeting_id}").json()
    assert meeting["topic"] == "After" and meeting["agenda"] == "Keep me"
    assert meeting["start_time"] == "2030-02-01T09:30:00Z"


def test_delete_then_not_found(pro, sim):
    meeting_id = pro.create().json()["id"]
    answer = pro.delete(f"/meetings/{meeting_id}", params={"schedule_for_reminder": "false"})
    assert answer.status_code == 204 and answer.content == b""
    gone = pro.get(f"/meetings/{meeting_id}")
    assert gone.status_code == 404
    assert gone.json() == {"code": 3001, "message": f"Meeting {meeting_id} is not found or has expired."}
    assert pro.delete(f"/meetings/{meeting_id}").json()["code"] == 3001
    assert pro.patch(f"/meetings/{meeting_id}", json={"topic": "x"}).json()["code"] == 3001
    assert [m["deleted"] for m in sim.meetings() if m["id"] == meeting_id] == [True]


def test_delete_in_progress_or_ended(pro, sim):
    live = pro.create().json()["id"]
    sim.start_meeting(live)
    answer = pro.delete(f"/meetings/{live}")
    assert answer.status_code == 400 and answer.json()["code"] == 3002
    assert pro.get(f"/meetings/{live}").json()["status"] == "started"
    sim.end_meeting(live)
    ended = pro.delete(f"/meetings/{live}")
    assert ended.status_code == 400 and ended.json()["code"] == 3007


def test_other_hosts_meetings(sim, pro):
    basic = Api(sim, connect(sim, "basic@zoomsim.test")["access_token"])
    other = Api(
        sim,
        connect(sim, "other@otheraccount.test", "zoomsim-published-client-id", "zoomsim-published-client-secret")[
            "access_token"
        ],
    )
    meeting_id = pro.create().json()["id"]
    same_account = basic.delete(f"/meetings/{meeting_id}")
    assert same_account.status_code == 400 and same_account.json()["code"] == 3003
    assert other.get(f"/meetings/{meeting_id}").json()["code"] == 3001
    assert other.get("/users/zsPROuser0000000000001/meetings").json()["code"] == 1001


def test_list_pages_with_next_page_token(pro):
    ids = [pro.create(start_time=f"2030-03-{day:02d}T10:00:00Z").json()["id"] for day in range(1, 6)]
    seen, token, pages = [], "", 0
    while True:
        answer = pro.get("/users/me/meetings", params={"type": "upcoming", "page_size": 2, "next_page_token": token})
        assert answer.status_code == 200
        body = answer.json()
        assert body["total_records"] == 5 and body["page_size"] == 2
        seen += [m["id"] for m in body["meetings"]]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert seen == ids and pages == 3
    assert {"id", "uuid", "topic", "start_time", "duration", "timezone", "join_url"} <= set(body["meetings"][0])


def test_list_upcoming_leaves_out_past_meetings(sim):
    sim.set_clock(now="2030-01-10T00:00:00Z")
    pro = Api(sim, connect(sim)["access_token"])
    pro.create(start_time="2030-01-09T10:00:00Z")
    future = pro.create(start_time="2030-01-11T10:00:00Z").json()["id"]
    upcoming = pro.get("/users/me/meetings", params={"type": "upcoming"}).json()["meetings"]
    assert [m["id"] for m in upcoming] == [future]
    assert len(pro.get("/users/me/meetings", params={"type": "scheduled"}).json()["meetings"]) == 2


def test_missing_or_bad_token_is_124(sim):
    assert Api(sim, "garbage").get("/users/me").json() == {"code": 124, "message": "Invalid access token."}
    api = Api(sim, "x")
    del api.session.headers["Authorization"]
    answer = api.get("/users/me")
    assert answer.status_code == 401 and answer.json()["code"] == 124


def test_rate_limit_headers_on_every_response(pro):
    for answer, category in (
        (pro.get("/users/me"), "Light"),
        (pro.create(), "Medium"),
        (pro.get("/meetings/1"), "Light"),
    ):
        assert answer.headers["X-RateLimit-Category"] == category
        assert answer.headers["X-RateLimit-Type"] == "QPS"
        assert int(answer.headers["X-RateLimit-Limit"]) > 0
        assert "X-RateLimit-Remaining" in answer.headers


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"topic": "t" * 201}, "topic"),
        ({"agenda": "a" * 2001}, "agenda"),
        ({"password": "12345678901"}, "password"),
        ({"password": "bad pass"}, "password"),
        ({"password": "p!"}, "password"),
        ({"start_time": "2030-01-15 10:00"}, "start_time"),
        ({"start_time": "2030-01-15T10:00:00+01:00"}, "start_time"),
        ({"start_time": "2030-02-30T10:00:00Z"}, "start_time"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"duration": "60"}, "duration"),
        ({"settings": {"jbh_time": 7}}, "settings.jbh_time"),
        ({"settings": {"auto_recording": "tape"}}, "settings.auto_recording"),
    ],
)
def test_validation_errors_are_code_300_with_errors_list(pro, sim, body, field):
    answer = pro.create(**body)
    assert answer.status_code == 400
    payload = answer.json()
    assert payload["code"] == 300 and payload["message"] == "Validation Failed."
    assert field in [error["field"] for error in payload["errors"]]
    assert sim.meetings() == []


def test_limits_are_inclusive(pro):
    answer = pro.create(topic="t" * 200, agenda="a" * 2000, password="Ab1@_*-xyz")
    assert answer.status_code == 201


def test_non_json_body(pro):
    answer = pro.post("/users/me/meetings", data="not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json() == {"code": 300, "message": "Request Body should be a valid JSON object."}


def test_patch_validates_too_and_changes_nothing(pro):
    meeting_id = pro.create(topic="Kept").json()["id"]
    answer = pro.patch(f"/meetings/{meeting_id}", json={"topic": "New", "timezone": "Nowhere/Special"})
    assert answer.json()["code"] == 300
    assert pro.get(f"/meetings/{meeting_id}").json()["topic"] == "Kept"


@pytest.mark.parametrize(
    ("local", "zone", "utc"),
    [
        ("2030-07-01T10:00:00", "Europe/London", "2030-07-01T09:00:00Z"),  # BST, UTC+1
        ("2030-01-15T10:00:00", "Europe/London", "2030-01-15T10:00:00Z"),  # GMT
        ("2030-03-31T02:30:00", "Europe/Berlin", "2030-03-31T01:30:00Z"),  # the day CEST starts, 02:30 -> +2 after
        ("2030-03-30T02:30:00", "Europe/Berlin", "2030-03-30T01:30:00Z"),  # the day before: CET +1
        ("2030-11-03T09:00:00", "America/New_York", "2030-11-03T14:00:00Z"),  # EST after the switch
        ("2030-11-02T09:00:00", "America/New_York", "2030-11-02T13:00:00Z"),  # EDT the day before
        ("2030-07-01T10:00:00", "Australia/Sydney", "2030-07-01T00:00:00Z"),  # AEST (southern winter)
        ("2030-01-01T10:00:00", "Australia/Sydney", "2029-12-31T23:00:00Z"),  # AEDT
    ],
)
def test_local_start_time_with_timezone_is_converted_dst_correctly(pro, local, zone, utc):
    meeting = pro.create(start_time=local, timezone=zone).json()
    assert meeting["start_time"] == utc and meeting["timezone"] == zone


def test_local_start_time_without_timezone_uses_the_users_zone(sim):
    basic = Api(sim, connect(sim, "basic@zoomsim.test")["access_token"])  # America/New_York
    body = {"topic": "x", "type": 2, "start_time": "2030-07-01T10:00:00", "duration": 30}
    meeting = basic.post("/users/me/meetings", json=body).json()
    assert meeting["start_time"] == "2030-07-01T14:00:00Z" and meeting["timezone"] == "America/New_York"


def test_patch_local_time_uses_the_meetings_zone(pro):
    meeting_id = pro.create(timezone="Asia/Tokyo").json()["id"]
    pro.patch(f"/meetings/{meeting_id}", json={"start_time": "2030-05-05T09:00:00"})
    assert pro.get(f"/meetings/{meeting_id}").json()["start_time"] == "2030-05-05T00:00:00Z"


# --- scopes ---------------------------------------------------------------------


def test_granular_app_missing_scopes_gets_4711_naming_them(sim):
    limited = Api(
        sim, connect(sim, client_id="zoomsim-limited-client-id", secret="zoomsim-limited-client-secret")["access_token"]
    )
    assert limited.get("/users/me").status_code == 200
    create = limited.create()
    assert create.status_code == 400
    assert create.json() == {
        "code": 4711,
        "message": "Invalid access token, does not contain scopes:"
        "[meeting:write:meeting, meeting:write:meeting:admin].",
    }
    assert "meeting:read:list_meetings" in limited.get("/users/me/meetings").json()["message"]
    assert "meeting:update:meeting" in limited.patch("/meetings/123", json={}).json()["message"]
    assert "meeting:delete:meeting" in limited.delete("/meetings/123").json()["message"]
    assert limited.get("/meetings/123").json()["code"] == 3001  # has meeting:read:meeting


def test_classic_app_uses_classic_scopes(sim):
    classic = Api(
        sim, connect(sim, client_id="zoomsim-classic-client-id", secret="zoomsim-classic-client-secret")["access_token"]
    )
    meeting_id = classic.create().json()["id"]
    assert classic.get(f"/meetings/{meeting_id}").status_code == 200
    assert classic.patch(f"/meetings/{meeting_id}", json={"duration": 30}).status_code == 204
    assert classic.get("/users/me/meetings").status_code == 200
    assert classic.delete(f"/meetings/{meeting_id}").status_code == 204

    sim.edit_app("zoomsim-classic-client-id", scopes="meeting:read user:read")
    reduced = Api(
        sim, connect(sim, client_id="zoomsim-classic-client-id", secret="zoomsim-classic-client-secret")["access_token"]
    )
    answer = reduced.create()
    assert answer.json() == {
        "code": 4711,
        "message": "Invalid access token, does not contain scopes:[meeting:write, meeting:write:admin].",
    }


def test_admin_variant_of_a_scope_is_enough(sim):
    sim.register_app(
        client_id="admin-app",
        client_secret="admin-secret",
        redirect_uri=DEFAULT_REDIRECT_URI,
        scopes="user:read:user:admin meeting:write:meeting:admin",
    )
    api = Api(sim, connect(sim, client_id="admin-app", secret="admin-secret")["access_token"])
    assert api.create().status_code == 201


def test_user_who_may_not_host_gets_3161(sim, pro):
    sim.edit_user("pro@zoomsim.test", can_host=False)
    answer = pro.create()
    assert answer.status_code == 400
    assert answer.json() == {
        "code": 3161,
        "message": "Meeting hosting and scheduling capabilities are not allowed for your user account.",
    }
    assert pro.get("/users/me").status_code == 200


def test_list_cuts_agendas_to_250_characters(pro):
    meeting_id = pro.create(agenda="a" * 300 + "MARKER").json()["id"]
    [listed] = pro.get("/users/me/meetings", params={"type": "upcoming"}).json()["meetings"]
    assert listed["agenda"] == "a" * 250
    assert pro.get(f"/meetings/{meeting_id}").json()["agenda"].endswith("MARKER")


def test_list_gives_what_finds_a_meeting_again_without_a_get(pro):
    """The product recognises a meeting whose create answer was lost by these list fields alone (OpenAPI's list item)."""
    created = pro.create(
        topic="Safety: Induction (session 1 of 2)",
        start_time="2030-01-15T10:00:00",
        timezone="Europe/London",
        duration=90,
        agenda="Bring a hard hat.",
    ).json()
    [listed] = pro.get("/users/me/meetings", params={"type": "upcoming", "page_size": 300}).json()["meetings"]
    assert {key: listed[key] for key in ("id", "topic", "start_time", "duration", "created_at")} == {
        "id": created["id"],
        "topic": "Safety: Induction (session 1 of 2)",
        "start_time": "2030-01-15T10:00:00Z",
        "duration": 90,
        "created_at": created["created_at"],
    }
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", listed["created_at"])
    # Meeting settings (custom_keys among them) are not part of a listed meeting.
    assert "settings" not in listed


@pytest.mark.parametrize("path", ["/meetings/99999999999999999999999999", "/meetings/abc", "/meetings/-1"])
def test_odd_meeting_ids_are_not_found(pro, path):
    answer = pro.get(path)
    assert answer.status_code == 404 and answer.json()["code"] == 3001


@pytest.mark.parametrize(
    "body",
    [
        {"duration": 2**70},
        {"type": 2.0},
        {"start_time": "9999-12-31T23:59:59", "timezone": "Pacific/Pago_Pago"},
        {"settings": "on"},
        {"topic": ["x"]},
    ],
)
def test_odd_bodies_are_validation_errors_not_crashes(pro, body):
    answer = pro.create(**body)
    assert answer.status_code == 400 and answer.json()["code"] == 300
