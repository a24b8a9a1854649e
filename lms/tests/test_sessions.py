"""lms.sessions: a signed-in request reads its session and its user's cached row and facts in one cache round trip;
who is signed in is still decided by the session alone, with Django's checks (a new password or deactivation
signs out at the next request)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache.backends.locmem import LocMemCache
from django.core.signals import request_finished
from django.urls import reverse

from lms import sessions, userfacts

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture(autouse=True)
def engine(settings):
    settings.SESSION_ENGINE = "lms.sessions"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sessions"}}
    sessions._user_of_session.clear()
    yield
    sessions._user_of_session.clear()


@pytest.fixture
def reads(monkeypatch):
    """The cache round trips made to read, by method name (locmem's get_many calls its own get: not counted)."""
    made, inside = [], []
    for name in ("get", "get_many", "has_key"):
        original = getattr(LocMemCache, name)

        def counted(self, *args, _name=name, _original=original, **kwargs):
            if not inside:
                made.append(_name)
            inside.append(_name)
            try:
                return _original(self, *args, **kwargs)
            finally:
                inside.pop()

        monkeypatch.setattr(LocMemCache, name, counted)
    return made


@pytest.fixture
def petra(db):
    return User.objects.create_user("petra", email="petra@example.com", password="correct horse battery staple")


@pytest.fixture
def omar(db):
    return User.objects.create_user("omar", email="omar@example.com", password="another horse battery staple")


def signed_in_as(client) -> str | None:
    """The username the profile page was served to, or None when it sent the browser to sign in."""
    response = client.get(reverse("seminars:profile"))
    if response.status_code != 200:
        return None
    return response.context["user"].username


def test_a_signed_in_request_reads_the_session_and_the_user_in_one_round_trip(client, petra, reads):
    client.force_login(petra)
    assert signed_in_as(client) == "petra"  # this process learns whose session it is
    reads.clear()

    assert signed_in_as(client) == "petra"

    assert reads == ["get_many"]


def test_a_new_password_still_signs_out_at_the_next_request(client, petra):
    client.force_login(petra)
    assert signed_in_as(client) == "petra"
    assert signed_in_as(client) == "petra"  # read ahead with the session
    petra.set_password("a new long passphrase")
    petra.save()
    assert signed_in_as(client) is None


def test_deactivation_still_signs_out_at_the_next_request(client, petra):
    client.force_login(petra)
    assert signed_in_as(client) == "petra"
    assert signed_in_as(client) == "petra"
    petra.is_active = False
    petra.save()
    assert signed_in_as(client) is None


def test_the_session_says_who_is_signed_in_whatever_the_process_remembered(client, petra, omar, reads):
    other = client.__class__()
    other.force_login(omar)
    assert signed_in_as(other) == "omar"  # omar's entries are in the cache
    client.force_login(petra)
    assert signed_in_as(client) == "petra"
    sessions._user_of_session[client.session.session_key] = str(omar.pk)  # a wrong guess: omar's entries read ahead
    reads.clear()

    assert signed_in_as(client) == "petra"

    assert reads == ["get_many", "get_many"]  # the guess was of no use: petra's entries read as before
    assert sessions._user_of_session[client.session.session_key] == str(petra.pk)


def test_what_was_read_ahead_serves_one_read_of_that_user_in_that_request():
    found = {userfacts.user_keys(7)[0]: "entry"}
    sessions._read_ahead.set(("7", found))
    assert sessions.user_read_ahead(8) is None  # another user's read takes nothing, and ends it
    assert sessions.user_read_ahead(7) is None

    sessions._read_ahead.set(("7", found))
    assert sessions.user_read_ahead(7) is found
    assert sessions.user_read_ahead(7) is None

    sessions._read_ahead.set(("7", found))
    request_finished.send(sender=None)
    assert sessions.user_read_ahead(7) is None


def test_a_session_not_in_the_cache_is_read_from_the_database(client, petra):
    client.force_login(petra)
    assert signed_in_as(client) == "petra"
    from django.core.cache import cache

    cache.clear()  # evicted: the session stays in the database (cached_db)
    assert signed_in_as(client) == "petra"
    assert signed_in_as(client) == "petra"


def test_a_wrong_guess_reads_nothing_ahead(petra, omar):
    from django.contrib.auth import SESSION_KEY

    store = sessions.SessionStore()
    store[SESSION_KEY] = str(petra.pk)
    store.save()
    sessions._user_of_session[store.session_key] = str(omar.pk)

    loaded = sessions.SessionStore(store.session_key)

    assert loaded[SESSION_KEY] == str(petra.pk)
    assert sessions._read_ahead.get() is None
    assert sessions._user_of_session[store.session_key] == str(petra.pk)
