"""Every word a person reads from the Teams provider goes through the translation functions."""

from pathlib import Path

from django.utils import translation

from lms.testing.i18n_scan import untranslated_in_dirs
from lms.testing.translations import use_catalog
from virtualmeeting_teams.client import GraphClient
from virtualmeeting_teams.tests.conftest import make_connection

BASE_DIR = Path(__file__).resolve().parents[2]


def test_no_template_shows_untranslated_text():
    assert untranslated_in_dirs([BASE_DIR / "virtualmeeting_teams/templates"], root=BASE_DIR) == []


def test_the_settings_page_is_translated(admin_client, teams_config, settings, tmp_path):
    use_catalog(settings, tmp_path, "de", {"Delegated permissions to grant": "Zu erteilende delegierte Berechtigungen"})
    with translation.override("de"):
        html = admin_client.get("/integrations/virtualmeeting/settings/teams/", HTTP_ACCEPT_LANGUAGE="de").content
    assert "Zu erteilende delegierte Berechtigungen" in html.decode()


def test_an_error_is_read_in_the_language_of_the_worker(teams_config, trainer, settings, tmp_path):
    text = "The meeting no longer exists in Microsoft Teams."
    use_catalog(settings, tmp_path, "de", {text: "Die Besprechung gibt es in Microsoft Teams nicht mehr."})

    class Answer:
        status_code = 404
        headers = {}

        def json(self):
            return {"error": {"code": "NotFound"}}

    client = GraphClient(provider=None, connection=make_connection(trainer))
    with translation.override("de"):
        error = client.error_for(Answer())
    assert error.message == "Die Besprechung gibt es in Microsoft Teams nicht mehr."
