"""Shared fixtures: the test provider enabled, a clean "remote", people with connections."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission, User

from virtualmeeting import signals
from virtualmeeting.models import ProviderConfig
from virtualmeeting.providers.base import ConnectedAccount
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.services import connection_save

TEST_PROVIDER = "virtualmeeting.providers.testing.TestProvider"
START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def test_provider(settings, db):
    settings.VIRTUALMEETING = {"PROVIDERS": [TEST_PROVIDER]}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast users
    TestProvider.reset()
    ProviderConfig.objects.update_or_create(provider="test", defaults={"enabled": True})
    yield TestProvider
    TestProvider.reset()


def make_user(username, **extra):
    return User.objects.create_user(username, email=f"{username}@example.com", password="pw-for-tests-1", **extra)


def connect(user, *, name=None, account_id=None):
    account = ConnectedAccount(
        remote_account_id=account_id or f"acct-{user.username}",
        name=name or user.username.capitalize(),
        email=user.email,
        access_token=f"access-{user.username}",
        refresh_token=f"refresh-{user.username}",
        expires_at=START + timedelta(hours=1),
        scopes="meeting:write meeting:read",
    )
    return connection_save(user=user, provider="test", account=account)


@pytest.fixture
def owner(db):
    user = make_user("tom", first_name="Tom", last_name="Trainer")
    connect(user)
    return user


@pytest.fixture
def site_admin(db):
    user = make_user("admin", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_site"))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def outsider(db):
    return make_user("otto")


@pytest.fixture
def received():
    """Every virtualmeeting signal sent, as (signal name, object) pairs."""
    log = []
    hooks = {}
    for name in ("meeting_failed", "meeting_waiting", "meeting_available", "meeting_recreated", "connection_revoked"):

        def receiver(sender, _name=name, **kwargs):
            log.append((_name, kwargs.get("meeting") or kwargs.get("connection")))

        hooks[name] = receiver
        getattr(signals, name).connect(receiver)
    yield log
    for name, receiver in hooks.items():
        getattr(signals, name).disconnect(receiver)
