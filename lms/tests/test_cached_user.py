"""Each request's user comes from the cache (lms.auth.CachedModelBackend), and every change to the user shows at
the next request: deactivation signs them out, a new password ends their other sessions, deletion too, and a
change that bypassed save() is seen when the cached row expires."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lms import userfacts

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def person(db):
    return User.objects.create_user("petra", email="petra@example.com", password="correct horse battery staple")


def _signed_in(client) -> bool:
    response = client.get(reverse("seminars:profile"))
    return response.status_code == 200


def test_a_signed_in_request_reads_no_user_row_in_the_steady_state(client, person):
    client.force_login(person)
    assert _signed_in(client)  # caches the row
    with CaptureQueriesContext(connection) as queries:
        assert _signed_in(client)
    assert not [q for q in queries.captured_queries if 'FROM "auth_user"' in q["sql"] and "WHERE" in q["sql"]]


def test_deactivating_a_user_signs_them_out_at_their_next_request(client, person):
    client.force_login(person)
    assert _signed_in(client)
    person.is_active = False
    person.save()
    assert not _signed_in(client)


def test_a_new_password_ends_the_other_sessions(client, person):
    client.force_login(person)
    assert _signed_in(client)
    person.set_password("another long passphrase")
    person.save()
    assert not _signed_in(client)


def test_deleting_a_user_signs_them_out(client, person):
    client.force_login(person)
    assert _signed_in(client)
    person.delete()
    assert not _signed_in(client)


def test_a_change_that_bypassed_save_is_seen_once_the_cached_row_expires(client, person, settings):
    client.force_login(person)
    assert _signed_in(client)
    User.objects.filter(pk=person.pk).update(is_active=False)  # no signal: the cached row is stale
    assert _signed_in(client)
    from django.core.cache import cache

    cache.delete(userfacts._user_key(person.pk))  # what USER_TIMEOUT does
    assert not _signed_in(client)


def test_logging_in_through_the_form_uses_the_cached_backend(person):
    browser = Client()
    page = browser.post(
        reverse("login"), {"username": "petra", "password": "correct horse battery staple"}, REMOTE_ADDR="10.0.0.1"
    )
    assert page.status_code == 302
    assert browser.session["_auth_user_backend"] == "lms.auth.CachedModelBackend"
    assert _signed_in(browser)
