"""The vendor guide's journey in a real browser: "Add event" > "Select room" > "Create" > "OK" > "Save changes"."""

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from seminars.models import Room, SeminarEvent
from seminars.tests.conftest import PASSWORD

# Playwright's sync API keeps an event loop running in the test's thread, which trips
# Django's async guard on the plain synchronous ORM calls of fixtures and asserts
# (including the test database's setup when this module runs first).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(f"{live_server.url}/accounts/login/")


def test_add_event_with_a_new_adhoc_room(page, live_server, editing_trainer, seminar, site_room):
    log_in(page, live_server, editing_trainer)
    page.goto(f"{live_server.url}/seminars/{seminar.pk}/events/add/")
    expect(page.get_by_role("heading", name="Add event")).to_be_visible()

    page.get_by_label("Event name").fill("Browser intake")
    page.get_by_role("button", name="Add session").click()
    session = page.get_by_role("group", name="Session 1")
    session.get_by_label("Start", exact=True).fill("2030-06-10T09:00")
    session.get_by_label("Finish", exact=True).fill("2030-06-10T10:30")
    session.get_by_label("Time zone").fill("Europe/London")
    session.get_by_role("button", name="Select room").click()

    dialog = page.get_by_role("dialog", name="Select room")
    expect(dialog).to_be_visible()
    # "Choose" lists the site rooms free at the session's time.
    expect(dialog.get_by_label("Training room 1 (capacity 20)")).to_be_visible()

    dialog.get_by_role("tab", name="Create").click()
    dialog.get_by_label("Name", exact=True).fill("Online room")
    dialog.get_by_label("Capacity", exact=True).fill("0")
    dialog.get_by_label("Add virtual room link").select_option(label="Custom link")
    dialog.get_by_label("Custom link").fill("not a link")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.get_by_text("Room capacity must be a whole number of at least 1.")).to_be_visible()
    expect(dialog.get_by_text("Enter a valid web address starting with https:// or http://.")).to_be_visible()

    dialog.get_by_label("Capacity", exact=True).fill("25")
    dialog.get_by_label("Custom link").fill("https://meet.example.com/browser")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    expect(session.get_by_text("Online room")).to_be_visible()
    expect(session.get_by_text("new ad-hoc room")).to_be_visible()  # the script's words, from the page's json_script
    expect(session.get_by_role("button", name="Remove room")).to_be_visible()
    assert not Room.objects.filter(name="Online room").exists(), "nothing is saved before Save changes"

    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved Browser intake.")).to_be_visible()

    event = SeminarEvent.objects.get(name="Browser intake")
    saved = event.sessions.get()
    assert saved.start == datetime(2030, 6, 10, 8, 0, tzinfo=ZoneInfo("UTC"))
    assert (saved.room.name, saved.room.capacity, saved.room.event_id) == ("Online room", 25, event.pk)
    assert saved.room.virtual_url == "https://meet.example.com/browser"


def test_choose_a_site_room_and_remove_a_session(page, live_server, editing_trainer, seminar, site_room):
    log_in(page, live_server, editing_trainer)
    page.goto(f"{live_server.url}/seminars/{seminar.pk}/events/add/")
    page.get_by_label("Event name").fill("Two tries")
    page.get_by_role("button", name="Add session").click()
    page.get_by_role("button", name="Add session").click()
    first = page.get_by_role("group", name="Session 1")
    first.get_by_label("Start", exact=True).fill("2030-06-11T14:00")
    first.get_by_label("Finish", exact=True).fill("2030-06-11T15:00")
    first.get_by_label("Time zone").fill("UTC")
    first.get_by_role("button", name="Select room").click()
    dialog = page.get_by_role("dialog", name="Select room")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.get_by_text("Choose a room, or create one in the Create tab.")).to_be_visible()
    dialog.get_by_label("Training room 1 (capacity 20)").check()
    dialog.get_by_role("button", name="OK").click()
    expect(first.get_by_text("Training room 1")).to_be_visible()

    page.get_by_role("group", name="Session 2").get_by_role("button", name="Remove session").click()
    expect(page.get_by_role("group", name="Session 2")).to_have_count(0)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved Two tries.")).to_be_visible()

    session = SeminarEvent.objects.get(name="Two tries").sessions.get()
    assert session.room == site_room


def test_a_provider_room_waits_for_the_connect_hook(page, live_server, editing_trainer, seminar, settings):
    from virtualmeeting.models import ProviderConfig, ProviderConnection

    settings.VIRTUALMEETING = {
        **settings.VIRTUALMEETING,
        "PROVIDERS": ["virtualmeeting.providers.testing.TestProvider"],
    }
    ProviderConfig.objects.create(provider="test", enabled=True)
    log_in(page, live_server, editing_trainer)
    page.goto(f"{live_server.url}/seminars/{seminar.pk}/events/add/")
    page.get_by_label("Event name").fill("Online intake")
    page.get_by_role("button", name="Add session").click()
    session = page.get_by_role("group", name="Session 1")
    session.get_by_label("Start", exact=True).fill("2030-06-12T09:00")
    session.get_by_label("Finish", exact=True).fill("2030-06-12T10:00")
    session.get_by_role("button", name="Select room").click()
    dialog = page.get_by_role("dialog", name="Select room")
    dialog.get_by_role("tab", name="Create").click()
    dialog.get_by_label("Name", exact=True).fill("Meeting room")
    dialog.get_by_label("Capacity", exact=True).fill("40")
    dialog.get_by_label("Add virtual room link").select_option(label="Test Meeting")
    connect = dialog.locator('.virtual-connect[data-provider="test"]')
    expect(connect.get_by_role("button", name="Connect")).to_be_visible()

    dialog.get_by_role("button", name="OK").click()
    expect(dialog.get_by_text("Connect your account before saving this room.")).to_be_visible()

    # The lead's OAuth popup plugs in here; this stand-in marks the account connected.
    page.evaluate(
        """() => { window.seminarsVirtualConnect = (provider, box) => {
               box.dataset.connected = "1"; box.dataset.calledFor = provider; }; }"""
    )
    connect.get_by_role("button", name="Connect").click()
    expect(connect).to_have_attribute("data-called-for", "test")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()

    # The server checks the connection too: none is stored yet, so nothing is saved.
    page.get_by_role("button", name="Save changes").click()
    expect(
        page.get_by_role("group", name="Session 1").get_by_text("Connect your account before saving this room.")
    ).to_be_visible()
    assert not SeminarEvent.objects.filter(name="Online intake").exists()

    ProviderConnection.objects.create(
        user=editing_trainer, provider="test", remote_account_id="u1", access_token="token", refresh_token="refresh"
    )
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved Online intake.")).to_be_visible()
    room = SeminarEvent.objects.get(name="Online intake").sessions.get().room
    assert (room.virtual_kind, room.created_by) == ("test", editing_trainer)
