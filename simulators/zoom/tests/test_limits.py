from simulators.zoom.limits import DAILY_MESSAGE, QPS_MESSAGE
from simulators.zoom.tests.conftest import Api, connect

DAILY = DAILY_MESSAGE.format(limit=100)


def _unthrottled(sim):
    """Raise the per-second buckets so a quick loop of 100 requests meets only the daily quota."""
    sim.limits(per_second={"pro": {"Medium": 1000, "Light": 1000}})


def test_100_creates_and_updates_a_day_then_429_with_retry_after(sim):
    sim.set_clock(now="2030-06-01T23:15:00Z")
    sim.freeze_clock()
    _unthrottled(sim)
    api = Api(sim, connect(sim)["access_token"])
    meeting_id = api.create().json()["id"]
    for _ in range(49):
        assert api.create().status_code == 201
    for _ in range(50):
        assert api.patch(f"/meetings/{meeting_id}", json={"duration": 45}).status_code == 204
    assert sim.quota("pro@zoomsim.test")["used"] == 100

    refused = api.create()
    assert refused.status_code == 429
    assert refused.json() == {"code": 429, "message": DAILY}
    assert refused.headers["Retry-After"] == "2030-06-02T00:00:00Z"
    assert refused.headers["X-RateLimit-Type"] == "Daily-limit"
    assert api.patch(f"/meetings/{meeting_id}", json={"duration": 30}).status_code == 429
    # Reads and deletes are not counted.
    assert api.get(f"/meetings/{meeting_id}").status_code == 200
    assert api.delete(f"/meetings/{meeting_id}").status_code == 204

    sim.set_clock(now="2030-06-01T23:59:59Z")
    assert api.create().status_code == 429
    sim.advance_clock(2)  # past 00:00 UTC, the same access token
    assert api.create().status_code == 201
    assert sim.quota("pro@zoomsim.test")["used"] == 1


def test_quota_is_per_host_user(sim):
    sim.exhaust_quota("pro@zoomsim.test")
    pro = Api(sim, connect(sim)["access_token"])
    basic = Api(sim, connect(sim, "basic@zoomsim.test")["access_token"])
    assert pro.create().status_code == 429
    assert basic.create().status_code == 201


def test_daily_429_without_retry_after_variant(sim):
    sim.limits(daily_variant="bare")
    sim.exhaust_quota("pro@zoomsim.test")
    api = Api(sim, connect(sim)["access_token"])
    refused = api.create()
    assert refused.status_code == 429
    assert refused.json()["message"] == DAILY
    assert "Retry-After" not in refused.headers
    assert "X-RateLimit-Type" not in refused.headers


def test_per_second_bucket_for_a_pro_account(sim):
    sim.freeze_clock()
    api = Api(sim, connect(sim)["access_token"])
    statuses = [api.create().status_code for _ in range(21)]
    assert statuses == [201] * 20 + [429]
    refused = api.create()
    assert refused.json() == {"code": 429, "message": QPS_MESSAGE}
    assert refused.headers["X-RateLimit-Type"] == "QPS"
    assert int(refused.headers["X-RateLimit-Reset"]) == int(sim.clock()["unix"]) + 1
    # Light calls have their own bucket of 30.
    assert [api.get("/users/me").status_code for _ in range(31)] == [200] * 30 + [429]
    sim.advance_clock(1)
    assert api.create().status_code == 201


def test_per_second_bucket_is_shared_by_the_account(sim):
    sim.freeze_clock()
    sim.limits(per_second={"pro": {"Medium": 3}})
    pro = Api(sim, connect(sim)["access_token"])
    basic = Api(sim, connect(sim, "basic@zoomsim.test")["access_token"])
    assert [pro.create().status_code, basic.create().status_code, pro.create().status_code] == [201] * 3
    assert basic.create().status_code == 429


def test_free_account_has_smaller_buckets(sim):
    sim.freeze_clock()
    sim.set_account_plan("acctA-zoomsim00000001", "free")
    api = Api(sim, connect(sim, "basic@zoomsim.test")["access_token"])
    assert [api.create().status_code for _ in range(3)] == [201, 201, 429]
    assert [api.get("/users/me").status_code for _ in range(5)] == [200] * 4 + [429]
    assert api.get("/users/me").headers["X-RateLimit-Limit"] == "4"


def test_remaining_header_counts_down(sim):
    sim.freeze_clock()
    api = Api(sim, connect(sim)["access_token"])
    remaining = [int(api.get("/users/me").headers["X-RateLimit-Remaining"]) for _ in range(3)]
    assert remaining == [29, 28, 27]


def test_deletes_can_count_in_the_daily_quota_like_older_docs(sim):
    sim.limits(daily_counts_deletes=True)
    api = Api(sim, connect(sim)["access_token"])
    meeting_id = api.create().json()["id"]
    sim.set_quota_used("pro@zoomsim.test", 100)
    refused = api.delete(f"/meetings/{meeting_id}")
    assert refused.status_code == 429 and refused.json()["message"] == DAILY
    sim.limits(daily_counts_deletes=False)
    assert api.delete(f"/meetings/{meeting_id}").status_code == 204
