"""Connect flow: authorize URL, code exchange, /users/me, scope models, token endpoint errors."""

import base64
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django.utils import timezone

from virtualmeeting.errors import ConnectError
from virtualmeeting_zoom.oauth import PRIVATE_APP_MESSAGE
from virtualmeeting_zoom.tests.conftest import (
    API,
    CLASSIC,
    CLIENT_ID,
    CLIENT_SECRET,
    REVOKE_URL,
    TOKEN_URL,
    ZOOM_ACCOUNT_ID,
    ZOOM_USER_ID,
    token_json,
    user_json,
)

REDIRECT = "https://lms.example.com/integrations/virtualmeeting/auth_callback/zoom"


@pytest.fixture(autouse=True)
def _site(settings):
    # The provider sends the Redirect URL the app registered, built from SITE_URL (the modern one by default).
    settings.SITE_URL = "https://lms.example.com"


def basic_auth():
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


def connect(provider, code="code-1"):
    return provider.complete_connection(code=code, redirect_uri=REDIRECT, code_verifier="verifier-" + "v" * 40)


def test_authorization_url_has_pkce_and_no_scope(provider):
    url = provider.authorization_url(redirect_uri=REDIRECT, state="state-123", code_challenge="challenge-abc")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://zoom.us/oauth/authorize"
    assert query == {
        "response_type": ["code"],
        "client_id": [CLIENT_ID],
        "redirect_uri": [REDIRECT],
        "state": ["state-123"],
        "code_challenge": ["challenge-abc"],
        "code_challenge_method": ["S256"],
    }


def test_authorization_url_follows_the_configured_host(provider, settings):
    settings.ZOOM_OAUTH_BASE_URL = "http://127.0.0.1:8025"
    url = provider.authorization_url(redirect_uri=REDIRECT, state="s", code_challenge="c")
    assert url.startswith("http://127.0.0.1:8025/oauth/authorize?")


def test_unconfigured_provider_refuses_to_connect(provider):
    provider.config.client_secret = ""
    with pytest.raises(ConnectError, match="Client ID and secret"):
        provider.authorization_url(redirect_uri=REDIRECT, state="s", code_challenge="c")


def test_code_exchange_and_account(provider, mocked):
    mocked.post(TOKEN_URL, json=token_json())
    mocked.get(f"{API}/users/me", json=user_json())
    account = connect(provider)

    token_call = mocked.calls[0].request
    assert token_call.headers["Authorization"] == basic_auth()
    assert token_call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    body = parse_qs(token_call.body)
    assert body == {
        "grant_type": ["authorization_code"],
        "code": ["code-1"],
        "redirect_uri": [REDIRECT],
        "code_verifier": ["verifier-" + "v" * 40],
    }
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer access-1"

    assert account.remote_account_id == ZOOM_USER_ID
    assert account.name == "Tom Trainer"
    assert account.email == "tom@example.com"
    assert account.extra == {"type": 2, "account_id": ZOOM_ACCOUNT_ID}
    assert account.access_token == "access-1"
    assert account.refresh_token == "refresh-1"
    assert timezone.now() + timedelta(minutes=58) < account.expires_at <= timezone.now() + timedelta(minutes=60)
    assert "meeting:write:meeting" in account.scopes


@pytest.mark.parametrize("classic", [CLASSIC, "user_info:read meeting:write meeting:read"])
def test_classic_scopes_are_enough(provider, mocked, classic):
    mocked.post(TOKEN_URL, json=token_json(scope=classic))
    mocked.get(f"{API}/users/me", json=user_json())
    assert connect(provider).scopes == classic


def test_missing_granular_scopes_are_named_and_nothing_is_returned(provider, mocked):
    mocked.post(TOKEN_URL, json=token_json(scope="user:read:user meeting:write:meeting meeting:read:meeting"))
    mocked.post(REVOKE_URL, json={"status": "success"})
    with pytest.raises(ConnectError) as caught:  # /users/me is not asked (no route: a call would fail the test)
        connect(provider)
    message = caught.value.message
    assert "meeting:read:list_meetings, meeting:update:meeting, meeting:delete:meeting" in message
    assert "meeting:write:meeting" not in message.split("Missing:")[1]
    assert [call.request.url for call in mocked.calls] == [TOKEN_URL, REVOKE_URL]
    assert parse_qs(mocked.calls[1].request.body) == {"token": ["access-1"]}


def test_missing_classic_scope_is_named_in_classic_terms(provider, mocked):
    mocked.post(TOKEN_URL, json=token_json(scope="meeting:write meeting:read"))
    mocked.post(REVOKE_URL, json={"status": "success"})
    with pytest.raises(ConnectError, match=r"Missing: user:read or user_info:read\."):
        connect(provider)


