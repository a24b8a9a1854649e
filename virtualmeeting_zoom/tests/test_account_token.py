"""The site account's token (Server-to-Server OAuth, the account_credentials grant): one token for every
worker in Django's cache, renewed before expiry and once after a 401, single-flight, never logged."""

import base64
import json
import logging
import os
import threading
import time
import uuid
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
import time_machine
from django.core.cache import cache
from django.utils import timezone

from virtualmeeting.errors import ProviderError, RateLimited
from virtualmeeting.models import ProviderConfig
from virtualmeeting_zoom.account import (
    AccountClient,
    AccountToken,
    _store,
    account_token,
    account_token_forget,
    token_key,
)
from virtualmeeting_zoom.client import LIGHT
from virtualmeeting_zoom.tests.conftest import API, TOKEN_URL

ACCOUNT_ID = "Q4NYNnaSQAuNPy3wi4p3Mw"
S2S_ID = "s2sClientId456"
S2S_SECRET = "s2s-client-secret-value"
ADMIN_SCOPES = "meeting:write:meeting:admin meeting:read:meeting:admin user:read:list_users:admin"
USERS_URL = f"{API}/users"
INVALID_TOKEN = {"code": 124, "message": "Invalid access token."}


def grant(access="account-1", expires_in=3599, scope=ADMIN_SCOPES):
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": expires_in,
        "scope": scope,
        "api_url": "https://api.zoom.us",
    }


