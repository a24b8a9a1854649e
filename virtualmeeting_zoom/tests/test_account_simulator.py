"""The site's Zoom account against the Zoom simulator over HTTP: the shared token, "Test connection" with each
seeded Server-to-Server app, and a wrong Account ID or secret as the token endpoint answers them."""

import io
import uuid

import pytest
from django.core.management import call_command

from simulators.zoom.server import start_server
from virtualmeeting.models import ProviderConfig
from virtualmeeting_zoom.account import AccountClient, account_check, account_token
from virtualmeeting_zoom.client import MEDIUM

ACCOUNT_A = "acctA-zoomsim00000001"


@pytest.fixture
def zoom_sim(tmp_path, settings):
    server = start_server(port=0, db_path=str(tmp_path / "zoomsim.sqlite3"))
    settings.ZOOM_OAUTH_BASE_URL = server.oauth_base_url
    settings.ZOOM_API_BASE_URL = server.api_base_url
    settings.REDIS_URL = ""  # the rate buckets in the database: this test touches no Redis
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    yield server
    server.stop()


@pytest.fixture
def config(zoom_sim, db):
    call_command("virtualmeeting_zoom_configure", simulator=zoom_sim.url, stdout=io.StringIO())
    return ProviderConfig.objects.get(provider="zoom")


def test_the_simulators_server_to_server_app_connects(config, zoom_sim):
    zoom_sim.add_users(count=3)
    zoom_sim.add_users(users=[{"email": "left@zoomsim.test", "status": "inactive"}])
    check = account_check(config)
    assert (check.ok, check.message, check.field) == (True, "Connected to the Zoom account: 5 active users.", "")


def test_one_token_serves_every_call_until_it_nears_its_end(config, zoom_sim):
    client = AccountClient(config=config)
    client.request("GET", "/users", category=MEDIUM)
    AccountClient(config=ProviderConfig.objects.get(pk=config.pk)).request("GET", "/users", category=MEDIUM)
    routes = [entry["route"] for entry in zoom_sim.requests()]
    assert routes == ["oauth.token", "users.list", "users.list"]


def test_a_token_zoom_no_longer_accepts_is_renewed_once(config, zoom_sim):
    first = account_token(config)
    zoom_sim.advance_clock(3600)  # expired at Zoom, though our copy thinks it has time (clocks differ)
    response = AccountClient(config=config).request("GET", "/users", category=MEDIUM)
    assert response.status_code == 200
    assert account_token(config).access_token != first.access_token
    statuses = [(entry["route"], entry["status"]) for entry in zoom_sim.requests()]
    assert statuses == [("oauth.token", 200), ("users.list", 401), ("oauth.token", 200), ("users.list", 200)]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"account_id": "acctB-otheraccount0001"}, "account_id", "did not accept the Account ID"),
        ({"account_client_secret": "wrong-secret"}, "account_client_secret", "did not accept the Client ID"),
        ({"account_client_id": "nobody"}, "account_client_secret", "did not accept the Client ID"),
        (
            {
                "account_client_id": "zoomsim-published-client-id",
                "account_client_secret": "zoomsim-published-client-secret",
            },
            "account_client_id",
            "not a Server-to-Server OAuth app",
        ),
    ],
    ids=["other-account", "wrong-secret", "unknown-client", "a-general-app"],
)
def test_what_is_wrong_is_said_next_to_its_field(config, change, field, words):
    ProviderConfig.objects.filter(pk=config.pk).update(**{k: v for k, v in change.items() if "secret" not in k})
    config.refresh_from_db()
    if "account_client_secret" in change:
        config.account_client_secret = change["account_client_secret"]
        config.save()
    check = account_check(config)
    assert (check.ok, check.field) == (False, field)
    assert words in check.message


def test_missing_scopes_are_named(config):
    config.account_client_id, config.account_client_secret = (
        "zoomsim-s2s-limited-client-id",
        "zoomsim-s2s-limited-client-secret",
    )
    config.save()
    check = account_check(config)
    assert not check.ok
    assert "user:read:list_users:admin, user:read:user:admin" in check.message


def test_classic_admin_scopes_pass(config):
    config.account_client_id, config.account_client_secret = (
        "zoomsim-s2s-classic-client-id",
        "zoomsim-s2s-classic-client-secret",
    )
    config.save()
    assert account_check(config).message == "Connected to the Zoom account: 2 active users."


def test_zoom_unreachable(config, zoom_sim):
    zoom_sim.next_fault("oauth.token", "drop")
    check = account_check(config)
    assert not check.ok and check.message.startswith("Zoom could not be reached")
