"""The identity platform over HTTP: authorize with sign-in and consent pages, the token endpoint's answers
(PKCE, single-use codes, refresh rotation) and its refusals in Microsoft's error shape."""

import base64
import json

import requests

from simulators.microsoft.seed import CLIENT_ID, CONTOSO, DEFAULT_REDIRECT_URI
from simulators.microsoft.tests.conftest import (
    SCOPES,
    TIMEOUT,
    TRAINER,
    Browser,
    connect,
    exchange,
    query_of,
    token_request,
)


def assert_aad_error(answer, status: int, error: str, code: int):
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert body["timestamp"] and body["trace_id"] and body["correlation_id"]


def test_sign_in_consent_and_code_exchange(sim):
    browser = Browser(sim)
    signin = browser.get(browser.authorize_url())
    assert signin.status_code == 200 and 'name="password"' in signin.text
    consent = browser.sign_in(signin)
    assert "Permissions requested" in consent.text and "OnlineMeetings.ReadWrite" in consent.text
    back = browser.decide(consent)
    assert back.status_code == 302
    assert back.headers["Location"].startswith(DEFAULT_REDIRECT_URI + "?")
    query = query_of(back.headers["Location"])
    assert query["state"] == "st-1"

    answer = exchange(sim, browser, query["code"])
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == token["ext_expires_in"] == 3599
    assert set(token["scope"].split()) == {"openid", "profile", "email", "User.Read", "OnlineMeetings.ReadWrite"}
    assert token["access_token"] and token["refresh_token"]
    header, payload, signature = token["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["aud"] == CLIENT_ID and claims["preferred_username"] == TRAINER and claims["tid"] == CONTOSO
    assert signature == ""


def test_consent_given_once_is_not_asked_again(sim):
    browser = Browser(sim)
    browser.code()
    again = browser.get(browser.authorize_url(state="st-2"))
    assert again.status_code == 302 and query_of(again.headers["Location"])["state"] == "st-2"
    assert "code" in query_of(again.headers["Location"])
    forced = browser.get(browser.authorize_url(prompt="consent"))
    assert "Permissions requested" in forced.text


def test_cancel_on_the_consent_page_is_access_denied(sim):
    browser = Browser(sim)
    consent = browser.sign_in(browser.get(browser.authorize_url()))
    back = browser.decide(consent, "cancel")
    query = query_of(back.headers["Location"])
    assert query["error"] == "access_denied"
    assert query["error_description"].startswith("AADSTS65004")
    assert query["state"] == "st-1"


def test_wrong_password_stays_on_the_sign_in_page(sim):
    browser = Browser(sim)
    page = browser.sign_in(browser.get(browser.authorize_url()), password="nope")
    assert page.status_code == 200 and "Your account or password is incorrect." in page.text


def test_unregistered_redirect_uri_is_an_error_page_not_a_redirect(sim):
    browser = Browser(sim)
    answer = browser.get(browser.authorize_url(redirect_uri="https://evil.test/cb"))
    assert answer.status_code == 400 and "AADSTS50011" in answer.text
    sim.set_redirect_uris("https://evil.test/cb")
    assert browser.get(browser.authorize_url(redirect_uri="https://evil.test/cb")).status_code == 200


def test_tenants(sim):
    assert (
        "AADSTS90002" in Browser(sim, "nosuchtenant.test").get(Browser(sim, "nosuchtenant.test").authorize_url()).text
    )
    # A user of another tenant: refused at a tenant-specific endpoint, accepted at organizations/common.
    contoso = Browser(sim, "contoso.test")
    page = contoso.sign_in(contoso.get(contoso.authorize_url()), email="trainer@fabrikam.test")
    assert page.status_code == 400 and "AADSTS50020" in page.text
    organizations = Browser(sim, "organizations")
    assert organizations.code("trainer@fabrikam.test")
    by_id = Browser(sim, CONTOSO)
    assert exchange(sim, by_id, by_id.code()).status_code == 200


def test_code_is_single_use_and_lasts_ten_minutes(sim):
    browser = Browser(sim)
    code = browser.code()
    assert exchange(sim, browser, code).status_code == 200
    assert_aad_error(exchange(sim, browser, code), 400, "invalid_grant", 54005)

    late = browser.code()
    sim.advance_clock(601)
    assert_aad_error(exchange(sim, browser, late), 400, "invalid_grant", 70008)


def test_pkce_verifier_is_checked(sim):
    browser = Browser(sim)
    code = browser.code()
    answer = exchange(sim, browser, code, code_verifier="not-the-verifier-" + "x" * 30)
    assert_aad_error(answer, 400, "invalid_grant", 501481)


def test_client_secret_refusals(sim):
    browser = Browser(sim)
    assert_aad_error(exchange(sim, browser, browser.code(), client_secret="wrong"), 401, "invalid_client", 7000215)
    assert_aad_error(exchange(sim, browser, browser.code(), client_secret=None), 401, "invalid_client", 7000218)
    assert_aad_error(token_request(sim, grant_type="password"), 400, "unsupported_grant_type", 70003)
    sim.edit_app(secret_expired=True)
    assert_aad_error(exchange(sim, browser, browser.code()), 401, "invalid_client", 7000222)
    assert_aad_error(
        token_request(sim, client_id="unknown-app", grant_type="refresh_token"), 400, "unauthorized_client", 700016
    )


def test_refresh_answers_a_new_refresh_token_each_time(sim):
    first = connect(sim)
    second = token_request(sim, grant_type="refresh_token", refresh_token=first["refresh_token"], scope=SCOPES).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    # As Microsoft documents, the used refresh token is not revoked...
    assert token_request(sim, grant_type="refresh_token", refresh_token=first["refresh_token"]).status_code == 200
    # ...unless the simulator is told to revoke used ones (to test that the new one is kept).
    sim.settings(revoke_used_refresh_tokens=True)
    third = token_request(sim, grant_type="refresh_token", refresh_token=second["refresh_token"]).json()
    assert_aad_error(
        token_request(sim, grant_type="refresh_token", refresh_token=second["refresh_token"]),
        400,
        "invalid_grant",
        50173,
    )
    assert token_request(sim, grant_type="refresh_token", refresh_token=third["refresh_token"]).status_code == 200


def test_revoked_consent_fails_the_next_refresh(sim):
    token = connect(sim)
    assert sim.revoke_consent(TRAINER) == {"revoked": True}
    answer = token_request(sim, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert_aad_error(answer, 400, "invalid_grant", 65001)


def test_a_grant_can_lack_a_permission_the_app_asks_for(sim):
    sim.edit_user(TRAINER, withheld_scopes="OnlineMeetings.ReadWrite")
    token = connect(sim)
    assert "OnlineMeetings.ReadWrite" not in token["scope"].split()
    assert "User.Read" in token["scope"].split()
    seeded = connect(sim, "noperm@contoso.test")
    assert "OnlineMeetings.ReadWrite" not in seeded["scope"].split()


def test_token_endpoint_faults_answer_retry_after(sim):
    sim.queue_fault("identity.token", "rate_429")
    answer = token_request(sim, grant_type="refresh_token", refresh_token="x")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "2"
    assert answer.json()["error"] == "temporarily_unavailable"
    assert requests.get(f"{sim.url}/_sim/faults", timeout=TIMEOUT).json()["queued"] == {"identity.token": []}