def test_admin_level_granular_scopes_cover_user_level(provider, mocked):
    admin = " ".join(f"{scope}:admin" for scope in token_json()["scope"].split())
    mocked.post(TOKEN_URL, json=token_json(scope=admin))
    mocked.get(f"{API}/users/me", json=user_json())
    assert connect(provider).remote_account_id == ZOOM_USER_ID


@pytest.mark.parametrize("status", [400, 401])
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"reason": "Invalid Token!", "error": "invalid_grant"}, "code may have expired"),
        ({"reason": "Invalid authorization code abc", "error": "invalid_request"}, "code may have expired"),
        ({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}, "Client ID or Client secret"),
    ],
)
def test_token_endpoint_errors(provider, mocked, status, body, expected):
    mocked.post(TOKEN_URL, status=status, json=body)
    with pytest.raises(ConnectError, match=expected) as caught:
        connect(provider)
    assert CLIENT_SECRET not in caught.value.message


def test_token_endpoint_down(provider, mocked):
    mocked.post(TOKEN_URL, status=502, body="<html>Bad gateway</html>")
    with pytest.raises(ConnectError, match="could not be reached"):
        connect(provider)


def test_token_endpoint_timeout(provider, mocked):
    mocked.post(TOKEN_URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(ConnectError, match="could not be reached"):
        connect(provider)


def test_private_app_refusal_at_the_token_step(provider, mocked):
    mocked.post(
        TOKEN_URL,
        status=400,
        json={"reason": "The user does not belong to this account", "error": "invalid_request"},
    )
    with pytest.raises(ConnectError) as caught:
        connect(provider)
    assert caught.value.message == PRIVATE_APP_MESSAGE


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [(400, 1010, "User does not belong to this account: tom@example.com."), (404, 1001, "User does not exist: me.")],
)
def test_private_app_refusal_at_users_me(provider, mocked, status, code, message):
    mocked.post(TOKEN_URL, json=token_json())
    mocked.get(f"{API}/users/me", status=status, json={"code": code, "message": message})
    with pytest.raises(ConnectError) as caught:
        connect(provider)
    assert caught.value.message == PRIVATE_APP_MESSAGE


def test_users_me_scope_error(provider, mocked):
    mocked.post(TOKEN_URL, json=token_json())
    mocked.get(
        f"{API}/users/me",
        status=400,
        json={"code": 4711, "message": "Invalid access token, does not contain scopes:[user:read:user]."},
    )
    with pytest.raises(ConnectError, match=r"user:read:user"):
        connect(provider)


def test_disconnect_revokes_the_access_token(provider, connection, mocked):
    revoke = mocked.post(REVOKE_URL, json={"status": "success"})
    provider.disconnect(connection)
    assert revoke.call_count == 1
    request = mocked.calls[0].request
    assert request.headers["Authorization"] == basic_auth()
    assert parse_qs(request.body) == {"token": ["access-1"]}


def test_disconnect_is_best_effort(provider, connection, mocked):
    mocked.post(REVOKE_URL, status=500, json={})
    provider.disconnect(connection)  # no exception: the framework deletes the tokens either way


def test_disconnect_survives_a_network_error(provider, connection):
    with responses.RequestsMock() as rsps:
        rsps.post(REVOKE_URL, body=requests.ConnectionError("down"))
        provider.disconnect(connection)


def test_no_secret_or_token_reaches_the_logs_even_at_debug(provider, mocked, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    mocked.post(TOKEN_URL, json=token_json(access="access-secretish", refresh="refresh-secretish"))
    mocked.get(f"{API}/users/me", json=user_json())
    connect(provider)
    logged = caplog.text
    for secret in (CLIENT_SECRET, basic_auth().split()[1], "access-secretish", "refresh-secretish", "verifier-"):
        assert secret not in logged


@pytest.mark.parametrize("secret", ["s€cret-ü", "ключ-секрет", "秘密"])
def test_a_secret_beyond_latin_1_goes_as_utf_8_in_every_token_call(mocked, secret):
    from virtualmeeting import oauth
    from virtualmeeting_zoom.oauth import zoom_app

    expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()
    mocked.post(TOKEN_URL, json=token_json())
    mocked.post(TOKEN_URL, json=token_json())
    mocked.post(REVOKE_URL, json={"status": "success"})

    oauth.exchange_code(
        zoom_app(), client_id=CLIENT_ID, client_secret=secret, code="c", redirect_uri=REDIRECT, code_verifier="v" * 43
    )
    oauth.refresh(zoom_app(), client_id=CLIENT_ID, client_secret=secret, refresh_token="refresh-1")
    assert oauth.revoke(zoom_app(), client_id=CLIENT_ID, client_secret=secret, token="access-1") is True

    assert [call.request.headers["Authorization"] for call in mocked.calls] == [expected] * 3
