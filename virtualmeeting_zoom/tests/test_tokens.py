"""Access tokens: refresh before expiry and once on 401/124, rotation, revocation."""

import threading
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from virtualmeeting.errors import AuthRevoked, ProviderError
from virtualmeeting.models import ProviderConnection
from virtualmeeting.tokens import connection_tokens_refresh
from virtualmeeting_zoom.provider import ZoomProvider
from virtualmeeting_zoom.tests.conftest import API, TOKEN_URL, make_connection, meeting_json, token_json

MEETING_URL = f"{API}/meetings/85746065432"
INVALID_TOKEN = {"code": 124, "message": "Invalid access token."}


def test_fresh_token_is_used_without_refresh(provider, connection, mocked):
    get = mocked.get(MEETING_URL, json=meeting_json())
    provider.get_meeting(connection=connection, remote_id="85746065432")
    assert get.call_count == 1
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer access-1"


def test_token_near_expiry_is_refreshed_first_and_the_new_pair_saved(provider, trainer, mocked):
    connection = make_connection(trainer, expires_at=timezone.now() + timedelta(minutes=4))
    refresh = mocked.post(TOKEN_URL, json=token_json(access="access-2", refresh="refresh-2"))
    mocked.get(MEETING_URL, json=meeting_json())

    provider.get_meeting(connection=connection, remote_id="85746065432")

    assert refresh.call_count == 1
    assert parse_qs(mocked.calls[0].request.body) == {"grant_type": ["refresh_token"], "refresh_token": ["refresh-1"]}
    assert mocked.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer access-2"
    row = ProviderConnection.objects.get(pk=connection.pk)
    assert (row.access_token, row.refresh_token) == ("access-2", "refresh-2")
    assert row.expires_at > timezone.now() + timedelta(minutes=55)


@pytest.mark.parametrize("status", [401])
def test_401_124_refreshes_once_and_retries(provider, connection, mocked, status):
    get = mocked.get(MEETING_URL, status=status, json=INVALID_TOKEN)
    mocked.post(TOKEN_URL, json=token_json(access="access-2", refresh="refresh-2"))

    def second_answer(request):
        return (200, {}, '{"id": 85746065432, "join_url": "https://zoom.us/j/85746065432"}')

    mocked.add_callback("GET", MEETING_URL, callback=second_answer)
    # responses serves registrations in order: first the 401, then the success.
    meeting = provider.get_meeting(connection=connection, remote_id="85746065432")
    assert meeting.remote_id == "85746065432"
    assert get.call_count == 1
    assert [call.request.headers.get("Authorization") for call in mocked.calls if "meetings" in call.request.url] == [
        "Bearer access-1",
        "Bearer access-2",
    ]
    assert ProviderConnection.objects.get(pk=connection.pk).refresh_token == "refresh-2"


def test_401_again_after_refresh_means_revoked(provider, connection, mocked):
    get = mocked.get(MEETING_URL, status=401, json=INVALID_TOKEN)
    refresh = mocked.post(TOKEN_URL, json=token_json(access="access-2", refresh="refresh-2"))
    with pytest.raises(AuthRevoked):
        provider.get_meeting(connection=connection, remote_id="85746065432")
    assert get.call_count == 2
    assert refresh.call_count == 1


@pytest.mark.parametrize("status", [400, 401])
def test_invalid_grant_means_revoked(provider, trainer, mocked, status):
    connection = make_connection(trainer, expires_at=timezone.now() - timedelta(minutes=1))
    mocked.post(TOKEN_URL, status=status, json={"reason": "Invalid Token!", "error": "invalid_grant"})
    with pytest.raises(AuthRevoked, match="reconnect"):
        provider.get_meeting(connection=connection, remote_id="85746065432")
    assert [call.request.url for call in mocked.calls] == [TOKEN_URL]  # the meeting was not asked for
    assert ProviderConnection.objects.get(pk=connection.pk).refresh_token == "refresh-1"