@pytest.fixture(autouse=True)
def own_cache(settings):
    """A cache of this test's own (the shared token must not leak from one test into another)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }


@pytest.fixture
def strict():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def account_config(db):
    return ProviderConfig.objects.create(
        provider="zoom",
        enabled=True,
        account_id=ACCOUNT_ID,
        account_client_id=S2S_ID,
        account_client_secret=S2S_SECRET,
        options={"create_per_second": 1000, "light_per_second": 1000},
    )


def test_the_first_call_asks_zoom_with_the_account_credentials_grant(account_config, strict):
    asked = strict.post(TOKEN_URL, json=grant())
    token = account_token(account_config)
    assert (token.access_token, token.scope) == ("account-1", ADMIN_SCOPES)
    assert asked.call_count == 1
    request = strict.calls[0].request
    assert parse_qs(request.body) == {"grant_type": ["account_credentials"], "account_id": [ACCOUNT_ID]}
    assert request.headers["Authorization"] == "Basic czJzQ2xpZW50SWQ0NTY6czJzLWNsaWVudC1zZWNyZXQtdmFsdWU="


def test_the_token_is_reused_by_later_calls_and_other_workers(account_config, strict):
    asked = strict.post(TOKEN_URL, json=grant())
    first = account_token(account_config)
    again = account_token(ProviderConfig.objects.get(pk=account_config.pk))  # another process's config row
    assert first.access_token == again.access_token == "account-1"
    assert asked.call_count == 1


def test_the_cache_holds_the_token_encrypted_under_a_key_without_the_secret(account_config, strict):
    strict.post(TOKEN_URL, json=grant(access="visible-if-plain"))
    account_token(account_config)
    key = token_key(account_config)
    assert S2S_SECRET not in key and ACCOUNT_ID not in key
    stored = cache.get(key)
    assert "visible-if-plain" not in repr(stored)


def test_renewed_within_the_margin_before_expiry_not_before(account_config, strict):
    strict.post(TOKEN_URL, json=grant(access="account-1"))
    renewal = strict.post(TOKEN_URL, json=grant(access="account-2"))
    with time_machine.travel(timezone.now(), tick=False) as clock:
        account_token(account_config)
        clock.shift(timedelta(seconds=3599 - 301))  # 5 min 1 s left: still good
        assert account_token(account_config).access_token == "account-1"
        assert renewal.call_count == 0
        clock.shift(timedelta(seconds=2))  # 4 min 59 s left: renewed
        assert account_token(account_config).access_token == "account-2"
        assert renewal.call_count == 1


def test_a_401_renews_the_token_once_and_the_call_succeeds(account_config, strict):
    strict.post(TOKEN_URL, json=grant(access="account-1"))
    strict.post(TOKEN_URL, json=grant(access="account-2"))
    strict.get(USERS_URL, status=401, json=INVALID_TOKEN)
    strict.get(USERS_URL, json={"total_records": 0, "users": []})
    response = AccountClient(config=account_config).request("GET", "/users", category=LIGHT)
    assert response.status_code == 200
    bearers = [call.request.headers.get("Authorization") for call in strict.calls if "/users" in call.request.url]
    assert bearers == ["Bearer account-1", "Bearer account-2"]
    assert account_token(account_config).access_token == "account-2"  # the shared one now


def test_a_401_after_another_worker_renewed_uses_its_token_without_asking_zoom(account_config, strict):
    asked = strict.post(TOKEN_URL, json=grant(access="account-1"))

    def refused_while_another_worker_renews(request):
        _store(token_key(account_config), AccountToken("account-other", time.time() + 3000, ADMIN_SCOPES))
        return (401, {}, json.dumps(INVALID_TOKEN))

    strict.add_callback("GET", USERS_URL, callback=refused_while_another_worker_renews)
    strict.get(USERS_URL, json={"total_records": 0, "users": []})
    AccountClient(config=account_config).request("GET", "/users", category=LIGHT)
    bearers = [call.request.headers.get("Authorization") for call in strict.calls if "/users" in call.request.url]
    assert bearers == ["Bearer account-1", "Bearer account-other"]
    assert asked.call_count == 1


def test_a_second_401_is_a_clear_permanent_error(account_config, strict):
    strict.post(TOKEN_URL, json=grant(access="account-1"))
    strict.post(TOKEN_URL, json=grant(access="account-2"))
    users = strict.get(USERS_URL, status=401, json=INVALID_TOKEN)
    with pytest.raises(ProviderError) as refused:
        AccountClient(config=account_config).request("GET", "/users", category=LIGHT)
    assert (refused.value.code, refused.value.permanent) == ("account_rejected", True)
    assert "Test connection" in refused.value.message and "account-" not in refused.value.message
    assert users.call_count == 2


@pytest.mark.parametrize(
    ("status", "body", "error_class", "code", "permanent"),
    [
        (
            400,
            {"reason": "Invalid client_id or client_secret", "error": "invalid_client"},
            ProviderError,
            "invalid_client",
            True,
        ),
        (
            401,
            {"reason": "Invalid client_id or client_secret", "error": "invalid_client"},
            ProviderError,
            "invalid_client",
            True,
        ),
        (400, {"reason": "Invalid account_id", "error": "invalid_request"}, ProviderError, "invalid_account", True),
        (400, {"reason": "Bad Request", "error": "invalid_grant"}, ProviderError, "invalid_account", True),
        (
            400,
            {"reason": "Unsupported grant type", "error": "unsupported_grant_type"},
            ProviderError,
            "unsupported_grant_type",
            True,
        ),
        (503, {"message": "down"}, ProviderError, "", False),
        (429, {"code": 429, "message": "slow down"}, RateLimited, "rate_limited", False),
    ],
    ids=["bad-client-400", "bad-client-401", "bad-account", "bad-account-other-words", "general-app", "5xx", "429"],
)
def test_a_refused_grant_is_the_right_error(account_config, strict, status, body, error_class, code, permanent):
    strict.post(TOKEN_URL, status=status, json=body)
    with pytest.raises(ProviderError) as refused:
        account_token(account_config)
    assert type(refused.value) is error_class
    assert (refused.value.code, refused.value.permanent) == (code, permanent)
    assert S2S_SECRET not in refused.value.message
    assert cache.get(token_key(account_config)) is None  # nothing cached from a refusal


def test_zoom_unreachable_is_transient(account_config, strict):
    import requests

    strict.post(TOKEN_URL, body=requests.ConnectionError("refused"))
    with pytest.raises(ProviderError) as refused:
        account_token(account_config)
    assert refused.value.permanent is False and "could not be reached" in refused.value.message


def test_not_set_up_is_said_before_any_call(db, strict):
    config = ProviderConfig.objects.create(provider="zoom", account_id=ACCOUNT_ID, account_client_id=S2S_ID)
    with pytest.raises(ProviderError) as refused:
        account_token(config)
    assert refused.value.code == "account_not_set_up"


def test_forgetting_the_token_asks_zoom_again(account_config, strict):
    asked = strict.post(TOKEN_URL, json=grant())
    account_token(account_config)
    account_token_forget(account_config)
    account_token(account_config)
    assert asked.call_count == 2


def test_the_token_and_secret_are_never_logged(account_config, strict, caplog):
    caplog.set_level(logging.DEBUG)
    strict.post(TOKEN_URL, json=grant(access="secret-bearer-value"))
    strict.post(TOKEN_URL, json=grant(access="second-bearer-value"))
    strict.get(USERS_URL, status=401, json=INVALID_TOKEN)
    strict.get(USERS_URL, status=401, json=INVALID_TOKEN)
    with pytest.raises(ProviderError):
        AccountClient(config=account_config).request("GET", "/users", category=LIGHT)
    for text in ("secret-bearer-value", "second-bearer-value", S2S_SECRET):
        assert text not in caplog.text


def _redis_cache_or_skip():
    import redis

    url = os.environ.get("REDIS_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("needs REDIS_URL (the production cache) for the Redis variant")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {url} is not reachable: {exc}")
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": uuid.uuid4().hex}


@pytest.mark.parametrize("backend", ["locmem", "redis"])
def test_concurrent_workers_ask_zoom_once(account_config, settings, backend):
    """Eight workers find no token at once: one asks Zoom (slowly), the others wait for its token."""
    if backend == "redis":
        settings.CACHES = {"default": _redis_cache_or_skip()}
    calls = []

    def slow_grant(request):
        calls.append(time.monotonic())
        time.sleep(0.3)  # Zoom thinking: the others must wait, not ask too
        return (200, {}, json.dumps(grant(access=f"account-{len(calls)}")))

    results, errors = [], []
    start = threading.Barrier(8)

    def worker():
        start.wait()
        try:
            results.append(account_token(account_config).access_token)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add_callback("POST", TOKEN_URL, callback=slow_grant)
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert len(calls) == 1
    assert results == ["account-1"] * 8
    if backend == "redis":
        cache.delete(token_key(account_config))


def test_a_secret_beyond_latin_1_is_sent_as_utf_8(account_config, strict):
    account_config.account_client_secret = "geheim-\u00fc\u20ac-\u79d8\u5bc6"
    strict.post(TOKEN_URL, json=grant())
    account_token(account_config)
    sent = strict.calls[0].request.headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(f"{S2S_ID}:geheim-\u00fc\u20ac-\u79d8\u5bc6".encode()).decode()


def test_a_cached_token_encrypted_with_a_removed_key_is_asked_for_again(account_config, strict, settings):
    from cryptography.fernet import Fernet

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    strict.post(TOKEN_URL, json=grant(access="account-1"))
    renewal = strict.post(TOKEN_URL, json=grant(access="account-2"))
    account_token(account_config)

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key rotated out while the token sat in the cache
    config = ProviderConfig(
        provider="zoom", account_id=ACCOUNT_ID, account_client_id=S2S_ID, account_client_secret=S2S_SECRET
    )
    assert account_token(config).access_token == "account-2"
    assert renewal.call_count == 1
