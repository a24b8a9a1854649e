import time

import pytest
import requests

from simulators.zoom.tests.conftest import Api, connect, token_request


def test_forced_500_and_502(sim, pro):
    sim.next_fault("meetings.create", "error_500")
    sim.next_fault("meetings.create", "error_502")
    first, second, third = pro.create(), pro.create(), pro.create()
    assert first.status_code == 500 and first.json()["code"] == 500
    assert second.status_code == 502 and "Bad Gateway" in second.text
    assert third.status_code == 201
    assert len(sim.meetings()) == 1  # failed requests were not applied


def test_timeout_hangs_longer_than_the_clients_read_timeout(sim, pro):
    sim.set_faults(timeout_seconds=2)
    sim.next_fault("meetings.get", "timeout")
    meeting_id = pro.create().json()["id"]
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        pro.get(f"/meetings/{meeting_id}", timeout=0.5)
    assert time.monotonic() - started < 2
    assert pro.get(f"/meetings/{meeting_id}").status_code == 200


def test_drop_applies_the_request_then_closes_the_connection(sim, pro):
    sim.next_fault("meetings.create", "drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        pro.create(topic="Lost answer")
    assert [m["topic"] for m in sim.meetings()] == ["Lost answer"]
    assert sim.requests()[-1]["status"] == "close"


def test_drop_as_504(sim, pro):
    meeting_id = pro.create().json()["id"]
    sim.set_faults(drop_mode="504")
    sim.next_fault("meetings.delete", "drop")
    answer = pro.delete(f"/meetings/{meeting_id}")
    assert answer.status_code == 504
    assert [m["deleted"] for m in sim.meetings()] == [True]


def test_injected_429(sim, pro):
    sim.next_fault("meetings.update", "rate_429")
    answer = pro.patch("/meetings/123", json={})
    assert answer.status_code == 429
    assert (
        answer.json()["message"] == "You have reached the maximum per-second rate limit for this API. Try again later."
    )
    assert "X-RateLimit-Reset" in answer.headers


def test_slow_responses(sim, pro):
    sim.set_faults(route="users.me", delay_ms=400)
    started = time.monotonic()
    assert pro.get("/users/me").status_code == 200
    assert time.monotonic() - started >= 0.4


def test_rates_are_deterministic_for_a_seed(sim, pro):
    sim.freeze_clock()

    def run():
        sim.advance_clock(1)  # a fresh per-second window: only the injected faults fail
        sim.set_faults(seed=7, route="users.me", error_500=0.3, error_502=0.2)
        return [pro.get("/users/me").status_code for _ in range(30)]

    first = run()
    second = run()
    assert first == second
    assert {200, 500, 502} == set(first)
    sim.clear_faults()
    assert {pro.get("/users/me").status_code for _ in range(10)} == {200}


def test_wildcard_route_and_token_endpoint_faults(sim):
    tokens = connect(sim)
    sim.next_fault("*", "error_502")
    refresh = token_request(sim, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 502
    # The refresh was not applied: the refresh token still works.
    assert (
        token_request(sim, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).status_code == 200
    )


def test_bad_fault_config_is_refused(sim):
    with pytest.raises(Exception, match="unknown route"):
        sim.set_faults(route="meetings.explode", error_500=0.5)
    with pytest.raises(Exception, match="add up to more than 1"):
        sim.set_faults(route="users.me", error_500=0.7, drop=0.5)


def test_revoke_a_users_tokens(sim, pro):
    assert sim.revoke_tokens("pro@zoomsim.test")["revoked"] == 2
    answer = pro.get("/users/me")
    assert answer.status_code == 401 and answer.json()["code"] == 124


def test_request_log_counts_calls(sim, pro):
    sim.clear_requests()
    pro.create()
    pro.get("/users/me")
    log = sim.requests()
    assert [(entry["route"], entry["status"]) for entry in log] == [("meetings.create", 201), ("users.me", 200)]
    assert log[0]["user"] == "pro@zoomsim.test"
    assert sim.requests(since=log[0]["seq"]) == log[1:]


def test_reset_returns_to_the_seeded_world(sim, pro):
    pro.create()
    sim.advance_clock(3600 * 24)
    sim.set_faults(route="*", error_500=1.0)
    sim.reset()
    assert sim.meetings() == []
    assert abs(sim.clock()["offset_seconds"]) < 1
    assert sim.faults()["rates"] == {}
    assert {user["email"] for user in sim.users()} == {
        "pro@zoomsim.test",
        "basic@zoomsim.test",
        "other@otheraccount.test",
    }
    assert pro.get("/users/me").status_code == 401
    assert Api(sim, connect(sim)["access_token"]).get("/users/me").status_code == 200


def test_admin_lists_users_apps_and_meetings(sim, pro):
    users = {user["email"]: user for user in sim.users()}
    assert (
        users["basic@zoomsim.test"]["type"] == 1
        and users["other@otheraccount.test"]["account_id"] != users["pro@zoomsim.test"]["account_id"]
    )
    assert all("password" not in user for user in users.values())
    apps = {app["client_id"]: app for app in sim.apps()}
    assert apps["zoomsim-classic-client-id"]["scope_model"] == "classic"
    assert apps["zoomsim-published-client-id"]["published"] == 1
    pro.create(topic="Listed", start_time="2030-05-05T09:00:00", timezone="Europe/Rome", duration=90)
    [meeting] = sim.meetings(host="pro@zoomsim.test")
    assert (
        meeting["host"],
        meeting["topic"],
        meeting["start_time"],
        meeting["timezone"],
        meeting["duration"],
        meeting["deleted"],
    ) == ("pro@zoomsim.test", "Listed", "2030-05-05T07:00:00Z", "Europe/Rome", 90, False)
    assert sim.meetings(host="basic@zoomsim.test") == []
