"""virtualmeeting.tokens: every write of a connection's tokens."""

import json
import logging
import threading
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from django.db import connection as db_connection
from django.utils import timezone

from virtualmeeting import oauth
from virtualmeeting.errors import AuthRevoked, ProviderError, RateLimited
from virtualmeeting.models import ProviderConfig, ProviderConnection
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.tests.conftest import connect, make_user
from virtualmeeting.tokens import connection_tokens_refresh, connection_tokens_update, needs_refresh


def test_tokens_update(owner):
    connection = ProviderConnection.objects.get(user=owner)
    expires = timezone.now() + timedelta(hours=1)

    returned = connection_tokens_update(
        connection=connection,
        access_token="new-access",
        refresh_token="new-refresh",
        expires_at=expires,
        scopes="meeting:write",
    )

    stored = ProviderConnection.objects.get(pk=connection.pk)
    assert (stored.access_token, stored.refresh_token, stored.expires_at, stored.scopes) == (
        "new-access",
        "new-refresh",
        expires,
        "meeting:write",
    )
    assert returned.access_token == "new-access"
    connection_tokens_update(connection=connection, access_token="a2", refresh_token="r2", expires_at=expires)
    assert ProviderConnection.objects.get(pk=connection.pk).scopes == "meeting:write"  # unchanged when not given


# --- connection_tokens_refresh: the framework's refresh, with a provider's app and words -------------------
APP = oauth.OAuthApp(
    authorize_url="https://login.example.test/authorize",
    token_url="https://login.example.test/token",
    scopes=("offline_access", "OnlineMeetings.ReadWrite"),
    client_auth="body",
    service="Example",
)


class ExampleProvider(TestProvider):
    __test__ = False

    def oauth_app(self):
        return APP

    def oauth_client(self):
        return "client-1", "secret-1"


def answer(access: str, refresh: str, scope: str = "OnlineMeetings.ReadWrite") -> dict:
    return {
        "access_token": access,
        "token_type": "Bearer",
        "refresh_token": refresh,
        "expires_in": 3600,
        "scope": scope,
    }


@pytest.fixture
def endpoint():
    """Strict: every registered answer must be asked for, and an unregistered call fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def provider(test_provider):
    return ExampleProvider(ProviderConfig.objects.get(provider="test"))


@pytest.fixture
def expiring(owner):
    """The owner's connection (access-tom / refresh-tom), two minutes from expiry."""
    ProviderConnection.objects.filter(user=owner).update(expires_at=timezone.now() + timedelta(minutes=2))
    return ProviderConnection.objects.get(user=owner)


def sent_refresh_token(request) -> str:
    return parse_qs(request.body)["refresh_token"][0]


def test_needs_refresh():
    now = timezone.now()
    assert needs_refresh(ProviderConnection(access_token="a", expires_at=now + timedelta(minutes=4)), now)
    assert not needs_refresh(ProviderConnection(access_token="a", expires_at=now + timedelta(minutes=6)), now)
    assert needs_refresh(ProviderConnection(access_token="a", expires_at=None), now)
    assert needs_refresh(ProviderConnection(access_token="", expires_at=now + timedelta(hours=1)), now)


def test_a_fresh_token_is_not_refreshed(provider, owner, endpoint):
    connection = ProviderConnection.objects.get(user=owner)
    ProviderConnection.objects.filter(pk=connection.pk).update(expires_at=timezone.now() + timedelta(minutes=30))
    connection.refresh_from_db()
    connection_tokens_refresh(provider=provider, connection=connection)  # no call registered: any call would fail
    assert connection.access_token == "access-tom"


def test_rotation_stores_the_new_refresh_token_and_never_sends_the_old_one_again(provider, expiring, endpoint):
    first = endpoint.post(APP.token_url, json=answer("access-2", "refresh-2", "User.Read OnlineMeetings.ReadWrite"))
    connection_tokens_refresh(provider=provider, connection=expiring)
    row = ProviderConnection.objects.get(pk=expiring.pk)
    assert (row.access_token, row.refresh_token, row.scopes) == (
        "access-2",
        "refresh-2",
        "User.Read OnlineMeetings.ReadWrite",
    )
    assert (expiring.access_token, expiring.refresh_token) == ("access-2", "refresh-2")  # the caller's copy too
    assert row.expires_at > timezone.now() + timedelta(minutes=59)

    endpoint.post(APP.token_url, json=answer("access-3", "refresh-3"))
    connection_tokens_refresh(provider=provider, connection=expiring, force=True)  # a 401: at once

    assert [sent_refresh_token(call.request) for call in endpoint.calls] == ["refresh-tom", "refresh-2"]
    assert parse_qs(first.calls[0].request.body)["client_secret"] == ["secret-1"]
    row.refresh_from_db()
    assert (row.access_token, row.refresh_token) == ("access-3", "refresh-3")


