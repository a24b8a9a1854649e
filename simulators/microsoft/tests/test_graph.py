"""Graph over HTTP: /me, the online meetings of the signed-in user (createOrGet, read, change in place,
delete), bearer tokens, permissions, the Teams licence, throttling and faults, in Graph's shapes."""

import requests

from simulators.microsoft.tests.conftest import TIMEOUT, TRAINER, connect, graph

BODY = {
    "externalId": "vm-1.abc",
    "subject": "Week 1",
    "startDateTime": "2026-07-01T10:00:00+01:00",
    "endDateTime": "2026-07-01T11:30:00+01:00",
}


def assert_graph_error(answer, status: int, code: str):
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}


def test_me(sim):
    token = connect(sim)["access_token"]
    me = graph(sim, "GET", "/me", token).json()
    assert me["displayName"] == "Taylor Trainer"
    assert me["mail"] == me["userPrincipalName"] == TRAINER
    assert me["id"]


def test_create_or_get_read_change_in_place_delete(sim):
    token = connect(sim)["access_token"]
    made = graph(sim, "POST", "/me/onlineMeetings/createOrGet", token, json=BODY)
    assert made.status_code == 201, made.text
    meeting = made.json()
    # Times come back in UTC with seven fractional digits.
    assert meeting["startDateTime"] == "2026-07-01T09:00:00.0000000Z"
    assert meeting["endDateTime"] == "2026-07-01T10:30:00.0000000Z"
    assert meeting["subject"] == "Week 1" and meeting["externalId"] == "vm-1.abc"
    assert meeting["joinWebUrl"].startswith(f"{sim.url}/l/meetup-join/19%3Ameeting_")
    path = "/me/onlineMeetings/" + requests.utils.quote(meeting["id"], safe="")

    again = graph(sim, "POST", "/me/onlineMeetings/createOrGet", token, json={**BODY, "subject": "Other"})
    assert again.status_code == 200 and again.json()["id"] == meeting["id"] and again.json()["subject"] == "Week 1"
    assert len(sim.meetings()) == 1

    assert graph(sim, "GET", path, token).json()["joinWebUrl"] == meeting["joinWebUrl"]

    moved = graph(
        sim,
        "PATCH",
        path,
        token,
        json={"startDateTime": "2026-07-02T15:30:00+05:30", "endDateTime": "2026-07-02T16:30:00+05:30"},
    ).json()
    assert (moved["id"], moved["joinWebUrl"]) == (meeting["id"], meeting["joinWebUrl"])
    assert moved["startDateTime"] == "2026-07-02T10:00:00.0000000Z"
    assert moved["subject"] == "Week 1"
    renamed = graph(sim, "PATCH", path, token, json={"subject": "Week 1 (moved)"}).json()
    assert renamed["subject"] == "Week 1 (moved)" and renamed["startDateTime"] == moved["startDateTime"]

    assert graph(sim, "DELETE", path, token).status_code == 204
    assert_graph_error(graph(sim, "GET", path, token), 404, "NotFound")
    assert_graph_error(graph(sim, "DELETE", path, token), 404, "NotFound")


def test_a_move_needs_both_times(sim):
    token = connect(sim)["access_token"]
    meeting = graph(sim, "POST", "/me/onlineMeetings", token, json=BODY).json()
    path = "/me/onlineMeetings/" + requests.utils.quote(meeting["id"], safe="")
    answer = graph(sim, "PATCH", path, token, json={"startDateTime": "2026-07-01T12:00:00Z"})
    assert_graph_error(answer, 400, "BadRequest")
    assert_graph_error(graph(sim, "PATCH", path, token, json={"joinWebUrl": "x"}), 400, "BadRequest")


def test_create_defaults_and_bad_times(sim):
    token = connect(sim)["access_token"]
    made = graph(
        sim, "POST", "/me/onlineMeetings", token, json={"subject": "Now", "startDateTime": "2026-07-01T10:00:00Z"}
    )
    assert made.json()["endDateTime"] == "2026-07-01T11:00:00.0000000Z"
    assert_graph_error(
        graph(sim, "POST", "/me/onlineMeetings", token, json={"endDateTime": "2026-07-01T10:00:00Z"}), 400, "BadRequest"
    )
    assert_graph_error(
        graph(
            sim,
            "POST",
            "/me/onlineMeetings",
            token,
            json={"startDateTime": "2026-07-01T10:00:00Z", "endDateTime": "2026-07-01T09:00:00Z"},
        ),
        400,
        "BadRequest",
    )


