import threading
from urllib.parse import parse_qs, urlsplit

import requests

from simulators.zoom.seed import DEFAULT_REDIRECT_URI
from simulators.zoom.tests.conftest import (
    CLIENT_ID,
    TIMEOUT,
    Api,
    Browser,
    basic,
    connect,
    exchange,
    pkce_pair,
    token_request,
)


def _query(location):
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def test_authorize_asks_to_sign_in_then_shows_the_apps_scopes(person):
    first = person.get(person.authorize_url())
    assert first.status_code == 200
    assert 'action="/signin"' in first.text

    wrong = person.sign_in("pro@zoomsim.test", "nope")
    assert wrong.status_code == 401
    assert "Incorrect email or password." in wrong.text

    consent = person.consent_page("pro@zoomsim.test")
    assert "meeting:write:meeting" in consent.text
    assert "Allow" in consent.text and "Decline" in consent.text
    assert "pro@zoomsim.test" in consent.text


def test_a_second_authorize_skips_the_sign_in_until_sign_out(person):
    person.consent_page("pro@zoomsim.test")
    again = person.get(person.authorize_url())
    assert 'name="txn"' in again.text and 'action="/signin"' not in again.text

    out = person.get(f"{person.sim.url}/logout")
    assert "signed out" in out.text
    assert 'action="/signin"' in person.get(person.authorize_url()).text


def test_allow_redirects_with_code_and_state(person):
    answer = person.decide(person.consent_page("pro@zoomsim.test", state="abc"))
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(DEFAULT_REDIRECT_URI + "?")
    query = _query(answer.headers["Location"])
    assert query["state"] == "abc" and query["code"]


def test_decline_redirects_with_access_denied(person):
    answer = person.decide(person.consent_page("pro@zoomsim.test", state="xyz"), "decline")
    assert answer.status_code == 302
    assert _query(answer.headers["Location"]) == {"error": "access_denied", "state": "xyz"}


def test_unknown_client_wrong_redirect_and_scope_parameter_get_an_error_page(person):
    unknown = person.get(person.authorize_url(client_id="nobody"))
    assert unknown.status_code == 400 and "Invalid client_id" in unknown.text
    mismatch = person.get(person.authorize_url(redirect_uri="http://evil.test/cb"))
    assert mismatch.status_code == 400 and "Invalid redirect" in mismatch.text
    scoped = person.get(person.authorize_url(scope="meeting:write:meeting"))
    assert scoped.status_code == 400 and "Invalid scope" in scoped.text


def test_code_exchange_returns_zoom_token_shape(sim, person):
    answer = exchange(sim, person.code("pro@zoomsim.test"))
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in", "scope"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3599
    assert "meeting:write:meeting" in body["scope"].split()


def test_code_is_single_use(sim, person):
    code = person.code("pro@zoomsim.test")
    assert exchange(sim, code).status_code == 200
    again = exchange(sim, code)
    assert again.status_code == 400
    assert again.json() == {"reason": f"Invalid authorization code {code}", "error": "invalid_request"}


def test_code_expires_after_five_minutes_on_the_simulator_clock(sim, person):
    sim.freeze_clock()
    fresh = person.code("pro@zoomsim.test")
    sim.advance_clock(299)
    assert exchange(sim, fresh).status_code == 200
    stale = person.code("pro@zoomsim.test")
    sim.advance_clock(301)
    answer = exchange(sim, stale)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


def test_redirect_uri_must_match_the_one_at_authorize(sim, person):
    answer = exchange(sim, person.code("pro@zoomsim.test"), redirect_uri="http://localhost:8000/other")
    assert answer.status_code == 400
    assert answer.json() == {"reason": "Redirect URI mismatch.", "error": "invalid_request"}


def test_pkce_s256_is_verified(sim, person):
    verifier, challenge = pkce_pair()
    good = person.code("pro@zoomsim.test", code_challenge=challenge, code_challenge_method="S256")
    assert exchange(sim, good, code_verifier=verifier).status_code == 200
    bad = person.code("pro@zoomsim.test", code_challenge=challenge, code_challenge_method="S256")
    answer = exchange(sim, bad, code_verifier="not-the-verifier")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    missing = person.code("pro@zoomsim.test", code_challenge=challenge, code_challenge_method="S256")
    assert exchange(sim, missing).status_code == 400


