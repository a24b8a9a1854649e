"""The Server-to-Server OAuth app (zoom-api.md, "Server-to-Server OAuth"): the account_credentials grant,
one-hour account tokens with admin scopes, the account's users, and meetings made for any of them."""

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from simulators.zoom.tests.conftest import TIMEOUT, Api, basic, connect

ACCOUNT_A = "acctA-zoomsim00000001"
ACCOUNT_B = "acctB-otheraccount0001"
S2S_ID, S2S_SECRET = "zoomsim-s2s-client-id", "zoomsim-s2s-client-secret"
INVALID_CLIENT = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}


def account_token(sim, account_id=ACCOUNT_A, client_id=S2S_ID, secret=S2S_SECRET, *, in_body=False):
    params = {"grant_type": "account_credentials", "account_id": account_id}
    return requests.post(
        f"{sim.url}/oauth/token",
        params=None if in_body else params,
        data=params if in_body else None,
        headers={"Authorization": basic(client_id, secret)},
        timeout=TIMEOUT,
    )


@pytest.fixture
def admin_api(sim):
    answer = account_token(sim)
    assert answer.status_code == 200, answer.text
    return Api(sim, answer.json()["access_token"])


def meeting_body(**body):
    return {
        "topic": "Seminar",
        "type": 2,
        "start_time": "2030-01-15T10:00:00Z",
        "duration": 60,
        "timezone": "Europe/London",
    } | body


# --- the grant --------------------------------------------------------------------------------------


@pytest.mark.parametrize("in_body", [False, True])
def test_the_grant_gives_a_one_hour_account_token_with_admin_scopes_and_no_refresh_token(sim, in_body):
    answer = account_token(sim, in_body=in_body)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "api_url"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3599
    scopes = body["scope"].split()
    assert {"meeting:write:meeting:admin", "user:read:list_users:admin"} <= set(scopes)
    assert all(scope.endswith(":admin") for scope in scopes)


def test_the_token_expires_after_an_hour(sim, admin_api):
    assert admin_api.get("/users").status_code == 200
    sim.advance_clock(3599)
    assert admin_api.get("/users").status_code == 200
    sim.advance_clock(1)
    expired = admin_api.get("/users")
    assert (expired.status_code, expired.json()) == (401, {"code": 124, "message": "Access token is expired."})


@pytest.mark.parametrize(
    ("account_id", "client_id", "secret", "status", "body"),
    [
        (ACCOUNT_B, S2S_ID, S2S_SECRET, 400, {"reason": "Invalid account_id", "error": "invalid_request"}),
        ("no-such-account", S2S_ID, S2S_SECRET, 400, {"reason": "Invalid account_id", "error": "invalid_request"}),
        ("", S2S_ID, S2S_SECRET, 400, {"reason": "Invalid account_id", "error": "invalid_request"}),
        (ACCOUNT_A, "no-such-client", S2S_SECRET, 400, INVALID_CLIENT),
        (ACCOUNT_A, S2S_ID, "wrong-secret", 400, INVALID_CLIENT),
        (
            ACCOUNT_A,
            "zoomsim-client-id",
            "zoomsim-client-secret",
            400,
            {"reason": "Unsupported grant type", "error": "unsupported_grant_type"},
        ),
    ],
    ids=["other-account", "unknown-account", "no-account", "bad-client", "bad-secret", "general-app"],
)
def test_refusals_in_the_token_endpoints_shape(sim, account_id, client_id, secret, status, body):
    answer = account_token(sim, account_id, client_id, secret)
    assert (answer.status_code, answer.json()) == (status, body)


def test_a_server_to_server_app_has_no_other_grant(sim):
    answer = requests.post(
        f"{sim.url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers={"Authorization": basic(S2S_ID, S2S_SECRET)},
        timeout=TIMEOUT,
    )
    assert (answer.status_code, answer.json()["error"]) == (400, "unsupported_grant_type")


