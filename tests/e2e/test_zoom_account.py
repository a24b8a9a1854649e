"""The admin sets up one Zoom account for the whole site (a Server-to-Server OAuth app of the simulator's
account), tests the connection and reads how many users it has; then a wrong secret is named beside its field."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WAIT_MS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACCOUNT_ID = "acctA-zoomsim00000001"


def test_admin_sets_up_the_sites_zoom_account_and_tests_it(browse, screenshot, live_server, zoom, cast):
    from virtualmeeting.models import ProviderConfig

    zoom.add_users(count=3)  # the organisation's hosts: 5 active users with Pat Pro and Bea Basic
    zoom.add_users(users=[{"email": "left@zoomsim.test", "status": "inactive"}])

    admin = browse(cast.admin)
    admin.goto(f"{live_server.url}/integrations/virtualmeeting/settings/zoom/")
    expect(admin.get_by_role("heading", name="Zoom Meeting settings")).to_be_visible()
    expect(admin.get_by_role("group", name="Each trainer connects their own Zoom account")).to_be_visible()
    site_account = admin.get_by_role("group", name="One Zoom account for the whole site")

    admin.get_by_label("One Zoom account for the whole site").check()
    site_account.get_by_label("Account ID").fill(ACCOUNT_ID)
    site_account.get_by_label("Client ID").fill("zoomsim-s2s-client-id")
    site_account.get_by_label("Client secret").fill("zoomsim-s2s-client-secret")
    admin.get_by_role("button", name="Save changes").click()
    expect(admin.get_by_text("Zoom Meeting settings saved.")).to_be_visible()
    expect(admin.get_by_label("One Zoom account for the whole site")).to_be_checked()
    expect(site_account.get_by_label("Client secret")).to_have_value("")

    site_account.get_by_role("button", name="Test connection").click()
    result = site_account.get_by_role("status")
    expect(result).to_have_text("Connected to the Zoom account: 5 active users.", timeout=WAIT_MS)
    screenshot(admin, "zoom-site-account")
    config = ProviderConfig.objects.get(provider="zoom")
    assert (config.hosting, config.account_id, config.account_client_secret) == (
        "account",
        ACCOUNT_ID,
        "zoomsim-s2s-client-secret",
    )
    assert [entry["route"] for entry in zoom.requests()][-2:] == ["oauth.token", "users.list"]

    # A wrong secret: saved, then the test names what is wrong beside the Client secret.
    site_account.get_by_label("Client secret").fill("not-the-secret")
    admin.get_by_role("button", name="Save changes").click()
    expect(admin.get_by_text("Zoom Meeting settings saved.")).to_be_visible()
    site_account.get_by_role("button", name="Test connection").click()
    secret_row = site_account.locator(".form-row").filter(has=admin.get_by_label("Client secret"))
    expect(secret_row.get_by_role("alert")).to_contain_text(
        "Zoom did not accept the Client ID and Client secret of the site's Server-to-Server app: copy both again "
        "from the app's App Credentials page in the Zoom Marketplace."
    )
    account_row = site_account.locator(".form-row").filter(has=admin.get_by_label("Account ID"))
    expect(account_row.get_by_role("alert")).to_have_count(0)
    expect(site_account.get_by_role("status")).to_have_count(0)  # no success left over from before
    screenshot(admin, "zoom-site-account-wrong-secret")
