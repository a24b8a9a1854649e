"""Connecting a trainer's Microsoft account through the framework's connect/callback views, Microsoft stubbed
strictly (every registered call must happen, nothing else may be sent)."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from virtualmeeting.models import ProviderConnection
from virtualmeeting_teams.tests.conftest import (
    AUTHORIZE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    GRANTED,
    GRAPH,
    TOKEN_URL,
    USER_ID,
    me_json,
)

CONNECT = "/integrations/virtualmeeting/connect/teams"
CALLBACK = "/integrations/virtualmeeting/auth_callback/teams"


def token_json(scope=GRANTED, **overrides):
    data = {
        "token_type": "Bearer",
        "expires_in": 3599,
        "scope": scope,
        "access_token": "ms-access-1",
        "refresh_token": "ms-refresh-1",
        "id_token": "header.payload.signature",
    }
    data.update(overrides)
    return data


@pytest.fixture
def trainer_client(client, trainer, teams_config):
    client.force_login(trainer)
    return client


def start(client):
    response = client.get(CONNECT)
    assert response.status_code == 302
    location = response["Location"]
    return parse_qs(urlsplit(location).query), location


def finish(client, query, **params):
    return client.get(CALLBACK, {"state": query["state"][0], **params}).content.decode()


def test_the_authorize_url_asks_microsoft_for_a_code_with_pkce_and_the_permissions(trainer_client, settings):
    query, location = start(trainer_client)

    assert location.startswith(f"{AUTHORIZE_URL}?")  # the settings page's tenant in the path
    assert query["client_id"] == [CLIENT_ID]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{settings.SITE_URL}{CALLBACK}"]
    assert query["scope"] == ["openid profile email offline_access User.Read OnlineMeetings.ReadWrite"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256 digest, unpadded
    assert query["state"][0]
    assert "client_secret" not in location and CLIENT_SECRET not in location


def test_the_code_is_exchanged_with_the_secret_in_the_body_and_the_account_shown_as_name_and_mail(
    trainer_client, trainer, strict, settings
):
    query, _ = start(trainer_client)
    token = strict.post(TOKEN_URL, json=token_json())
    me = strict.get(f"{GRAPH}/me", json=me_json())

    html = finish(trainer_client, query, code="ms-code")

    assert "Connected Microsoft Teams account Tess Trainer (tess@contoso.com)." in html
    sent = token.calls[0].request
    body = parse_qs(sent.body)
    assert body["grant_type"] == ["authorization_code"]
    assert body["code"] == ["ms-code"]
    assert body["redirect_uri"] == [f"{settings.SITE_URL}{CALLBACK}"]
    assert (body["client_id"], body["client_secret"]) == ([CLIENT_ID], [CLIENT_SECRET])
    assert "Authorization" not in sent.headers  # the secret goes in the body, not HTTP Basic
    # PKCE: the verifier sent to the token endpoint hashes to the challenge sent to the authorize page.
    digest = hashlib.sha256(body["code_verifier"][0].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == query["code_challenge"][0]
    assert me.calls[0].request.headers["Authorization"] == "Bearer ms-access-1"
    connection = ProviderConnection.objects.get(user=trainer, provider="teams")
    assert (connection.remote_account_id, connection.name, connection.email) == (
        USER_ID,
        "Tess Trainer",
        "tess@contoso.com",
    )
    assert (connection.access_token, connection.refresh_token) == ("ms-access-1", "ms-refresh-1")
    assert connection.expires_at is not None
    for secret in ("ms-access-1", "ms-refresh-1", CLIENT_SECRET):
        assert secret not in html


def test_an_account_without_a_mailbox_is_shown_with_its_user_principal_name(trainer_client, trainer, strict):
    query, _ = start(trainer_client)
    strict.post(TOKEN_URL, json=token_json())
    strict.get(f"{GRAPH}/me", json=me_json(mail=None))

    html = finish(trainer_client, query, code="ms-code")

    assert "Tess Trainer (tess@contoso.onmicrosoft.com)" in html
    assert ProviderConnection.objects.get(user=trainer).email == "tess@contoso.onmicrosoft.com"


def test_a_grant_without_the_meetings_permission_is_refused_in_words_and_nothing_is_stored(
    trainer_client, trainer, strict
):
    query, _ = start(trainer_client)
    strict.post(TOKEN_URL, json=token_json(scope="openid profile email offline_access User.Read"))

    html = finish(trainer_client, query, code="ms-code")

    assert "OnlineMeetings.ReadWrite" in html
    assert "Connected" not in html
    assert not ProviderConnection.objects.filter(user=trainer).exists()


def test_declining_on_microsofts_consent_page_connects_nothing_and_says_so(trainer_client, trainer, strict):
    query, _ = start(trainer_client)

    html = finish(
        trainer_client,
        query,
        error="access_denied",
        error_description="AADSTS65004: User declined to consent to access the app.",
    )

    assert "You declined access to your Microsoft Teams account. No account was connected." in html
    assert not ProviderConnection.objects.filter(user=trainer).exists()


def test_an_expired_client_secret_is_named_for_the_site_admin(client, site_admin, teams_config, strict):
    client.force_login(site_admin)
    query, _ = start(client)
    strict.post(
        TOKEN_URL,
        status=401,
        json={
            "error": "invalid_client",
            "error_description": "AADSTS7000222: The provided client secret keys for app are expired.",
            "error_codes": [7000222],
        },
    )

    html = finish(client, query, code="ms-code")

    assert "client secret of the site&#x27;s Microsoft app has expired" in html
    assert CLIENT_SECRET not in html


def test_a_used_or_expired_code_asks_to_connect_again(trainer_client, trainer, strict):
    query, _ = start(trainer_client)
    strict.post(
        TOKEN_URL,
        status=400,
        json={
            "error": "invalid_grant",
            "error_description": "AADSTS54005: OAuth2 Authorization code was already redeemed.",
            "error_codes": [54005],
        },
    )

    html = finish(trainer_client, query, code="ms-code")

    assert "Microsoft did not accept the sign-in (it may have expired or been used already)" in html
    assert not ProviderConnection.objects.filter(user=trainer).exists()


def test_a_grant_named_with_full_graph_uris_connects(trainer_client, trainer, strict):
    """Microsoft may answer with the permissions' full names, and without offline_access or the OpenID scopes."""
    query, _ = start(trainer_client)
    granted = "https://graph.microsoft.com/OnlineMeetings.ReadWrite https://graph.microsoft.com/User.Read"
    strict.post(TOKEN_URL, json=token_json(scope=granted))
    strict.get(f"{GRAPH}/me", json=me_json())

    html = finish(trainer_client, query, code="ms-code")

    assert "Connected Microsoft Teams account Tess Trainer (tess@contoso.com)." in html
    assert ProviderConnection.objects.get(user=trainer).scopes == granted