def test_a_general_apps_bad_client_keeps_its_401(sim):
    answer = requests.post(
        f"{sim.url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers={"Authorization": basic("zoomsim-client-id", "wrong")},
        timeout=TIMEOUT,
    )
    assert (answer.status_code, answer.json()) == (401, INVALID_CLIENT)


# --- the account's users ----------------------------------------------------------------------------


def test_users_lists_the_accounts_active_users_paged(sim, admin_api):
    sim.add_users(count=4)
    sim.add_users(users=[{"email": "gone@zoomsim.test", "first_name": "Gone", "status": "inactive"}])
    sim.add_users(ACCOUNT_B, users=[{"email": "b2@otheraccount.test"}])

    first = admin_api.get("/users", params={"status": "active", "page_size": 4})
    assert first.status_code == 200
    body = first.json()
    assert (body["total_records"], body["page_size"], body["page_count"], len(body["users"])) == (6, 4, 2, 4)
    assert body["next_page_token"]
    second = admin_api.get(
        "/users", params={"status": "active", "page_size": 4, "next_page_token": body["next_page_token"]}
    )
    rest = second.json()
    assert (len(rest["users"]), rest["next_page_token"], rest["page_number"]) == (2, "", 2)

    emails = {user["email"] for user in body["users"] + rest["users"]}
    assert {"pro@zoomsim.test", "basic@zoomsim.test"} <= emails and len(emails) == 6
    assert "gone@zoomsim.test" not in emails and "b2@otheraccount.test" not in emails
    pro = next(user for user in body["users"] + rest["users"] if user["email"] == "pro@zoomsim.test")
    assert (pro["type"], pro["status"], pro["id"]) == (2, "active", "zsPROuser0000000000001")

    inactive = admin_api.get("/users", params={"status": "inactive"}).json()
    assert [user["email"] for user in inactive["users"]] == ["gone@zoomsim.test"]
    assert admin_api.get("/users", params={"status": "gone"}).status_code == 400


def test_a_user_by_id_or_email_within_the_account_only(sim, admin_api):
    by_email = admin_api.get("/users/basic@zoomsim.test")
    assert (by_email.status_code, by_email.json()["id"], by_email.json()["type"]) == (200, "zsBASICuser00000000001", 1)
    assert admin_api.get("/users/zsBASICuser00000000001").json()["email"] == "basic@zoomsim.test"
    outside = admin_api.get("/users/other@otheraccount.test")
    assert (outside.status_code, outside.json()["code"]) == (404, 1001)


def test_a_user_token_may_not_list_the_accounts_users(sim, pro):
    answer = pro.get("/users")
    assert answer.status_code == 400
    assert answer.json()["code"] == 4711 and "user:read:list_users:admin" in answer.json()["message"]


def test_an_app_without_the_user_scope_is_told_which_one(sim):
    token = account_token(sim, client_id="zoomsim-s2s-limited-client-id", secret="zoomsim-s2s-limited-client-secret")
    answer = Api(sim, token.json()["access_token"]).get("/users")
    assert answer.status_code == 400
    assert answer.json() == {
        "code": 4711,
        "message": "Invalid access token, does not contain scopes:[user:read:list_users:admin].",
    }


def test_classic_admin_scopes_work_too(sim):
    token = account_token(sim, client_id="zoomsim-s2s-classic-client-id", secret="zoomsim-s2s-classic-client-secret")
    assert token.json()["scope"].split()[:3] == ["meeting:read:admin", "meeting:write:admin", "user:read:admin"]
    api = Api(sim, token.json()["access_token"])
    assert api.get("/users").json()["total_records"] == 2
    assert api.post("/users/basic@zoomsim.test/meetings", json=meeting_body()).status_code == 201


# --- meetings for any user of the account -------------------------------------------------------------


