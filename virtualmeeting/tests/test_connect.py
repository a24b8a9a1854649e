"""The generic connect flow through the test provider: success and every failure path."""

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from virtualmeeting.models import OAuthState, ProviderConfig, ProviderConnection
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.tests.conftest import make_user


@pytest.fixture
def trainer(db):
    return make_user("tina")


@pytest.fixture
def tina(client, trainer):
    client.force_login(trainer)
    return client


def start(client):
    response = client.get(reverse("virtualmeeting:connect", args=["test"]))
    assert response.status_code == 302
    return response["Location"]


def payload(response):
    html = response.content.decode()
    start_tag = '<script id="vm-connect-result" type="application/json">'
    body = html.split(start_tag, 1)[1].split("</script>", 1)[0]
    return json.loads(body)


def test_connect_success(tina, trainer):
    TestProvider.set_account(remote_account_id="z-42", name="Tina Trainer", email="tina@zoom.example")
    location = start(tina)

    query = parse_qs(urlsplit(location).query)
    state = OAuthState.objects.get(state=query["state"][0])
    assert state.user == trainer
    assert state.redirect_uri == "http://testserver/integrations/virtualmeeting/auth_callback/test"
    assert state.opener_origin == "http://testserver"
    assert location.startswith(state.redirect_uri + "?")

    response = tina.get(location)

    assert response.status_code == 200
    assert payload(response) == {
        "type": "virtualmeeting:connected",
        "provider": "test",
        "label": "Tina Trainer (tina@zoom.example)",
        "message": "Connected Test Meeting account Tina Trainer (tina@zoom.example).",
    }
    html = response.content.decode()
    assert '<script id="vm-target-origin" type="application/json">"http://testserver"</script>' in html
    # The page's script (a static file, as the Content-Security-Policy requires) posts to that origin only.
    assert '<script src="/static/virtualmeeting/connect_result.js"></script>' in html
    script = Path(finders.find("virtualmeeting/connect_result.js")).read_text()
    assert "window.opener.postMessage(data, targetOrigin)" in script
    assert "window.close()" in script
    assert "Back to the site" in html  # the page without an opener
    connection = ProviderConnection.objects.get(user=trainer)
    assert (connection.remote_account_id, connection.name, connection.email) == (
        "z-42",
        "Tina Trainer",
        "tina@zoom.example",
    )
    assert connection.access_token.startswith("test-access-")
    assert connection.access_token not in html
    assert OAuthState.objects.get(pk=state.pk).used_at is not None


def test_connecting_again_replaces_the_account(tina, trainer):
    tina.get(start(tina))
    TestProvider.set_account(remote_account_id="z-2", name="Second", email="second@example.com")
    tina.get(start(tina))

    connection = ProviderConnection.objects.get(user=trainer)
    assert (connection.remote_account_id, connection.name) == ("z-2", "Second")


def test_legacy_callback_path(tina, trainer):
    location = start(tina)
    legacy = location.replace("/auth_callback/test", "/auth_callback.php/test")
    assert reverse("virtualmeeting:auth_callback_legacy", args=["test"]) in legacy

    response = tina.get(legacy)

    assert payload(response)["type"] == "virtualmeeting:connected"
    assert ProviderConnection.objects.filter(user=trainer).exists()


def test_declined_consent(tina, trainer):
    TestProvider.fail_next("authorize", "denied")
    response = tina.get(start(tina))

    data = payload(response)
    assert data["type"] == "virtualmeeting:error"
    assert data["message"] == "You declined access to your Test Meeting account. No account was connected."
    assert "You declined access" in response.content.decode()
    assert not ProviderConnection.objects.exists()


def test_replayed_state(tina, trainer):
    location = start(tina)
    tina.get(location)
    token = ProviderConnection.objects.get(user=trainer).access_token

    response = tina.get(location)

    assert response.status_code == 400
    assert payload(response)["message"].startswith("This sign-in link was already used.")
    assert ProviderConnection.objects.get(user=trainer).access_token == token


def test_another_users_state(client, tina, trainer):
    location = start(tina)
    mallory = make_user("mallory")
    client.force_login(mallory)

    response = client.get(location)

    assert response.status_code == 400
    assert "started by another user" in payload(response)["message"]
    assert not ProviderConnection.objects.exists()