def test_parameters_in_the_query_string_are_accepted(sim, person):
    code = person.code("pro@zoomsim.test")
    answer = requests.post(
        f"{sim.url}/oauth/token",
        params={"grant_type": "authorization_code", "code": code, "redirect_uri": DEFAULT_REDIRECT_URI},
        headers={"Authorization": basic()},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200


def test_bad_client_credentials(sim, person):
    code = person.code("pro@zoomsim.test")
    wrong = exchange(sim, code, secret="wrong")
    assert wrong.status_code == 401
    assert wrong.json() == {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
    unknown = exchange(sim, code, client_id="who", secret="x")
    assert unknown.json()["error"] == "invalid_client"
    bare = requests.post(
        f"{sim.url}/oauth/token", data={"grant_type": "authorization_code", "code": code}, timeout=TIMEOUT
    )
    assert bare.status_code == 401 and bare.json()["error"] == "invalid_client"
    other_app = exchange(sim, code, client_id="zoomsim-classic-client-id", secret="zoomsim-classic-client-secret")
    assert other_app.status_code == 400 and other_app.json()["error"] == "invalid_request"


def test_refresh_rotates_and_the_old_refresh_token_dies(sim):
    first = connect(sim)
    second = token_request(sim, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    body = second.json()
    assert body["refresh_token"] != first["refresh_token"] and body["access_token"] != first["access_token"]
    assert body["expires_in"] == 3599 and body["token_type"] == "bearer"
    reused = token_request(sim, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert reused.status_code == 400
    assert reused.json() == {"reason": "Invalid Token!", "error": "invalid_grant"}
    assert Api(sim, body["access_token"]).get("/users/me").status_code == 200


def test_concurrent_refreshes_have_one_winner(sim):
    tokens = connect(sim)
    statuses = []

    def refresh():
        answer = token_request(sim, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400, 400, 400]


def test_reauthorising_revokes_the_users_earlier_tokens(sim):
    old = connect(sim)
    new = connect(sim)
    assert Api(sim, old["access_token"]).get("/users/me").json()["code"] == 124
    stale = token_request(sim, {"grant_type": "refresh_token", "refresh_token": old["refresh_token"]})
    assert stale.json()["error"] == "invalid_grant"
    assert Api(sim, new["access_token"]).get("/users/me").status_code == 200


def test_revoke_kills_the_grant(sim):
    tokens = connect(sim)
    answer = requests.post(
        f"{sim.url}/oauth/revoke",
        data={"token": tokens["access_token"]},
        headers={"Authorization": basic()},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200 and answer.json() == {"status": "success"}
    me = Api(sim, tokens["access_token"]).get("/users/me")
    assert me.status_code == 401 and me.json() == {"code": 124, "message": "Invalid access token."}
    refresh = token_request(sim, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refresh.json()["error"] == "invalid_grant"


def test_access_token_lives_one_hour(sim):
    sim.freeze_clock()
    tokens = connect(sim)
    api = Api(sim, tokens["access_token"])
    sim.advance_clock(3599)
    assert api.get("/users/me").status_code == 200
    sim.advance_clock(2)
    expired = api.get("/users/me")
    assert expired.status_code == 401 and expired.json() == {"code": 124, "message": "Access token is expired."}


def test_private_app_refuses_a_user_of_another_account(sim, person):
    page = person.consent_page("other@otheraccount.test")
    assert page.status_code == 403
    assert "has not been published" in page.text
    assert 'name="txn"' not in page.text


def test_published_app_accepts_another_account_and_unpublishing_gives_1001_1010(sim):
    tokens = connect(sim, "other@otheraccount.test", "zoomsim-published-client-id", "zoomsim-published-client-secret")
    api = Api(sim, tokens["access_token"])
    created = api.create()
    assert created.status_code == 201
    sim.edit_app("zoomsim-published-client-id", published=False)
    me = api.get("/users/me")
    assert me.status_code == 404 and me.json()["code"] == 1001
    meeting = api.get(f"/meetings/{created.json()['id']}")
    assert meeting.status_code == 400
    assert meeting.json() == {"code": 1010, "message": "User does not belong to this account: acctB-otheraccount0001."}


def test_authorisation_page_of_classic_app_lists_classic_scopes(sim):
    page = Browser(sim).consent_page("basic@zoomsim.test", client_id="zoomsim-classic-client-id")
    assert "meeting:write" in page.text and "meeting:write:meeting" not in page.text
    assert CLIENT_ID not in page.text
