"""virtualmeeting.oauth: the generic OAuth client, for both ways a client authenticates at the token endpoint.

"body" (Microsoft's way) sends client_id and client_secret in the form; "basic" (Zoom's) an HTTP Basic header.
"""

import base64
import hashlib
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django.utils import timezone

from virtualmeeting import oauth
from virtualmeeting.errors import ConnectError
from virtualmeeting.models import ProviderConfig, ProviderConnection
from virtualmeeting.providers.base import ConnectedAccount, Provider
from virtualmeeting.providers.testing import TestProvider

BODY_APP = oauth.OAuthApp(
    authorize_url="https://login.example.test/tenant-1/oauth2/v2.0/authorize",
    token_url="https://login.example.test/tenant-1/oauth2/v2.0/token",
    scopes=("offline_access", "OnlineMeetings.ReadWrite"),
    client_auth="body",
    service="Example",
    authorize_params=(("prompt", "select_account"),),
)
BASIC_APP = oauth.OAuthApp(
    authorize_url="https://auth.example.test/oauth/authorize",
    token_url="https://auth.example.test/oauth/token",
    revoke_url="https://auth.example.test/oauth/revoke",
    service="Example",
)
CLIENT_ID, SECRET = "client-ü", "sëcret-Σ"  # not latin-1: Basic auth must still work
REDIRECT = "https://lms.example.test/virtualmeeting/callback/example/"
ANSWER = {
    "access_token": "access-SECRET-2",
    "token_type": "Bearer",
    "refresh_token": "refresh-SECRET-2",
    "expires_in": 3600,
    "scope": "OnlineMeetings.ReadWrite User.Read",
    "id_token": "id-token-SECRET",
}


