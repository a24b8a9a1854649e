"""The admin's first steps of the vendor guide in a real browser: open the Zoom Meeting settings page,
copy the Redirect URL for OAuth, enter the Client ID and secret, save."""

import os

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from playwright.sync_api import expect

from virtualmeeting.models import ProviderConfig

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # see seminars/tests/test_event_form_browser.py

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def site_admin(db):
    user = User.objects.create_user("admin", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_site"))
    return user


def test_admin_copies_the_redirect_url_and_saves_the_credentials(page, live_server, site_admin, settings):
    settings.SITE_URL = live_server.url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(live_server.url + reverse("virtualmeeting:settings", args=["zoom"]))
    expect(page.get_by_role("heading", name="Zoom Meeting settings")).to_be_visible()
    redirect_url = f"{live_server.url}/integrations/virtualmeeting/auth_callback/zoom"
    expect(page.get_by_text(redirect_url, exact=True)).to_be_visible()
    expect(page.get_by_text("Client ID and Client secret not set")).to_be_visible()

    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == redirect_url

    # The General App: each trainer connects their own Zoom account (the page offers the site's account beside it).
    general_app = page.get_by_role("group", name="Each trainer connects their own Zoom account")
    general_app.get_by_label("Client ID").fill("browserClientId")
    general_app.get_by_label("Client secret").fill("browser-client-secret")
    page.get_by_label("Enabled").check()
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_text("Zoom Meeting settings saved.")).to_be_visible()
    expect(page.get_by_text("Client ID and Client secret not set")).to_be_hidden()
    expect(general_app.get_by_label("Client secret")).to_have_value("")
    config = ProviderConfig.objects.get(provider="zoom")
    assert (config.client_id, config.client_secret, config.enabled) == (
        "browserClientId",
        "browser-client-secret",
        True,
    )


def test_admin_with_an_app_registered_for_the_old_lms_picks_its_redirect_url(page, live_server, site_admin, settings):
    settings.SITE_URL = live_server.url
    ProviderConfig.objects.create(provider="zoom", client_id="oldAppId", client_secret="old-app-secret", enabled=True)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(live_server.url + reverse("virtualmeeting:settings", args=["zoom"]))
    legacy = f"{live_server.url}/integrations/virtualmeeting/auth_callback.php/zoom"
    expect(
        page.get_by_label(f"{live_server.url}/integrations/virtualmeeting/auth_callback/zoom (recommended)")
    ).to_be_checked()
    page.get_by_label(f"{legacy} (an app registered for the previous LMS)").check()
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_text("Zoom Meeting settings saved.")).to_be_visible()
    expect(page.get_by_text(legacy, exact=True)).to_be_visible()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == legacy
    assert ProviderConfig.objects.get(provider="zoom").options["redirect_url"] == "legacy"
