"""A site admin is never told to "ask a site admin": what only an admin can fix is said to them as
the fix itself; everyone else is still told whom to ask."""

from html import unescape

import pytest
from django.contrib.auth.models import Permission, User

from virtualmeeting.models import ProviderConfig
from virtualmeeting_zoom.tests.conftest import TOKEN_URL, token_json

CONNECT = "/integrations/virtualmeeting/connect/zoom"
CALLBACK = "/integrations/virtualmeeting/auth_callback/zoom"


@pytest.fixture
def site_admin(db):
    user = User.objects.create(username="ada", email="ada@example.com", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_site"))
    return User.objects.get(pk=user.pk)


@pytest.fixture(params=["site_admin", "trainer"])
def who(request, client):
    user = request.getfixturevalue(request.param)
    client.force_login(user)
    return request.param


def popup_text(response):
    return unescape(response.content.decode().split('<div class="card" role="status">', 1)[1].split("</div>", 1)[0])


def callback(client):
    location = client.get(CONNECT)["Location"]
    state = location.split("state=", 1)[1].split("&", 1)[0]
    return client.get(CALLBACK, {"code": "zoom-code", "state": state})


def test_zoom_not_set_up(db):
    from virtualmeeting.errors import ConnectError
    from virtualmeeting_zoom.provider import ZoomProvider

    provider = ZoomProvider(ProviderConfig.objects.create(provider="zoom", enabled=True))  # no Client ID
    with pytest.raises(ConnectError) as refused:
        provider.authorization_url(redirect_uri="https://lms.example/cb", state="s", code_challenge="c")
    admin = refused.value.message_for(site_admin=True)
    assert "enter the Client ID and secret on the Zoom Meeting settings page" in admin
    assert "site admin" not in admin
    assert "a site admin must enter the Client ID and secret" in refused.value.message_for(site_admin=False)


def test_a_rejected_client_secret(client, zoom_config, mocked, who):
    mocked.post(TOKEN_URL, status=401, json={"error": "invalid_client", "reason": "Invalid client_id or client_secret"})
    text = popup_text(callback(client))
    assert "Zoom rejected this site's Client ID or Client secret." in text
    if who == "site_admin":
        assert "Check them on the Zoom Meeting settings page" in text and "site admin" not in text
    else:
        assert "Ask a site admin to check the Zoom Meeting settings." in text


def test_missing_scopes(client, zoom_config, mocked, who):
    from virtualmeeting_zoom.tests.conftest import REVOKE_URL

    mocked.post(TOKEN_URL, json=token_json(scope="user:read:user meeting:write:meeting"))
    mocked.post(REVOKE_URL, json={"status": "success"})
    text = popup_text(callback(client))
    assert "Missing: meeting:read:meeting" in text
    if who == "site_admin":
        assert "Add them to the app in the Zoom Marketplace" in text and "site admin" not in text
    else:
        assert "Ask a site admin to add them" in text
