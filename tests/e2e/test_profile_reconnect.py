"""The profile offers "Reconnect" next to "Disconnect": the same Zoom sign-in popup as the room dialog,
and the page shows the account connected again."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ZOOM_OTHER_ACCOUNT, ZOOM_PRO, zoom_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def revoked_connection(user):
    from virtualmeeting.models import ProviderConnection
    from virtualmeeting.providers.base import ConnectedAccount
    from virtualmeeting.services import connection_save

    account = ConnectedAccount(
        remote_account_id="gone",
        name="Pat Pro",
        email=ZOOM_PRO,
        access_token="old",
        refresh_token="old",
        expires_at=None,
        scopes="",
    )
    connection = connection_save(user=user, provider="zoom", account=account)
    ProviderConnection.objects.filter(pk=connection.pk).update(
        status=ProviderConnection.Status.REVOKED, status_message="The Zoom app was removed from your account."
    )


def test_reconnect_on_the_profile(browse, live_server, zoom_configured, cast, screenshot):
    from virtualmeeting.models import ProviderConnection

    revoked_connection(cast.trainer)
    trainer = browse(cast.trainer)
    trainer.goto(f"{live_server.url}/profile/")
    row = trainer.get_by_role("row").filter(has_text="Pat Pro")
    expect(row.get_by_text("Reconnect needed")).to_be_visible()
    expect(row.get_by_role("button", name="Disconnect")).to_be_visible()
    screenshot(trainer, "profile-reconnect")

    with trainer.expect_popup() as popup_info:
        row.get_by_role("button", name="Reconnect").click()
    zoom_sign_in(popup_info.value)

    expect(row.get_by_text("Connected", exact=True)).to_be_visible()
    expect(row.get_by_text("Reconnect needed")).to_have_count(0)
    assert ProviderConnection.objects.get(user=cast.trainer).status == ProviderConnection.Status.CONNECTED


def test_a_refused_reconnect_says_why_on_the_profile(browse, live_server, zoom_configured, cast):
    revoked_connection(cast.trainer)
    trainer = browse(cast.trainer)
    trainer.goto(f"{live_server.url}/profile/")
    row = trainer.get_by_role("row").filter(has_text="Pat Pro")
    with trainer.expect_popup() as popup_info:
        row.get_by_role("button", name="Reconnect").click()
    popup = popup_info.value
    zoom_sign_in(popup, email=ZOOM_OTHER_ACCOUNT, decision=None)
    expect(popup.get_by_text("This app has not been published")).to_be_visible()
    popup.close()
    expect(row.get_by_role("status")).to_contain_text("this site's Zoom app is private to another Zoom account")
    expect(row.get_by_text("Reconnect needed")).to_be_visible()
