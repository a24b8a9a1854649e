import time

from simulators.zoom.tests.conftest import Api, connect


def test_manual_delete_sends_signed_meeting_deleted(sim, pro, receiver):
    meeting = pro.create(topic="Doomed").json()
    result = sim.delete_meeting(meeting["id"])
    assert [delivery["status"] for delivery in result["webhooks"]] == [200]
    [received] = receiver.events
    event = received["event"]
    assert event["event"] == "meeting.deleted"
    assert abs(received["timestamp"] - time.time()) < 60
    assert isinstance(event["event_ts"], int)
    assert event["payload"]["account_id"] == "acctA-zoomsim00000001"
    assert event["payload"]["object"]["id"] == meeting["id"]
    assert event["payload"]["object"]["uuid"] == meeting["uuid"]
    assert event["payload"]["object"]["host_id"] == meeting["host_id"]
    assert pro.get(f"/meetings/{meeting['id']}").json()["code"] == 3001


def test_manual_edit_sends_meeting_updated_with_old_and_new(sim, pro, receiver):
    meeting = pro.create(start_time="2030-01-15T10:00:00Z").json()
    result = sim.edit_meeting(meeting["id"], start_time="2030-01-16T09:00:00", timezone="Europe/Paris", topic="Moved")
    assert result["meeting"]["start_time"] == "2030-01-16T08:00:00Z"
    [received] = receiver.events
    payload = received["event"]["payload"]
    assert received["event"]["event"] == "meeting.updated"
    assert payload["object"]["start_time"] == "2030-01-16T08:00:00Z" and payload["object"]["topic"] == "Moved"
    assert payload["old_object"]["start_time"] == "2030-01-15T10:00:00Z"
    assert pro.get(f"/meetings/{meeting['id']}").json()["topic"] == "Moved"


def test_edits_without_webhook(sim, pro, receiver):
    meeting_id = pro.create().json()["id"]
    sim.edit_meeting(meeting_id, topic="Quiet", notify=False)
    sim.delete_meeting(meeting_id, notify=False)
    assert receiver.events == []


def test_a_wrong_secret_fails_the_receivers_check(sim, pro, receiver):
    sim.edit_app("zoomsim-client-id", webhook_secret="another-secret")
    meeting_id = pro.create().json()["id"]
    result = sim.delete_meeting(meeting_id)
    assert [delivery["status"] for delivery in result["webhooks"]] == [401]
    assert receiver.events == []


def test_url_validation(sim, receiver):
    result = sim.validate_webhook("zoomsim-client-id")
    assert result["ok"] is True
    assert receiver.events[0]["event"]["event"] == "endpoint.url_validation"
    receiver.answer_validation_wrongly = True
    wrong = sim.validate_webhook("zoomsim-client-id")
    assert wrong["ok"] is False and "encryptedToken" in wrong["error"]


def test_url_validation_of_an_unreachable_endpoint(sim):
    sim.edit_app("zoomsim-client-id", webhook_url="http://127.0.0.1:9/nothing")
    result = sim.validate_webhook("zoomsim-client-id")
    assert result["ok"] is False and result["error"]


def test_app_deauthorized_revokes_and_notifies(sim, receiver):
    tokens = connect(sim)
    delivery = sim.deauthorize("zoomsim-client-id", "pro@zoomsim.test", force=True)
    assert delivery["status"] == 200 and delivery["delivered"] is True
    event = receiver.events[0]["event"]
    assert event["event"] == "app_deauthorized"
    assert event["payload"]["user_id"] == "zsPROuser0000000000001"
    assert event["payload"]["client_id"] == "zoomsim-client-id"
    assert {"account_id", "signature", "deauthorization_time", "user_data_retention"} <= set(event["payload"])
    assert Api(sim, tokens["access_token"]).get("/users/me").json()["code"] == 124


def test_start_and_end_send_events(sim, pro, receiver):
    meeting_id = pro.create().json()["id"]
    sim.start_meeting(meeting_id, host_joins=False)
    sim.end_meeting(meeting_id)
    assert [r["event"]["event"] for r in receiver.events] == ["meeting.started", "meeting.ended"]
    assert len(sim.webhook_deliveries()) == 2