def test_a_refresh_that_does_not_rotate_keeps_the_refresh_token_and_scopes(provider, expiring, endpoint):
    endpoint.post(APP.token_url, json={"access_token": "access-2", "token_type": "Bearer", "expires_in": 3600})
    connection_tokens_refresh(provider=provider, connection=expiring)
    row = ProviderConnection.objects.get(pk=expiring.pk)
    assert (row.access_token, row.refresh_token, row.scopes) == (
        "access-2",
        "refresh-tom",
        "meeting:write meeting:read",
    )


def test_invalid_grant_means_auth_revoked_and_the_row_is_unchanged(provider, expiring, endpoint):
    endpoint.post(
        APP.token_url, status=400, json={"error": "invalid_grant", "error_description": "AADSTS70008: expired"}
    )
    with pytest.raises(AuthRevoked, match="reconnect"):
        connection_tokens_refresh(provider=provider, connection=expiring)
    row = ProviderConnection.objects.get(pk=expiring.pk)
    assert (row.access_token, row.refresh_token) == ("access-tom", "refresh-tom")


def test_a_429_is_a_wait_until_the_endpoints_time(provider, expiring, endpoint):
    endpoint.post(APP.token_url, status=429, headers={"Retry-After": "45"})
    with pytest.raises(RateLimited) as caught:
        connection_tokens_refresh(provider=provider, connection=expiring)
    assert caught.value.retry_at > timezone.now() + timedelta(seconds=40)
    assert ProviderConnection.objects.get(pk=expiring.pk).refresh_token == "refresh-tom"


def test_a_503_is_transient_not_revoked(provider, expiring, endpoint):
    endpoint.post(APP.token_url, status=503, body="busy")
    with pytest.raises(ProviderError) as caught:
        connection_tokens_refresh(provider=provider, connection=expiring)
    assert not caught.value.permanent and not isinstance(caught.value, AuthRevoked | RateLimited)


def test_a_revoked_connection_is_not_refreshed(provider, expiring, endpoint):
    ProviderConnection.objects.filter(pk=expiring.pk).update(
        status=ProviderConnection.Status.REVOKED, status_message="Gone."
    )
    with pytest.raises(AuthRevoked, match="Gone."):
        connection_tokens_refresh(provider=provider, connection=expiring)


def test_no_token_in_logs_or_errors(provider, expiring, endpoint, caplog):
    caplog.set_level(logging.DEBUG)
    endpoint.post(APP.token_url, json=answer("access-NEW", "refresh-NEW"))
    endpoint.post(APP.token_url, status=400, json={"error": "invalid_grant"})
    connection_tokens_refresh(provider=provider, connection=expiring)
    with pytest.raises(AuthRevoked) as caught:
        connection_tokens_refresh(provider=provider, connection=expiring, force=True)
    shown = caplog.text + str(caught.value) + repr(caught.value)
    for secret in ("access-NEW", "refresh-NEW", "refresh-tom", "access-tom", "secret-1"):
        assert secret not in shown


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_make_one_call_and_both_get_the_new_pair(test_provider):
    """A rotating endpoint: a second refresh with the old refresh token would get invalid_grant."""
    user = make_user("rita")
    connect(user)
    ProviderConnection.objects.filter(user=user).update(expires_at=timezone.now() + timedelta(minutes=2))
    issued, lock = [], threading.Lock()

    def rotating_token_endpoint(request):
        with lock:
            if sent_refresh_token(request) != "refresh-rita" or issued:
                return (400, {}, json.dumps({"error": "invalid_grant"}))
            issued.append(request)
        threading.Event().wait(0.3)  # hold the answer so the other worker is surely waiting on the row lock
        return (200, {}, json.dumps(answer("access-2", "refresh-2")))

    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            connection = ProviderConnection.objects.get(user=user)
            provider = ExampleProvider(ProviderConfig.objects.get(provider="test"))
            barrier.wait(timeout=5)
            connection_tokens_refresh(provider=provider, connection=connection)
            results.append((connection.access_token, connection.refresh_token))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            db_connection.close()

    with responses.RequestsMock(assert_all_requests_are_fired=True) as endpoint:
        endpoint.add_callback("POST", APP.token_url, callback=rotating_token_endpoint)
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        asked = len(endpoint.calls)

    assert errors == []
    assert asked == 1
    assert results == [("access-2", "refresh-2"), ("access-2", "refresh-2")]
    row = ProviderConnection.objects.get(user=user)
    assert (row.access_token, row.refresh_token) == ("access-2", "refresh-2")