@pytest.fixture
def endpoint():
    """Strict: every registered answer must be asked for, and an unregistered call fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def form(call) -> dict:
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def query(url: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


# --- the authorize URL ------------------------------------------------------------------------------------
def test_pkce_pair_challenge_is_the_s256_of_the_verifier():
    verifier, challenge = oauth.pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert challenge == base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert oauth.pkce_pair()[0] != verifier


def test_authorization_url_with_scopes_state_challenge_and_extra_parameters():
    verifier, challenge = oauth.pkce_pair()
    url = oauth.authorization_url(
        BODY_APP, client_id=CLIENT_ID, redirect_uri=REDIRECT, state="state-1", code_challenge=challenge
    )
    assert url.startswith(BODY_APP.authorize_url + "?")
    assert query(url) == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "offline_access OnlineMeetings.ReadWrite",
        "state": "state-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "prompt": "select_account",
    }


def test_authorization_url_without_scopes_sends_no_scope_parameter():
    url = oauth.authorization_url(BASIC_APP, client_id="zc", redirect_uri=REDIRECT, state="s", code_challenge="c")
    assert "scope" not in query(url)
    assert query(url)["code_challenge_method"] == "S256"


def test_loopback_http_is_allowed(endpoint, monkeypatch):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    local = oauth.OAuthApp(authorize_url="http://127.0.0.1:9/authorize", token_url="http://127.0.0.1:9/token")
    endpoint.post(local.token_url, json=ANSWER)
    token = oauth.exchange_code(
        local, client_id="c", client_secret="s", code="code-1", redirect_uri=REDIRECT, code_verifier="v" * 43
    )
    assert token.access_token == "access-SECRET-2"


# --- code exchange and refresh: what is sent --------------------------------------------------------------
def test_exchange_code_with_the_client_in_the_body(endpoint):
    call = endpoint.post(BODY_APP.token_url, json=ANSWER)
    token = oauth.exchange_code(
        BODY_APP, client_id=CLIENT_ID, client_secret=SECRET, code="code-1", redirect_uri=REDIRECT, code_verifier="v1"
    )
    sent = call.calls[0].request
    assert form(call.calls[0]) == {
        "grant_type": "authorization_code",
        "code": "code-1",
        "redirect_uri": REDIRECT,
        "code_verifier": "v1",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
    }
    assert "Authorization" not in sent.headers
    assert (token.access_token, token.refresh_token) == ("access-SECRET-2", "refresh-SECRET-2")
    assert token.scopes == "OnlineMeetings.ReadWrite User.Read"
    assert token.raw["id_token"] == "id-token-SECRET"
    assert timezone.now() + timedelta(minutes=59) < token.expires_at <= timezone.now() + timedelta(hours=1)


def test_exchange_code_with_http_basic(endpoint):
    call = endpoint.post(BASIC_APP.token_url, json={**ANSWER, "scope": "meeting:write"})
    token = oauth.exchange_code(
        BASIC_APP, client_id=CLIENT_ID, client_secret=SECRET, code="code-1", redirect_uri=REDIRECT, code_verifier="v1"
    )
    assert form(call.calls[0]) == {
        "grant_type": "authorization_code",
        "code": "code-1",
        "redirect_uri": REDIRECT,
        "code_verifier": "v1",
    }
    assert call.calls[0].request.headers["Authorization"] == basic(CLIENT_ID, SECRET)
    assert token.scopes == "meeting:write"


def test_refresh_with_the_client_in_the_body_asks_for_the_scopes_and_returns_the_rotated_token(endpoint):
    call = endpoint.post(BODY_APP.token_url, json=ANSWER)
    token = oauth.refresh(BODY_APP, client_id=CLIENT_ID, client_secret=SECRET, refresh_token="refresh-SECRET-1")
    assert form(call.calls[0]) == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-SECRET-1",
        "scope": "offline_access OnlineMeetings.ReadWrite",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
    }
    assert "Authorization" not in call.calls[0].request.headers
    assert token.refresh_token == "refresh-SECRET-2"


def test_refresh_with_http_basic_sends_no_scope(endpoint):
    call = endpoint.post(BASIC_APP.token_url, json=ANSWER)
    oauth.refresh(BASIC_APP, client_id=CLIENT_ID, client_secret=SECRET, refresh_token="refresh-SECRET-1")
    assert form(call.calls[0]) == {"grant_type": "refresh_token", "refresh_token": "refresh-SECRET-1"}
    assert call.calls[0].request.headers["Authorization"] == basic(CLIENT_ID, SECRET)


def test_a_grant_narrower_or_spelled_otherwise_than_asked_is_returned_as_granted(endpoint):
    endpoint.post(BODY_APP.token_url, json={**ANSWER, "scope": "https://graph.microsoft.com/User.Read"})
    token = oauth.refresh(BODY_APP, client_id=CLIENT_ID, client_secret=SECRET, refresh_token="r1")
    assert token.scopes == "https://graph.microsoft.com/User.Read"
    assert oauth.missing_scopes(token.scopes, ["OnlineMeetings.ReadWrite"]) == ["OnlineMeetings.ReadWrite"]


def test_an_answer_without_scope_has_empty_scopes(endpoint):
    endpoint.post(BASIC_APP.token_url, json={key: value for key, value in ANSWER.items() if key != "scope"})
    token = oauth.refresh(BASIC_APP, client_id=CLIENT_ID, client_secret=SECRET, refresh_token="r1")
    assert token.scopes == ""


def test_token_request_for_another_grant_with_each_client_auth(endpoint):
    body = endpoint.post(BODY_APP.token_url, json=ANSWER)
    basic_call = endpoint.post(BASIC_APP.token_url, json=ANSWER)
    grant = {"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"}
    assert oauth.token_request(BODY_APP, client_id=CLIENT_ID, client_secret=SECRET, data=grant)["access_token"]
    oauth.token_request(BASIC_APP, client_id=CLIENT_ID, client_secret=SECRET, data=grant)
    assert form(body.calls[0]) == {**grant, "client_id": CLIENT_ID, "client_secret": SECRET}
    assert form(basic_call.calls[0]) == grant
    assert basic_call.calls[0].request.headers["Authorization"] == basic(CLIENT_ID, SECRET)


# --- refusals and failures --------------------------------------------------------------------------------
def refused(app=BODY_APP) -> oauth.TokenError:
    with pytest.raises(oauth.TokenError) as caught:
        oauth.refresh(app, client_id=CLIENT_ID, client_secret=SECRET, refresh_token="refresh-SECRET-1")
    return caught.value


def test_a_429_with_retry_after_seconds_is_transient_until_then(endpoint):
    endpoint.post(BODY_APP.token_url, status=429, headers={"Retry-After": "30"}, json={"error": "too_many"})
    before = timezone.now()
    exc = refused()
    assert (exc.transient, exc.status) == (True, 429)
    assert before + timedelta(seconds=30) <= exc.retry_at <= timezone.now() + timedelta(seconds=30)


def test_a_429_with_retry_after_as_an_http_date(endpoint):
    until = (timezone.now() + timedelta(minutes=2)).replace(microsecond=0)
    endpoint.post(BODY_APP.token_url, status=429, headers={"Retry-After": format_datetime(until, usegmt=True)})
    exc = refused()
    assert exc.transient and exc.retry_at == until
    assert exc.retry_at.tzinfo is not None


def test_a_429_without_retry_after_waits_a_moment(endpoint):
    endpoint.post(BODY_APP.token_url, status=429)
    exc = refused()
    assert exc.transient and timezone.now() < exc.retry_at <= timezone.now() + timedelta(seconds=2)


def test_a_503_is_transient_with_its_retry_after(endpoint):
    endpoint.post(BODY_APP.token_url, status=503, body="busy", headers={"Retry-After": "120"})
    exc = refused()
    assert (exc.transient, exc.status, exc.error) == (True, 503, "temporarily_unavailable")
    assert exc.retry_at > timezone.now() + timedelta(seconds=110)


def test_a_503_without_retry_after_and_a_500_are_transient_with_no_time(endpoint):
    endpoint.post(BODY_APP.token_url, status=503, body="busy")
    endpoint.post(BODY_APP.token_url, status=500, body="oops")
    first, second = refused(), refused()
    assert (first.transient, first.retry_at) == (True, None)
    assert (second.transient, second.retry_at, second.error) == (True, None, "server_error")


def test_retry_after_in_the_past_or_unreadable():
    now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    assert oauth.retry_after({"Retry-After": "Tue, 01 Jan 2030 11:00:00 GMT"}, now) == now
    assert oauth.retry_after({"Retry-After": "soon"}, now) is None
    assert oauth.retry_after({}, now) is None


def test_network_failures_are_transient(endpoint):
    endpoint.post(BODY_APP.token_url, body=requests.ConnectTimeout("slow"))
    endpoint.post(BODY_APP.token_url, body=requests.ConnectionError("refused"))
    assert (refused().error, refused().error) == ("timeout", "connection_error")


def test_invalid_grant_carries_the_endpoints_code_words_and_numbers(endpoint):
    endpoint.post(
        BODY_APP.token_url,
        status=400,
        json={
            "error": "invalid_grant",
            "error_description": "AADSTS70008: The provided authorization code or refresh token has expired.",
            "error_codes": [70008],
        },
    )
    exc = refused()
    assert (exc.error, exc.status, exc.transient, exc.codes) == ("invalid_grant", 400, False, ["70008"])
    assert exc.reason.startswith("AADSTS70008")


def test_zoom_shaped_refusal_and_an_answer_without_a_token(endpoint):
    endpoint.post(
        BASIC_APP.token_url,
        status=401,
        json={"reason": "Invalid client_id or client_secret", "error": "invalid_client"},
    )
    endpoint.post(BASIC_APP.token_url, status=200, json={"token_type": "bearer"})
    first = refused(BASIC_APP)
    assert (first.error, first.reason, first.transient) == (
        "invalid_client",
        "Invalid client_id or client_secret",
        False,
    )
    assert refused(BASIC_APP).error == "http_200"


def test_a_providers_own_retry_rule_is_used(endpoint):
    until = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    app = oauth.OAuthApp(
        authorize_url="https://a.test/auth", token_url="https://a.test/token", retry_at=lambda h, now: until
    )
    endpoint.post(app.token_url, status=429, headers={"Retry-After": "5"})
    assert refused(app).retry_at == until


def test_no_token_or_secret_in_logs_or_exception_text(endpoint, caplog):
    caplog.set_level(logging.DEBUG)
    endpoint.post(BODY_APP.token_url, json=ANSWER)
    endpoint.post(BODY_APP.token_url, status=400, json={"error": "invalid_grant", "error_description": "expired"})
    endpoint.post(BASIC_APP.revoke_url, status=500)
    token = oauth.exchange_code(
        BODY_APP,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        code="code-SECRET",
        redirect_uri=REDIRECT,
        code_verifier="v",
    )
    exc = refused()
    assert oauth.revoke(BASIC_APP, client_id=CLIENT_ID, client_secret=SECRET, token=token.access_token) is False
    shown = caplog.text + str(exc) + repr(exc) + repr(token)
    assert "revoke answered HTTP 500" in caplog.text  # the log is there, without the token
    for secret in ("SECRET", SECRET, base64.b64encode(SECRET.encode()).decode()):
        assert secret not in shown


# --- revoke and scopes ------------------------------------------------------------------------------------
def test_revoke_with_http_basic(endpoint):
    call = endpoint.post(BASIC_APP.revoke_url)
    assert oauth.revoke(BASIC_APP, client_id=CLIENT_ID, client_secret=SECRET, token="access-1") is True
    assert form(call.calls[0]) == {"token": "access-1"}
    assert call.calls[0].request.headers["Authorization"] == basic(CLIENT_ID, SECRET)


def test_revoke_with_the_client_in_the_body(endpoint):
    app = oauth.OAuthApp(
        authorize_url="https://a.test/auth",
        token_url="https://a.test/token",
        revoke_url="https://a.test/revoke",
        client_auth="body",
    )
    call = endpoint.post(app.revoke_url)
    assert oauth.revoke(app, client_id=CLIENT_ID, client_secret=SECRET, token="access-1") is True
    assert form(call.calls[0]) == {"token": "access-1", "client_id": CLIENT_ID, "client_secret": SECRET}


def test_revoke_without_an_endpoint_asks_nothing(endpoint):
    assert oauth.revoke(BODY_APP, client_id=CLIENT_ID, client_secret=SECRET, token="access-1") is False


def test_missing_scopes_any_spelling_in_the_required_order():
    granted = "https://graph.microsoft.com/onlinemeetings.readwrite offline_access"
    required = ["User.Read", "OnlineMeetings.ReadWrite", "Calendars.ReadWrite"]
    assert oauth.missing_scopes(granted, required) == ["User.Read", "Calendars.ReadWrite"]
    assert oauth.missing_scopes("", ["a"]) == ["a"]
    assert oauth.missing_scopes("a b", []) == []


# --- the provider base class's default connect, from the hooks -------------------------------------------
class ExampleProvider(TestProvider):
    """The test provider with a real OAuth app: the base class's authorization_url / complete_connection."""

    __test__ = False
    required_scopes = ("OnlineMeetings.ReadWrite",)
    # The test provider fakes its consent page; these are the framework's defaults under test.
    authorization_url = Provider.authorization_url
    complete_connection = Provider.complete_connection
    disconnect = Provider.disconnect

    def oauth_app(self):
        return oauth.OAuthApp(
            authorize_url=BODY_APP.authorize_url,
            token_url=BODY_APP.token_url,
            revoke_url="https://login.example.test/revoke",
            scopes=BODY_APP.scopes,
            client_auth="body",
            service="Example",
        )

    def oauth_client(self):
        return CLIENT_ID, SECRET

    def read_account(self, token):
        me = requests.get(
            "https://api.example.test/me", headers={"Authorization": f"Bearer {token.access_token}"}, timeout=5
        ).json()
        return ConnectedAccount(
            remote_account_id=me["id"],
            name=me["name"],
            email=me["mail"],
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            expires_at=token.expires_at,
            scopes=token.scopes,
        )


