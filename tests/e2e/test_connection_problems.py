"""What goes wrong with a Zoom connection ends in a message the user can act on: a declined consent,
a Zoom user of another account on the site's private app, and a token revoked in Zoom."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    ZOOM_OTHER_ACCOUNT,
    ZOOM_PRO,
    add_event,
    connect_zoom,
    fill_session,
    live_meetings,
    tomorrow_at,
    wait_for,
    zoom_sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_zoom_room_dialog(page, live_server, seminar):
    page.goto(f"{live_server.url}/seminars/{seminar.pk}/events/add/")
    page.get_by_role("button", name="Add session").click()
    session = fill_session(page, 1, tomorrow_at(10), 60, "UTC")
    session.get_by_role("button", name="Select room").click()
    dialog = page.get_by_role("dialog", name="Select room")
    dialog.get_by_role("tab", name="Create").click()
    dialog.get_by_label("Name", exact=True).fill("Zoom room")
    dialog.get_by_label("Capacity", exact=True).fill("10")
    dialog.get_by_label("Add virtual room link").select_option(label="Zoom Meeting")
    return dialog


def test_declining_in_zoom_connects_nothing_and_says_so(browse, live_server, zoom_configured, cast):
    from virtualmeeting.models import ProviderConnection

    trainer = browse(cast.trainer)
    dialog = open_zoom_room_dialog(trainer, live_server, cast.seminar)
    connect_zoom(trainer, dialog, decision="Decline")

    reason = dialog.get_by_text("You declined access to your Zoom account. No account was connected.")
    expect(reason).to_be_visible()
    expect(reason).to_have_class(re.compile(r"\berror\b"))  # shown as a failure, in full
    expect(dialog.get_by_text("The sign-in window was closed")).to_have_count(0)
    assert not ProviderConnection.objects.exists()
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.get_by_text("Connect your account before saving this room.")).to_be_visible()


def test_a_user_of_another_zoom_account_is_refused_by_the_private_app(
    browse, live_server, zoom_configured, cast, screenshot
):
    from virtualmeeting.models import ProviderConnection

    trainer = browse(cast.trainer)
    dialog = open_zoom_room_dialog(trainer, live_server, cast.seminar)
    with trainer.expect_popup() as popup_info:
        dialog.get_by_role("button", name="Connect").click()
    popup = popup_info.value
    zoom_sign_in(popup, email=ZOOM_OTHER_ACCOUNT, decision=None)

    # Zoom's own page says why, in the popup, and never sends the trainer back: when they close it,
    # our dialog says what can stop a sign-in there, not only that the window was closed.
    expect(
        popup.get_by_text("This app has not been published: it can only be authorized by users of the account")
    ).to_be_visible()
    expect(popup.get_by_text(f"Signed in as {ZOOM_OTHER_ACCOUNT}.")).to_be_visible()
    popup.close()
    reason = dialog.locator("[data-connect-account]")
    expect(reason).to_contain_text("The sign-in window was closed before Zoom sent you back. No account was connected.")
    expect(reason).to_contain_text(
        "If Zoom said that the app can only be authorized by users of the account that created it, this site's "
        "Zoom app is private to another Zoom account: sign in to Zoom with a user of that account"
    )
    screenshot(trainer, "connect-refused-by-private-app", full_page=False)
    assert not ProviderConnection.objects.exists()


def test_a_token_revoked_in_zoom_asks_the_owner_to_reconnect(browse, live_server, zoom_configured, worker, cast):
    from seminars.models import SeminarEvent
    from virtualmeeting.models import ProviderConnection, VirtualMeeting

    zoom = zoom_configured
    start = tomorrow_at(11)
    trainer = browse(cast.trainer)
    add_event(trainer, live_server, cast.seminar, name="Revoked", sessions=[(start, 60, "UTC", "Zoom room")])
    [created] = wait_for(lambda: live_meetings(zoom), what="the meeting in the simulator")
    wait_for(lambda: VirtualMeeting.objects.filter(status="available").exists(), what="the meeting to be available")

    zoom.revoke_tokens(ZOOM_PRO)  # the user removed the app, or an admin revoked it, in Zoom
    event = SeminarEvent.objects.get(name="Revoked")
    trainer.goto(f"{live_server.url}/events/{event.pk}/edit/")
    fill_session(trainer, 1, start + timedelta(hours=1), 60, "UTC")
    trainer.get_by_role("button", name="Save changes").click()
    expect(trainer.get_by_text("Saved Revoked.")).to_be_visible()

    wait_for(lambda: VirtualMeeting.objects.filter(status="failed").exists(), what="the update to fail")
    assert ProviderConnection.objects.get(user=cast.trainer).status == "revoked"
    trainer.goto(f"{live_server.url}/rooms/{event.sessions.get().room_id}/")
    problem = trainer.locator("[data-virtual-card]").get_by_role("alert")
    expect(problem).to_contain_text("Edna Editor's Zoom connection no longer works")
    expect(problem).to_contain_text("must connect their Zoom account again (Connect in the room dialog)")

    trainer.get_by_label("Notifications: 2 unread").click()
    trainer.get_by_role("link", name="See all notifications").click()
    notes = trainer.get_by_role("main")
    expect(notes.get_by_role("link", name="Reconnect your meeting account")).to_be_visible()
    expect(notes.get_by_role("link", name="Virtual meeting update failure")).to_be_visible()
    # The meeting in Zoom was left as it was: nothing reached it with the dead token.
    [still] = live_meetings(zoom)
    assert still["start_time"] == created["start_time"]
