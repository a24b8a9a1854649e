"""Login lockout (django-axes): a (username, address) pair is locked after repeated failures."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.utils import timezone, translation

from lms.login_lockout import lockout_message
from lms.testing.translations import use_catalog

PASSWORD = "the-right-password-42"
LOCKED = "Too many failed attempts to log in to this account from your network."


@pytest.fixture
def user(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return User.objects.create_user("lena", password=PASSWORD)


def log_in(client, password, *, username="lena", **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, times, **extra):
    for _ in range(times):
        response = log_in(client, "wrong-password", **extra)
        assert not logged_in(client)
    return response


def test_thirty_wrong_passwords_then_the_right_one_is_refused_with_the_message(client, user):
    fail(client, 30)

    response = log_in(client, PASSWORD)

    assert not logged_in(client)
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page and "paused for 15 minutes" in page
    assert 'name="username"' in page and 'value="lena"' in page  # the login page, the username kept


def test_the_lock_starts_at_the_limit_not_before(client, user, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    fail(client, 4)
    assert log_in(client, PASSWORD).status_code == 302 and logged_in(client)

    client.logout()
    fail(client, 5)
    response = log_in(client, PASSWORD)
    assert response.status_code == 429 and not logged_in(client)


def test_after_the_cool_off_the_right_password_works_and_retrying_meanwhile_does_not_extend_it(client, user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        fail(client, 5)
        clock.shift(timedelta(minutes=10))
        assert log_in(client, PASSWORD).status_code == 429  # still locked; this retry does not restart the clock
        clock.shift(timedelta(minutes=5) - timedelta(seconds=1))
        assert log_in(client, PASSWORD).status_code == 429 and not logged_in(client)  # one second before the end
        clock.shift(timedelta(seconds=2))
        response = log_in(client, PASSWORD)

    assert response.status_code == 302 and logged_in(client)


def lockout_banner(response) -> str:
    return re.search(r'role="alert">(.*?)</p>', response.content.decode(), re.DOTALL)[1]


def test_the_message_says_when_to_try_again_and_sends_nobody_to_a_site_admin(client, user):
    with time_machine.travel(datetime(2026, 12, 3, 14, 20, 30, tzinfo=UTC), tick=False) as clock:
        fail(client, 5)  # locked until 14:35:30
        clock.shift(timedelta(minutes=10))
        after_ten_minutes = lockout_banner(log_in(client, PASSWORD))
        clock.shift(timedelta(minutes=4, seconds=10))
        in_the_last_minute = lockout_banner(log_in(client, PASSWORD))

    assert after_ten_minutes == (
        "Too many failed attempts to log in to this account from your network. "
        "Logging in is paused for 5 minutes: try again at 14:36 UTC."
    )
    assert in_the_last_minute.endswith("Logging in is paused for 1 minute: try again at 14:36 UTC.")
    assert "admin" not in after_ten_minutes + in_the_last_minute  # the locked account may be the admin's


def test_the_message_is_translated_with_its_plural_forms(settings, tmp_path):
    start = "Too many failed attempts to log in to this account from your network. "
    one = start + "Logging in is paused for %(minutes)d minute: try again at %(time)s UTC."
    more = start + "Logging in is paused for %(minutes)d minutes: try again at %(time)s UTC."
    forms = ["Eine Minute Pause, bis %(time)s UTC.", "%(minutes)d Minuten Pause, bis %(time)s UTC."]
    use_catalog(settings, tmp_path, "de", {(one, more): forms})
    now = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)

    with time_machine.travel(now, tick=False), translation.override("de"):
        soon = lockout_message(now + timedelta(seconds=40))
        later = lockout_message(now + timedelta(minutes=5))

    assert (soon, later) == ("Eine Minute Pause, bis 14:31 UTC.", "5 Minuten Pause, bis 14:35 UTC.")


def test_a_successful_login_resets_the_count(client, user):
    fail(client, 4)
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()

    fail(client, 4)  # 8 failures in all, but only 4 since the success
    assert log_in(client, PASSWORD).status_code == 302 and logged_in(client)


def test_a_locked_pair_does_not_lock_the_user_out_from_another_address(client, user):
    fail(client, 10, REMOTE_ADDR="203.0.113.9")  # an attacker
    assert log_in(client, PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429

    assert log_in(client, PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302  # the user, elsewhere
    assert logged_in(client)


def test_behind_the_proxy_the_address_the_proxy_saw_counts_not_the_proxys_nor_a_forged_one(client, user, settings):
    settings.BEHIND_HTTPS_PROXY = True
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    # The attacker forges the first X-Forwarded-For entry; the proxy appends the address it saw.
    fail(client, 5, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9", **proxy)
    assert log_in(client, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy).status_code == 429

    response = log_in(client, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)  # the user, same proxy
    assert response.status_code == 302 and logged_in(client)


@pytest.mark.parametrize("forwarded", ["", "unknown", "203.0.113.9:443", "'; DROP TABLE x; --"])
def test_behind_the_proxy_a_forwarded_value_that_is_no_address_counts_against_the_proxy(
    client, user, settings, forwarded
):
    settings.BEHIND_HTTPS_PROXY = True
    fail(client, 1, HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.2")

    assert AccessAttempt.objects.get().ip_address == "10.0.0.2"


def test_failures_are_shared_through_the_database_and_never_store_the_password(client, user):
    fail(client, 2)

    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == ("lena", "127.0.0.1", 2)
    assert "wrong-password" not in attempt.post_data


@pytest.mark.parametrize("username", ["x" * 256, "lena" + "é" * 1000])
def test_a_username_longer_than_any_account_is_refused_and_counted(client, user, username):
    """Found by the fuzz suite: the login form does not limit the username's length, and recording
    the failure of a 256-character one was a database error (a 500 on PostgreSQL)."""
    response = fail(client, 5, username=username)
    assert response.status_code == 429
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.failures_since_start) == (username[:255], 5)
    assert log_in(client, PASSWORD).status_code == 302, "another username is not locked by it"


def test_force_login_and_a_login_with_a_request_still_work(client, user, rf):
    from django.contrib.auth import authenticate

    client.force_login(user)
    assert logged_in(client)
    assert authenticate(rf.post("/accounts/login/"), username="lena", password=PASSWORD) == user
