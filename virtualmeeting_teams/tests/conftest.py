"""Fixtures for the Teams provider's tests: an enabled configuration, a connected trainer, Microsoft's hosts."""

from datetime import timedelta

import pytest
import responses
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from virtualmeeting.models import ProviderConfig, ProviderConnection

AUTH = "https://login.microsoftonline.com"
GRAPH = "https://graph.microsoft.com/v1.0"
TENANT = "contoso.onmicrosoft.com"
TOKEN_URL = f"{AUTH}/{TENANT}/oauth2/v2.0/token"
AUTHORIZE_URL = f"{AUTH}/{TENANT}/oauth2/v2.0/authorize"
CLIENT_ID = "11112222-bbbb-3333-cccc-4444dddd5555"
CLIENT_SECRET = "teams-client-secret-value"
USER_ID = "48d31887-5fad-4d73-a9f5-3c356e68a038"
GRANTED = "openid profile email offline_access User.Read OnlineMeetings.ReadWrite"
PROVIDERS = ["virtualmeeting_zoom.provider.ZoomProvider", "virtualmeeting_teams.provider.TeamsProvider"]


def me_json(**overrides):
    data = {
        "id": USER_ID,
        "displayName": "Tess Trainer",
        "mail": "tess@contoso.com",
        "userPrincipalName": "tess@contoso.onmicrosoft.com",
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def _microsoft_hosts(settings):
    # The environment may point a development site at the simulator; these tests stub Microsoft's own hosts.
    settings.TEAMS_AUTH_BASE_URL = AUTH
    settings.GRAPH_API_BASE_URL = GRAPH
    settings.VIRTUALMEETING = {"PROVIDERS": PROVIDERS}


@pytest.fixture
def mocked():
    """For the stateful FakeGraph, whose endpoints a test uses some of (strict cases use their own mock)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def strict():
    """Every registered call must happen, and nothing else may be sent."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def teams_config(db):
    return ProviderConfig.objects.create(
        provider="teams",
        enabled=True,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        options={"tenant": TENANT},
    )


@pytest.fixture
def site_admin(db):
    user = User.objects.create(username="admin", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_site"))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def admin_client(client, site_admin):
    client.force_login(site_admin)
    return client


@pytest.fixture
def trainer(db):
    return User.objects.create(username="tess", email="tess@example.com", first_name="Tess", last_name="Trainer")


def make_connection(user, **overrides):
    values = {
        "user": user,
        "provider": "teams",
        "remote_account_id": USER_ID,
        "name": "Tess Trainer",
        "email": "tess@contoso.com",
        "access_token": "ms-access-1",
        "refresh_token": "ms-refresh-1",
        "expires_at": timezone.now() + timedelta(minutes=55),
        "scopes": GRANTED,
    }
    values.update(overrides)
    return ProviderConnection.objects.create(**values)


@pytest.fixture
def connection(trainer):
    return make_connection(trainer)
