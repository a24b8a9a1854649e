"""A room larger than the connected Zoom account's meetings is warned about in the warning style
(not grey help text), with words from the server."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import connect_zoom
from tests.e2e.test_connection_problems import open_zoom_room_dialog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_room_larger_than_the_licence_is_a_warning(browse, live_server, zoom_configured, cast, screenshot):
    trainer = browse(cast.trainer)
    dialog = open_zoom_room_dialog(trainer, live_server, cast.seminar)
    connect_zoom(trainer, dialog)
    dialog.get_by_label("Capacity", exact=True).fill("150")

    warning = dialog.get_by_role("status").filter(has_text="Room capacity 150")
    expect(warning).to_have_text(
        "Room capacity 150 is more than the connected account's meeting limit (100). "
        "Lower the capacity or use an account with a larger meeting licence."
    )
    expect(warning).to_have_class(re.compile(r"\bnotice-warning\b"))
    background = warning.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(255, 244, 214)", background  # --c-warn-soft, not the card's white
    screenshot(trainer, "capacity-warning", full_page=False)

    dialog.get_by_label("Capacity", exact=True).fill("100")
    expect(warning).to_be_hidden()