def test_another_users_meeting_is_not_found(sim):
    mine = connect(sim)["access_token"]
    theirs = connect(sim, "trainer@fabrikam.test")["access_token"]
    meeting = graph(sim, "POST", "/me/onlineMeetings/createOrGet", mine, json=BODY).json()
    path = "/me/onlineMeetings/" + requests.utils.quote(meeting["id"], safe="")
    assert_graph_error(graph(sim, "GET", path, theirs), 404, "NotFound")
    # The same externalId of another user makes that user's own meeting.
    other = graph(sim, "POST", "/me/onlineMeetings/createOrGet", theirs, json=BODY)
    assert other.status_code == 201 and other.json()["id"] != meeting["id"]


def test_bearer_tokens(sim):
    assert_graph_error(graph(sim, "GET", "/me", ""), 401, "InvalidAuthenticationToken")
    assert_graph_error(graph(sim, "GET", "/me", "made-up"), 401, "InvalidAuthenticationToken")
    token = connect(sim)["access_token"]
    sim.advance_clock(3600)
    answer = graph(sim, "GET", "/me", token)
    assert_graph_error(answer, 401, "InvalidAuthenticationToken")
    assert "expired" in answer.json()["error"]["message"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer ")


def test_missing_permission_and_missing_licence_are_403(sim):
    without = connect(sim, "noperm@contoso.test")["access_token"]
    assert graph(sim, "GET", "/me", without).status_code == 200
    assert_graph_error(graph(sim, "POST", "/me/onlineMeetings/createOrGet", without, json=BODY), 403, "Forbidden")
    unlicensed = connect(sim, "nolicence@contoso.test")["access_token"]
    assert_graph_error(graph(sim, "POST", "/me/onlineMeetings/createOrGet", unlicensed, json=BODY), 403, "Forbidden")
    sim.edit_user("nolicence@contoso.test", licensed=True)
    assert graph(sim, "POST", "/me/onlineMeetings/createOrGet", unlicensed, json=BODY).status_code == 201


def test_throttling_answers_429_with_retry_after_in_seconds(sim):
    token = connect(sim)["access_token"]
    sim.freeze_clock()
    sim.set_throttle(requests=2, window_seconds=10)
    assert [graph(sim, "GET", "/me", token).status_code for _ in range(2)] == [200, 200]
    refused = graph(sim, "GET", "/me", token)
    assert_graph_error(refused, 429, "TooManyRequests")
    assert refused.headers["Retry-After"] == "10"
    sim.advance_clock(10)
    assert graph(sim, "GET", "/me", token).status_code == 200


def test_faults_503_with_retry_after_504_and_a_lost_answer(sim):
    token = connect(sim)["access_token"]
    sim.set_faults(retry_after=7)
    sim.queue_fault("graph.meetings.createOrGet", "error_503")
    sim.queue_fault("graph.meetings.createOrGet", "error_504")
    busy = graph(sim, "POST", "/me/onlineMeetings/createOrGet", token, json=BODY)
    assert_graph_error(busy, 503, "serviceNotAvailable")
    assert busy.headers["Retry-After"] == "7"
    assert graph(sim, "POST", "/me/onlineMeetings/createOrGet", token, json=BODY).status_code == 504
    assert sim.meetings() == []

    sim.queue_fault("graph.meetings.createOrGet", "drop")
    try:
        graph(sim, "POST", "/me/onlineMeetings/createOrGet", token, json=BODY)
        raise AssertionError("the answer should have been lost")
    except requests.ConnectionError:
        pass
    assert len(sim.meetings()) == 1  # made, though its answer was lost
    assert graph(sim, "POST", "/me/onlineMeetings/createOrGet", token, json=BODY).status_code == 200
    routes = [(entry["route"], entry["status"]) for entry in sim.requests()]
    assert ("graph.meetings.createOrGet", "close") in routes


def test_join_page_and_a_meeting_deleted_in_teams(sim):
    token = connect(sim)["access_token"]
    meeting = graph(sim, "POST", "/me/onlineMeetings/createOrGet", token, json=BODY).json()
    page = requests.get(meeting["joinWebUrl"], timeout=TIMEOUT)
    assert page.status_code == 200 and "Week 1" in page.text and "Taylor Trainer" in page.text
    sim.delete_meeting(meeting["id"])
    assert requests.get(meeting["joinWebUrl"], timeout=TIMEOUT).status_code == 404
    path = "/me/onlineMeetings/" + requests.utils.quote(meeting["id"], safe="")
    assert_graph_error(graph(sim, "GET", path, token), 404, "NotFound")
