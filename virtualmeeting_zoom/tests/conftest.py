"""Fixtures for the Zoom provider's tests: an enabled configuration, a connected trainer, Zoom-shaped JSON."""

from datetime import timedelta

import pytest
import responses
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from virtualmeeting.models import ProviderConfig, ProviderConnection
from virtualmeeting_zoom.provider import ZoomProvider

OAUTH = "https://zoom.us"
API = "https://api.zoom.us/v2"
TOKEN_URL = f"{OAUTH}/oauth/token"
REVOKE_URL = f"{OAUTH}/oauth/revoke"
CLIENT_ID = "zoomClientId123"
CLIENT_SECRET = "zoom-client-secret-value"
WEBHOOK_SECRET = "zoom-webhook-secret-token"
ZOOM_USER_ID = "KDcuGIm1QgePTO8WbOqwIQ"
ZOOM_ACCOUNT_ID = "Q4NYNnaSQAuNPy3wi4p3Mw"
GRANULAR = (
    "user:read:user meeting:write:meeting meeting:read:meeting meeting:read:list_meetings "
    "meeting:update:meeting meeting:delete:meeting"
)
CLASSIC = "user:read meeting:write meeting:read"


def token_json(access="access-1", refresh="refresh-1", scope=GRANULAR, expires_in=3599):
    return {
        "access_token": access,
        "token_type": "bearer",
        "refresh_token": refresh,
        "expires_in": expires_in,
        "scope": scope,
    }


def user_json(**overrides):
    data = {
        "id": ZOOM_USER_ID,
        "first_name": "Tom",
        "last_name": "Trainer",
        "display_name": "Tom Trainer",
        "email": "tom@example.com",
        "type": 2,
        "pmi": 3542471135,
        "timezone": "Europe/London",
        "account_id": ZOOM_ACCOUNT_ID,
        "status": "active",
    }
    data.update(overrides)
    return data


def meeting_json(meeting_id=85746065432, **overrides):
    """A meeting object as Zoom's OpenAPI schema describes it (create 201 / get 200)."""
    data = {
        "id": meeting_id,
        "uuid": "aDYlohsHRtCd4ii1uC2+hA==",
        "host_id": ZOOM_USER_ID,
        "host_email": "tom@example.com",
        "topic": "Safety: Induction (session 1 of 2)",
        "type": 2,
        "status": "waiting",
        "start_time": "2026-03-29T09:00:00Z",
        "duration": 60,
        "timezone": "Europe/London",
        "agenda": "Bring a hard hat.\n\nvm-marker",
        "created_at": "2026-03-01T10:00:00Z",
        "start_url": f"https://zoom.us/s/{meeting_id}?zak=host-token",
        "join_url": f"https://zoom.us/j/{meeting_id}?pwd=abc",
        "password": "Ab3xYz",
        "settings": {"waiting_room": True, "join_before_host": False, "mute_upon_entry": False},
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def _zoom_hosts(settings):
    # The environment may point a development site at the simulator; these tests stub Zoom's own hosts.
    settings.ZOOM_OAUTH_BASE_URL = OAUTH
    settings.ZOOM_API_BASE_URL = API


# Set on the routes of a FakeZoom (fake_zoom.py): a stand-in server's, which `mocked` does not ask to be called.
FAKE_SERVER_ROUTE = "fake_server_route"


def is_fake_server_route(route) -> bool:
    return getattr(route, FAKE_SERVER_ROUTE, False)


@pytest.fixture
def mocked():
    """Zoom's HTTP stubbed with `responses`, strictly: every call a test registers must be made (checked when the
    test ends). The routes of a FakeZoom (fake_zoom.py, a stand-in server holding meetings) are exempt: a server
    answers what it is asked, and a test uses the few it needs."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps
        unfired = [route for route in rsps.registered() if not route.call_count and not is_fake_server_route(route)]
        assert not unfired, f"Registered but never called: {[(route.method, str(route.url)) for route in unfired]}"


@pytest.fixture
def zoom_config(db):
    return ProviderConfig.objects.create(
        provider="zoom",
        enabled=True,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        webhook_secret=WEBHOOK_SECRET,
        # High per-second limits: tests of other things must not wait long for the bucket
        # (their clocks tick: a bucket on a frozen clock never refills).
        options={"create_per_second": 1000, "light_per_second": 1000},
    )


@pytest.fixture
def provider(zoom_config):
    return ZoomProvider(zoom_config)


@pytest.fixture
def site_admin(db):
    """A site admin (staff with seminars.manage_site), fetched again so its permission cache is fresh."""
    user = User.objects.create(username="admin", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_site"))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def admin_client(client, site_admin):
    client.force_login(site_admin)
    return client


@pytest.fixture
def trainer(db):
    # No password: hashing one costs a second per test, and these tests never log in as the trainer.
    return User.objects.create(username="tom", email="tom@example.com", first_name="Tom", last_name="Trainer")


def make_connection(user, **overrides):
    values = {
        "user": user,
        "provider": "zoom",
        "remote_account_id": ZOOM_USER_ID,
        "name": "Tom Trainer",
        "email": "tom@example.com",
        "access_token": "access-1",
        "refresh_token": "refresh-1",
        "expires_at": timezone.now() + timedelta(minutes=55),
        "scopes": GRANULAR,
        "extra": {"type": 2, "account_id": ZOOM_ACCOUNT_ID},
    }
    values.update(overrides)
    return ProviderConnection.objects.create(**values)


@pytest.fixture
def connection(trainer):
    return make_connection(trainer)