def test_invalid_client_on_refresh_is_permanent(provider, trainer, mocked):
    connection = make_connection(trainer, expires_at=timezone.now() - timedelta(minutes=1))
    mocked.post(TOKEN_URL, status=401, json={"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
    with pytest.raises(ProviderError) as caught:
        provider.get_meeting(connection=connection, remote_id="85746065432")
    assert caught.value.permanent
    assert not isinstance(caught.value, AuthRevoked)


def test_token_endpoint_outage_is_transient(provider, trainer, mocked):
    connection = make_connection(trainer, expires_at=timezone.now() - timedelta(minutes=1))
    mocked.post(TOKEN_URL, status=503, body="unavailable")
    with pytest.raises(ProviderError) as caught:
        provider.get_meeting(connection=connection, remote_id="85746065432")
    assert not caught.value.permanent
    assert not isinstance(caught.value, AuthRevoked)


def test_refresh_uses_a_token_another_worker_already_refreshed(provider, trainer, mocked):
    stale = make_connection(trainer, expires_at=timezone.now() + timedelta(minutes=1))
    ProviderConnection.objects.filter(pk=stale.pk).update(expires_at=timezone.now() + timedelta(minutes=59))
    row = ProviderConnection.objects.get(pk=stale.pk)
    row.access_token, row.refresh_token = "access-9", "refresh-9"
    row.save()
    connection_tokens_refresh(provider=provider, connection=stale)  # `mocked` has no route: no call made

    assert len(mocked.calls) == 0
    assert (stale.access_token, stale.refresh_token) == ("access-9", "refresh-9")


def test_revoked_connection_is_not_used(provider, trainer, mocked):
    connection = make_connection(trainer, status=ProviderConnection.Status.REVOKED, status_message="Reconnect.")
    with pytest.raises(AuthRevoked):
        provider.get_meeting(connection=connection, remote_id="85746065432")
    assert len(mocked.calls) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_make_one_call_and_both_get_the_new_pair(zoom_config, trainer, mocked):
    """Zoom rotates refresh tokens: a second refresh with refresh-1 would get invalid_grant."""
    make_connection(trainer, expires_at=timezone.now() + timedelta(minutes=2))
    issued = []
    lock = threading.Lock()

    def rotating_token_endpoint(request):
        sent = parse_qs(request.body)["refresh_token"][0]
        with lock:
            if sent != "refresh-1" or issued:
                return (400, {}, '{"reason": "Invalid Token!", "error": "invalid_grant"}')
            issued.append(sent)
        # Hold the answer a moment so the other thread is surely waiting on the row lock.
        threading.Event().wait(0.3)
        return (
            200,
            {},
            '{"access_token": "access-2", "token_type": "bearer", "refresh_token": "refresh-2", '
            '"expires_in": 3599, "scope": "user:read:user"}',
        )

    mocked.add_callback("POST", TOKEN_URL, callback=rotating_token_endpoint)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            connection = ProviderConnection.objects.get(user=trainer, provider="zoom")
            barrier.wait(timeout=5)
            connection_tokens_refresh(provider=ZoomProvider(zoom_config), connection=connection)
            results.append((connection.access_token, connection.refresh_token))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert errors == []
    assert len(mocked.calls) == 1
    assert results == [("access-2", "refresh-2"), ("access-2", "refresh-2")]
    row = ProviderConnection.objects.get(user=trainer, provider="zoom")
    assert (row.access_token, row.refresh_token) == ("access-2", "refresh-2")


def test_a_429_from_the_token_endpoint_keeps_zooms_wait_and_the_grant(provider, trainer):
    import responses

    from virtualmeeting.errors import RateLimited

    connection = make_connection(trainer, expires_at=timezone.now() + timedelta(minutes=4))
    retry_at = (timezone.now() + timedelta(seconds=30)).replace(microsecond=0)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as zoom:
        zoom.post(
            TOKEN_URL,
            status=429,
            json={"code": 429, "message": "You have reached the maximum per-second rate limit for this API."},
            headers={"Retry-After": retry_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        with pytest.raises(RateLimited) as caught:
            provider.get_meeting(connection=connection, remote_id="85746065432")
    # A wait, not "reconnect": the refresh token was not refused, and the sync waits until Zoom's time.
    assert not isinstance(caught.value, AuthRevoked)
    assert caught.value.retry_at == retry_at and not caught.value.daily
    row = ProviderConnection.objects.get(pk=connection.pk)
    assert (row.status, row.refresh_token) == (ProviderConnection.Status.CONNECTED, "refresh-1")


def test_a_503_with_retry_after_stays_a_transient_error_not_a_wait(provider, trainer):
    import responses

    from virtualmeeting.errors import RateLimited

    connection = make_connection(trainer, expires_at=timezone.now() - timedelta(minutes=1))
    with responses.RequestsMock(assert_all_requests_are_fired=True) as zoom:
        zoom.post(TOKEN_URL, status=503, body="unavailable", headers={"Retry-After": "120"})
        with pytest.raises(ProviderError) as caught:
            provider.get_meeting(connection=connection, remote_id="85746065432")
    assert not isinstance(caught.value, RateLimited | AuthRevoked) and not caught.value.permanent
