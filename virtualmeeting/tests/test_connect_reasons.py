"""Why nothing was connected reaches the person: the provider's own reason when it sends them back
with an error, and what can stop a sign-in on the provider's pages when the window is closed there."""

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.urls import reverse

from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.selectors import connect_texts
from virtualmeeting.tests.conftest import make_user


@pytest.fixture
def tina(client, db):
    client.force_login(make_user("tina"))
    return client


def payload(response):
    html = response.content.decode()
    body = html.split('<script id="vm-connect-result" type="application/json">', 1)[1].split("</script>", 1)[0]
    return json.loads(body)


def callback(client, **params):
    location = client.get(reverse("virtualmeeting:connect", args=["test"]))["Location"]
    state = parse_qs(urlsplit(location).query)["state"][0]
    query = urlencode({"state": state, **params})
    return client.get(reverse("virtualmeeting:auth_callback", args=["test"]) + "?" + query)


def test_the_providers_reason_is_passed_on(tina):
    reason = "This app can only be authorized by users of the account that created it"
    response = callback(tina, error="invalid_request", error_description=reason)
    message = payload(response)["message"]
    assert message == f"Test Meeting did not complete the sign-in: {reason}. No account was connected."
    assert reason in response.content.decode()  # also on the page, for a window with no opener


def test_the_reason_is_kept_printable_and_short(tina):
    response = callback(tina, error="server_error", error_description="Bad\r\nthing\x00" + "x" * 1000)
    message = payload(response)["message"]
    assert "\r" not in message and "\n" not in message and "\x00" not in message
    assert len(message) < 400


def test_without_a_reason_the_message_says_try_again(tina):
    message = payload(callback(tina, error="server_error"))["message"]
    assert message == "Test Meeting did not complete the sign-in. No account was connected. Please try again."


def test_the_closed_window_text_names_the_service_and_its_hint(settings, db, monkeypatch):
    monkeypatch.setattr(TestProvider, "closed_window_hint", lambda self: "Maybe the app is private.")
    texts = connect_texts()
    assert texts["closed"]["test"] == (
        "The sign-in window was closed before Test Meeting sent you back. No account was connected. "
        "Maybe the app is private."
    )
    assert texts["waiting"] and texts["blocked"]
