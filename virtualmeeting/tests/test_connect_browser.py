"""The connect popup in a real browser: connect.js opens it, the callback page tells the opener."""

import os

import pytest
from playwright.sync_api import expect

from virtualmeeting.models import ProviderConnection
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.tests.conftest import make_user

# Playwright's sync API runs an event loop in the test's thread; the ORM calls here are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def opener(page, live_server, settings):
    """A logged-in page of the site with connect.js loaded."""
    settings.SITE_URL = live_server.url
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    user = make_user("tina")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("tina")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(f"{live_server.url}/accounts/login/")
    page.goto(f"{live_server.url}/integrations/virtualmeeting/connection/test")
    page.add_script_tag(url=f"{live_server.url}/static/virtualmeeting/connect.js")
    page.user = user
    return page


OPEN = """() => {
  window.vmResult = null;
  // The page gives the URL (a data attribute rendered with {% url %} in the product's pages).
  VirtualMeetingConnect.open("test", (result) => { window.vmResult = result; },
                             {url: "/integrations/virtualmeeting/connect/test"});
  // A forged message from a window that is not the popup must be ignored.
  window.postMessage({type: "virtualmeeting:connected", provider: "test", label: "Mallory (m@evil.example)"}, "*");
}"""


def test_popup_connects_and_tells_the_opener(opener):
    TestProvider.set_account(remote_account_id="z-7", name="Tina Trainer", email="tina@zoom.example")

    with opener.expect_popup() as popup_info:
        opener.evaluate(OPEN)
    popup = popup_info.value
    opener.wait_for_function("() => window.vmResult !== null")

    assert opener.evaluate("() => window.vmResult") == {
        "ok": True,
        "label": "Tina Trainer (tina@zoom.example)",
        "message": "Connected Test Meeting account Tina Trainer (tina@zoom.example).",
    }
    if not popup.is_closed():
        popup.wait_for_event("close")  # the callback page closes itself
    assert ProviderConnection.objects.get(user=opener.user).name == "Tina Trainer"


def test_popup_reports_a_declined_consent(opener):
    TestProvider.fail_next("authorize", "denied")

    with opener.expect_popup():
        opener.evaluate(OPEN)
    opener.wait_for_function("() => window.vmResult !== null")

    assert opener.evaluate("() => window.vmResult") == {
        "ok": False,
        "label": "",
        "message": "You declined access to your Test Meeting account. No account was connected.",
    }
    assert not ProviderConnection.objects.exists()