@pytest.fixture
def example(test_provider):
    return ExampleProvider(ProviderConfig.objects.get(provider="test"))


def connect_with(example, code="code-1"):
    return example.complete_connection(code=code, redirect_uri=REDIRECT, code_verifier="v1")


def test_default_connect_exchanges_the_code_and_reads_the_account(example, endpoint):
    endpoint.post(BODY_APP.token_url, json=ANSWER)
    me = endpoint.get("https://api.example.test/me", json={"id": "u-1", "name": "Ann", "mail": "ann@example.test"})
    url = example.authorization_url(redirect_uri=REDIRECT, state="s1", code_challenge="c1")
    assert query(url)["client_id"] == CLIENT_ID and query(url)["scope"] == "offline_access OnlineMeetings.ReadWrite"
    account = connect_with(example)
    assert (account.remote_account_id, account.email, account.refresh_token) == (
        "u-1",
        "ann@example.test",
        "refresh-SECRET-2",
    )
    assert me.calls[0].request.headers["Authorization"] == "Bearer access-SECRET-2"


def test_default_connect_revokes_and_refuses_a_grant_lacking_scopes(example, endpoint):
    endpoint.post(BODY_APP.token_url, json={**ANSWER, "scope": "User.Read"})
    revoke = endpoint.post("https://login.example.test/revoke")
    with pytest.raises(ConnectError) as caught:
        connect_with(example)
    assert "OnlineMeetings.ReadWrite" in str(caught.value)
    assert form(revoke.calls[0])["token"] == "access-SECRET-2"


@pytest.mark.parametrize(
    ("status", "answer", "words"),
    [
        (400, {"error": "invalid_grant"}, "did not accept the sign-in"),
        (401, {"error": "invalid_client"}, "rejected this site's app settings"),
        (503, {}, "could not be reached"),
    ],
)
def test_default_connect_error_words(example, endpoint, status, answer, words):
    endpoint.post(BODY_APP.token_url, status=status, json=answer)
    with pytest.raises(ConnectError) as caught:
        connect_with(example, code="code-SECRET")
    assert words in str(caught.value) and "SECRET" not in str(caught.value)


def test_default_disconnect_revokes_the_access_token(example, endpoint, owner):
    revoke = endpoint.post("https://login.example.test/revoke")
    example.disconnect(ProviderConnection.objects.get(user=owner))
    assert form(revoke.calls[0]) == {"token": "access-tom", "client_id": CLIENT_ID, "client_secret": SECRET}