def test_an_account_token_makes_and_changes_meetings_for_any_user_of_the_account(sim, admin_api):
    made = admin_api.post("/users/basic@zoomsim.test/meetings", json=meeting_body(topic="For Bea"))
    assert made.status_code == 201
    meeting = made.json()
    assert (meeting["host_id"], meeting["host_email"]) == ("zsBASICuser00000000001", "basic@zoomsim.test")
    by_id = admin_api.post("/users/zsPROuser0000000000001/meetings", json=meeting_body(topic="For Pat"))
    assert by_id.json()["host_email"] == "pro@zoomsim.test"

    listed = admin_api.get("/users/basic@zoomsim.test/meetings", params={"type": "upcoming"}).json()
    assert [m["topic"] for m in listed["meetings"]] == ["For Bea"]
    assert admin_api.get(f"/meetings/{meeting['id']}").json()["start_url"]
    assert admin_api.patch(f"/meetings/{meeting['id']}", json={"topic": "Moved"}).status_code == 204
    assert admin_api.delete(f"/meetings/{meeting['id']}").status_code == 204
    # The daily create+update budget is the host's: Bea's create and update, Pat's create.
    assert sim.quota("basic@zoomsim.test")["used"] == 2
    assert sim.quota("pro@zoomsim.test")["used"] == 1


def test_an_account_token_stays_in_its_account(sim, admin_api):
    other = Api(
        sim,
        connect(sim, "other@otheraccount.test", "zoomsim-published-client-id", "zoomsim-published-client-secret")[
            "access_token"
        ],
    )
    theirs = other.create().json()
    refused = admin_api.post("/users/other@otheraccount.test/meetings", json=meeting_body())
    assert (refused.status_code, refused.json()["code"]) == (404, 1001)
    assert admin_api.get(f"/meetings/{theirs['id']}").json()["code"] == 3001
    assert admin_api.delete(f"/meetings/{theirs['id']}").status_code == 404


def test_a_user_token_is_refused_on_another_users_meetings(sim, pro, admin_api):
    beas = admin_api.post("/users/basic@zoomsim.test/meetings", json=meeting_body()).json()
    create = pro.post("/users/basic@zoomsim.test/meetings", json=meeting_body())
    assert (create.status_code, create.json()["code"]) == (404, 1001)
    listing = pro.get("/users/zsBASICuser00000000001/meetings")
    assert (listing.status_code, listing.json()["code"]) == (404, 1001)
    read = pro.get(f"/meetings/{beas['id']}")
    assert (read.status_code, read.json()["code"]) == (400, 3000)
    change = pro.patch(f"/meetings/{beas['id']}", json={"topic": "Mine now"})
    assert (change.status_code, change.json()["code"]) == (400, 3003)
    assert pro.post("/users/me/meetings", json=meeting_body()).json()["host_email"] == "pro@zoomsim.test"


def test_me_with_an_account_token_is_the_apps_creator(sim, admin_api):
    assert admin_api.get("/users/me").json()["email"] == "pro@zoomsim.test"


# --- seeding an account with users ------------------------------------------------------------------


def test_seeding_users_through_the_admin_api(sim):
    made = sim.add_users(count=3, type=1)
    assert [user["email"] for user in made] == [f"host{n:04d}@zoomsim.test" for n in (4, 5, 6)]
    assert {user["type"] for user in made} == {1}
    named = sim.add_users(users=[{"email": "ann@zoomsim.test", "first_name": "Ann", "timezone": "Europe/Paris"}])
    assert (named[0]["first_name"], named[0]["timezone"], named[0]["account_id"]) == ("Ann", "Europe/Paris", ACCOUNT_A)
    with pytest.raises(Exception, match="exists"):
        sim.add_users(users=[{"email": "ann@zoomsim.test"}])
    with pytest.raises(Exception, match="no account"):
        sim.add_users("acct-nobody", count=1)


def test_seeding_users_from_the_command_line(sim):
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulators.zoom",
            "ctl",
            "--url",
            sim.url,
            "add-users",
            "--email",
            "cli@zoomsim.test",
            "--type",
            "1",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "cli@zoomsim.test" in result.stdout
    assert any(user["email"] == "cli@zoomsim.test" and user["type"] == 1 for user in sim.users())