def test_the_host_joins_a_started_meeting_by_default(sim, pro, receiver):
    meeting_id = pro.create().json()["id"]
    sim.start_meeting(meeting_id)
    sim.end_meeting(meeting_id)
    assert [r["event"]["event"] for r in receiver.events] == [
        "meeting.started",
        "meeting.participant_joined",
        "meeting.participant_left",
        "meeting.ended",
    ]
    host = receiver.events[1]["event"]["payload"]["object"]["participant"]
    assert (host["user_name"], host["email"], host["id"]) == ("Pat Pro", "pro@zoomsim.test", "zsPROuser0000000000001")


def test_signature_timestamp_is_real_time_even_when_the_clock_moves(sim, pro, receiver):
    meeting_id = pro.create().json()["id"]
    sim.advance_clock(3 * 24 * 3600)
    sim.delete_meeting(meeting_id)
    [received] = receiver.events
    assert abs(received["timestamp"] - time.time()) < 60
    assert received["event"]["event_ts"] / 1000 - time.time() > 2 * 24 * 3600


def test_failed_delivery_is_retried_after_5_20_60_minutes_then_dropped(sim, pro):
    sim.freeze_clock()
    sim.edit_app("zoomsim-client-id", webhook_url="http://127.0.0.1:9/down")
    meeting_id = pro.create().json()["id"]
    sim.delete_meeting(meeting_id)
    assert len(sim.webhook_deliveries()) == 1
    for minutes, attempt in ((5, 2), (20, 3), (60, 4)):
        sim.advance_clock(minutes * 60 - 1)
        assert len(sim.webhook_deliveries()) == attempt - 1
        sim.advance_clock(1)
        deliveries = sim.webhook_deliveries()
        assert len(deliveries) == attempt and deliveries[-1]["attempt"] == attempt
    assert sim.webhook_retries() == []
    sim.advance_clock(24 * 3600)
    assert len(sim.webhook_deliveries()) == 4


def test_a_retry_reaches_an_endpoint_that_came_back(sim, pro, receiver):
    sim.freeze_clock()
    sim.edit_app("zoomsim-client-id", webhook_url="http://127.0.0.1:9/down")
    meeting_id = pro.create().json()["id"]
    sim.delete_meeting(meeting_id)
    sim.edit_app("zoomsim-client-id", webhook_url=receiver.url)
    sim.advance_clock(5 * 60)
    assert [r["event"]["event"] for r in receiver.events] == ["meeting.deleted"]
    assert sim.webhook_retries() == []


def test_app_deauthorized_goes_only_to_published_apps_unless_forced(sim, receiver):
    tokens = connect(sim)
    result = sim.deauthorize("zoomsim-client-id", "pro@zoomsim.test")
    assert result["delivered"] is False and "published" in result["error"]
    assert receiver.events == []
    assert Api(sim, tokens["access_token"]).get("/users/me").json()["code"] == 124


def _wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_api_changes_send_events_only_when_switched_on(sim, pro, receiver):
    meeting_id = pro.create().json()["id"]
    pro.patch(f"/meetings/{meeting_id}", json={"topic": "Renamed"})
    assert not _wait_for(lambda: receiver.events, seconds=0.5)

    sim.limits(api_change_webhooks=True)
    second = pro.create(topic="Echo").json()["id"]
    pro.patch(f"/meetings/{second}", json={"topic": "Echo 2"})
    pro.delete(f"/meetings/{second}")
    assert _wait_for(lambda: len(receiver.events) == 3)
    events = {r["event"]["event"]: r["event"]["payload"] for r in receiver.events}
    assert set(events) == {"meeting.created", "meeting.updated", "meeting.deleted"}
    assert events["meeting.updated"]["object"]["topic"] == "Echo 2"
    assert events["meeting.updated"]["old_object"]["topic"] == "Echo"
    assert events["meeting.deleted"]["object"]["id"] == second