def test_expired_state(tina):
    location = start(tina)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = tina.get(location)
    assert "expired" in payload(response)["message"]
    assert not ProviderConnection.objects.exists()


def test_unknown_state(tina):
    response = tina.get(reverse("virtualmeeting:auth_callback", args=["test"]) + "?code=abc&state=forged")
    assert response.status_code == 400
    assert payload(response)["message"].startswith("This sign-in link is not valid.")
    assert not ProviderConnection.objects.exists()


def test_provider_error(tina):
    TestProvider.fail_next("connect", "connect_error")
    response = tina.get(start(tina))
    assert payload(response) == {
        "type": "virtualmeeting:error",
        "provider": "test",
        "label": "",
        "message": "Test Meeting could not confirm your account. Please try again.",
    }
    assert not ProviderConnection.objects.exists()


def test_wrong_pkce_verifier_is_refused(tina):
    location = start(tina)
    OAuthState.objects.update(code_verifier="not-the-verifier")
    response = tina.get(location)
    assert "did not accept the sign-in" in payload(response)["message"]
    assert not ProviderConnection.objects.exists()


def test_missing_code(tina):
    state = parse_qs(urlsplit(start(tina)).query)["state"][0]
    response = tina.get(reverse("virtualmeeting:auth_callback", args=["test"]) + f"?state={state}")
    assert "did not complete the sign-in" in payload(response)["message"]


def test_connect_needs_login(client):
    response = client.get(reverse("virtualmeeting:connect", args=["test"]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_connect_to_a_disabled_provider(tina):
    ProviderConfig.objects.filter(provider="test").update(enabled=False)
    response = tina.get(reverse("virtualmeeting:connect", args=["test"]))
    assert response.status_code == 404
    assert "not available on this site" in payload(response)["message"]
    assert not OAuthState.objects.exists()


def test_connection_status(client, tina, trainer):
    url = reverse("virtualmeeting:connection_status", args=["test"])
    assert tina.get(url).json() == {"connected": False, "label": "", "status": "", "message": ""}

    TestProvider.set_account(remote_account_id="z-1", name="Tina T", email="tina@example.com")
    tina.get(start(tina))
    assert tina.get(url).json() == {
        "connected": True,
        "label": "Tina T (tina@example.com)",
        "status": "connected",
        "message": "",
        "capacity": None,
    }
    ProviderConfig.objects.filter(provider="test").update(options={"meeting_capacity": 100})
    assert tina.get(url).json()["capacity"] == 100

    from virtualmeeting.services import connection_revoke

    connection_revoke(connection=ProviderConnection.objects.get(user=trainer), message="The app was removed.")
    assert tina.get(url).json() == {
        "connected": False,
        "label": "Tina T (tina@example.com)",
        "status": "revoked",
        "message": "The app was removed.",
        "capacity": None,
    }

    client.logout()
    assert client.get(url).status_code == 401


def test_disconnect(tina, trainer):
    tina.get(start(tina))
    url = reverse("virtualmeeting:disconnect", args=["test"])
    assert tina.get(url).status_code == 405

    response = tina.post(url, {"next": "/courses/1/"})

    assert response.status_code == 302
    assert response["Location"] == "/courses/1/"
    assert not ProviderConnection.objects.filter(user=trainer).exists()
    assert TestProvider.calls("disconnect") == 1


def test_disconnect_ignores_a_foreign_next(tina):
    response = tina.post(reverse("virtualmeeting:disconnect", args=["test"]), {"next": "https://evil.example/"})
    assert response["Location"] == "/"


@pytest.mark.parametrize("next_url", ["0", "profile", "seminars:profile", "../admin/"])
def test_disconnect_with_a_next_that_is_no_path_goes_home(tina, next_url):
    """Found by the fuzz suite: a bare word was taken for a view name (NoReverseMatch, a 500)."""
    response = tina.post(reverse("virtualmeeting:disconnect", args=["test"]), {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_connect_script_checks_origin_and_source():
    from pathlib import Path

    script = (Path(__file__).resolve().parents[1] / "static/virtualmeeting/connect.js").read_text()
    assert "event.origin !== global.location.origin || event.source !== popup" in script
    assert "global.VirtualMeetingConnect = {open: open, text: text}" in script
