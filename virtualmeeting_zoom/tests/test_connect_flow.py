"""Connecting a trainer's Zoom account through the framework's connect/callback views, Zoom stubbed."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from virtualmeeting.models import ProviderConnection
from virtualmeeting_zoom.tests.conftest import API, REVOKE_URL, TOKEN_URL, ZOOM_USER_ID, token_json, user_json

CONNECT = "/integrations/virtualmeeting/connect/zoom"
CALLBACK = "/integrations/virtualmeeting/auth_callback/zoom"


@pytest.fixture
def trainer_client(client, trainer, zoom_config):
    client.force_login(trainer)
    return client


def start(client):
    response = client.get(CONNECT)
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query), response["Location"]


def test_connect_redirects_to_zooms_authorize_page(trainer_client, settings):
    query, location = start(trainer_client)
    assert location.startswith("https://zoom.us/oauth/authorize?")
    assert query["redirect_uri"] == [f"{settings.SITE_URL}{CALLBACK}"]
    assert query["code_challenge_method"] == ["S256"]
    assert "scope" not in query


def test_callback_stores_the_zoom_account(trainer_client, trainer, mocked):
    query, _ = start(trainer_client)
    mocked.post(TOKEN_URL, json=token_json())
    mocked.get(f"{API}/users/me", json=user_json())

    response = trainer_client.get(CALLBACK, {"code": "zoom-code", "state": query["state"][0]})

    assert response.status_code == 200
    assert "Connected Zoom account Tom Trainer (tom@example.com)." in response.content.decode()
    # PKCE: the verifier sent to the token endpoint hashes to the challenge sent to the authorize page.
    verifier = parse_qs(mocked.calls[0].request.body)["code_verifier"][0]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert digest == query["code_challenge"][0]
    connection = ProviderConnection.objects.get(user=trainer, provider="zoom")
    assert connection.remote_account_id == ZOOM_USER_ID
    assert connection.extra == {"type": 2, "account_id": "Q4NYNnaSQAuNPy3wi4p3Mw"}
    assert (connection.access_token, connection.refresh_token) == ("access-1", "refresh-1")
    assert connection.expires_at is not None


def test_missing_scopes_are_named_in_the_popup_and_nothing_is_stored(trainer_client, trainer, mocked):
    query, _ = start(trainer_client)
    mocked.post(TOKEN_URL, json=token_json(scope="user:read:user meeting:write:meeting"))
    mocked.post(REVOKE_URL, json={"status": "success"})
    response = trainer_client.get(CALLBACK, {"code": "zoom-code", "state": query["state"][0]})
    html = response.content.decode()
    assert "meeting:read:meeting, meeting:read:list_meetings, meeting:update:meeting, meeting:delete:meeting" in html
    assert not ProviderConnection.objects.filter(user=trainer).exists()


def test_connecting_another_zoom_account_replaces_the_first(trainer_client, trainer, mocked):
    query, _ = start(trainer_client)
    mocked.post(TOKEN_URL, json=token_json())
    mocked.get(f"{API}/users/me", json=user_json())
    trainer_client.get(CALLBACK, {"code": "c1", "state": query["state"][0]})

    mocked.replace("POST", TOKEN_URL, json=token_json(access="access-b", refresh="refresh-b"))
    mocked.replace("GET", f"{API}/users/me", json=user_json(id="OtherZoomUser", email="tom@other.example"))
    query, _ = start(trainer_client)
    trainer_client.get(CALLBACK, {"code": "c2", "state": query["state"][0]})

    connection = ProviderConnection.objects.get(user=trainer, provider="zoom")
    assert (connection.remote_account_id, connection.email) == ("OtherZoomUser", "tom@other.example")


def test_disconnect_revokes_at_zoom_and_forgets_the_tokens(trainer_client, connection, mocked):
    revoke = mocked.post(REVOKE_URL, json={"status": "success"})
    response = trainer_client.post("/integrations/virtualmeeting/disconnect/zoom")
    assert response.status_code == 302
    assert revoke.call_count == 1
    assert parse_qs(revoke.calls[0].request.body) == {"token": ["access-1"]}
    assert not ProviderConnection.objects.filter(pk=connection.pk).exists()


LEGACY_CALLBACK = "/integrations/virtualmeeting/auth_callback.php/zoom"


def test_an_app_registered_with_the_legacy_url_gets_it_in_authorize_and_token(
    trainer_client, trainer, zoom_config, settings
):
    zoom_config.options = {**zoom_config.options, "redirect_url": "legacy"}
    zoom_config.save()
    query, _ = start(trainer_client)
    assert query["redirect_uri"] == [f"{settings.SITE_URL}{LEGACY_CALLBACK}"]

    with responses.RequestsMock(assert_all_requests_are_fired=True) as zoom:
        token = zoom.post(TOKEN_URL, json=token_json())
        zoom.get(f"{API}/users/me", json=user_json())
        # Zoom sends the popup back to the URL the app registered.
        response = trainer_client.get(LEGACY_CALLBACK, {"code": "zoom-code", "state": query["state"][0]})

    assert "Connected Zoom account Tom Trainer (tom@example.com)." in response.content.decode()
    assert parse_qs(token.calls[0].request.body)["redirect_uri"] == [f"{settings.SITE_URL}{LEGACY_CALLBACK}"]
    assert ProviderConnection.objects.filter(user=trainer, provider="zoom").exists()


def test_the_modern_url_is_sent_by_default_in_authorize_and_token(trainer_client, settings):
    query, _ = start(trainer_client)
    assert query["redirect_uri"] == [f"{settings.SITE_URL}{CALLBACK}"]
    with responses.RequestsMock(assert_all_requests_are_fired=True) as zoom:
        token = zoom.post(TOKEN_URL, json=token_json())
        zoom.get(f"{API}/users/me", json=user_json())
        trainer_client.get(CALLBACK, {"code": "zoom-code", "state": query["state"][0]})
    assert parse_qs(token.calls[0].request.body)["redirect_uri"] == [f"{settings.SITE_URL}{CALLBACK}"]
