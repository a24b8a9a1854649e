"""The Zoom Meeting settings page (the framework's view, this app's template and form)."""

import json
import re

from django.contrib.auth.models import User

from virtualmeeting.models import ProviderConfig
from virtualmeeting_zoom.tests.conftest import CLIENT_SECRET, WEBHOOK_SECRET

URL = "/integrations/virtualmeeting/settings/zoom/"


def valid_post(**overrides):
    data = {
        "client_id": "posted-id",
        "client_secret": "",
        "enabled": "on",
        "redirect_url": "modern",
        "webhook_secret": "",
        "waiting_room": "on",
        "auto_recording": "none",
        "plan": "pro",
        "capacity_basic": "100",
    }
    data.update(overrides)
    return data


def test_only_site_admins(client, zoom_config):
    assert client.get(URL).status_code == 302
    client.force_login(User.objects.create(username="otto"))
    assert client.get(URL).status_code == 403
    assert client.post(URL, valid_post(client_id="hijack")).status_code == 403
    assert ProviderConfig.objects.get(provider="zoom").client_id == zoom_config.client_id


def test_page_shows_the_redirect_url_scopes_and_fields(admin_client, zoom_config, settings):
    settings.SITE_URL = "https://lms.example.com"
    response = admin_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    # Zoom's page is the framework's with Zoom's blocks filled in.
    assert [t.name for t in response.templates][:2] == ["zoom/settings.html", "virtualmeeting/settings.html"]
    assert "virtualmeeting/_field.html" in [t.name for t in response.templates]
    assert (
        '<code id="zoom-redirect-url">https://lms.example.com/integrations/virtualmeeting/auth_callback/zoom</code>'
        in html
    )
    assert 'data-copy-target="zoom-redirect-url"' in html
    assert "https://lms.example.com/integrations/virtualmeeting/auth_callback.php/zoom" in html
    assert "https://lms.example.com/integrations/virtualmeeting/zoom/webhook" in html
    for label in (
        "Client ID",
        "Client secret",
        "Enabled",
        "Webhook secret token",
        "Waiting room",
        "Join before host",
        "Mute participants on entry",
        "Automatic recording",
        "Save changes",
    ):
        assert label in html
    for scope in (
        "user:read:user",
        "meeting:read:list_meetings",
        "meeting:delete:meeting",
        "user:read or user_info:read",
        "meeting:write",
        "meeting:write:batch_registrants",  # optional: personal join links
    ):
        assert f"<code>{scope}</code>" in html
    assert "Optional, for personal join links: register up to 30 people at once" in html
    assert "Check these settings" not in html  # https, credentials and webhook secret set: no warnings


def test_secrets_are_never_echoed(admin_client, zoom_config):
    html = admin_client.get(URL).content.decode()
    assert CLIENT_SECRET not in html and WEBHOOK_SECRET not in html
    assert 'badge badge-ok">set' in html
    # A failed POST with a new secret does not echo it either.
    response = admin_client.post(URL, valid_post(client_secret="brand-new-secret", join_before_host="on"))
    assert response.status_code == 200
    assert "brand-new-secret" not in response.content.decode()
    assert ProviderConfig.objects.get(pk=zoom_config.pk).client_secret == CLIENT_SECRET


def test_warnings_are_shown(admin_client, db, settings):
    settings.SITE_URL, settings.DEBUG = "http://lms.example.com", False
    ProviderConfig.objects.create(provider="zoom")
    html = admin_client.get(URL).content.decode()
    assert "Check these settings" in html
    assert "Zoom requires an https:// Redirect URL" in html
    assert "Client ID and Client secret not set" in html
    assert 'badge badge-warning">not set' in html
    assert 'class="notice notice-warning" role="alert"' in html


def test_save_changes(admin_client, zoom_config):
    response = admin_client.post(URL, valid_post(client_secret="rotated-secret", mute_upon_entry="on", plan="business"))
    assert response.status_code == 302
    config = ProviderConfig.objects.get(pk=zoom_config.pk)
    assert (config.client_id, config.client_secret, config.webhook_secret) == (
        "posted-id",
        "rotated-secret",
        WEBHOOK_SECRET,
    )
    assert config.options["mute_upon_entry"] is True and config.options["plan"] == "business"
    assert "Zoom Meeting settings saved." in admin_client.get(URL).content.decode()


def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(admin_client, db):
    ProviderConfig.objects.create(provider="zoom")
    response = admin_client.post(URL, valid_post(client_id="", capacity_basic="zero"))
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        '<ul class="errorlist" id="id_client_id_errors"><li>Enter the Client ID before enabling Zoom Meeting.' in html
    )
    assert 'id="id_capacity_basic_errors"' in html
    config = ProviderConfig.objects.get(provider="zoom")
    assert not config.enabled and config.options == {}


LEGACY = "https://lms.example.com/integrations/virtualmeeting/auth_callback.php/zoom"
MODERN = "https://lms.example.com/integrations/virtualmeeting/auth_callback/zoom"


def test_admin_chooses_the_redirect_url_the_app_has_registered(admin_client, zoom_config, settings):
    settings.SITE_URL = "https://lms.example.com"
    html = admin_client.get(URL).content.decode()
    assert f'<code id="zoom-redirect-url">{MODERN}</code>' in html
    assert 'name="redirect_url" value="modern"' in html and f"{LEGACY} (an app registered for the previous LMS)" in html

    assert admin_client.post(URL, valid_post(redirect_url="legacy")).status_code == 302
    assert ProviderConfig.objects.get(pk=zoom_config.pk).options["redirect_url"] == "legacy"
    html = admin_client.get(URL).content.decode()
    # The URL to copy (and the one Connect sends) is now the legacy one.
    assert f'<code id="zoom-redirect-url">{LEGACY}</code>' in html
    assert 'data-copy-target="zoom-redirect-url"' in html


def test_an_unknown_redirect_url_choice_is_refused_at_the_field(admin_client, zoom_config):
    response = admin_client.post(URL, valid_post(redirect_url="https://evil.example/cb"))
    assert response.status_code == 200
    assert 'id="id_redirect_url_errors"' in response.content.decode()
    assert "redirect_url" not in ProviderConfig.objects.get(pk=zoom_config.pk).options


def test_page_has_no_inline_script_and_gives_its_words_through_json_script(admin_client, zoom_config):
    html = admin_client.get(URL).content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    inline = [attrs for attrs, body in scripts if "src=" not in attrs and 'type="application/json"' not in attrs]
    assert inline == []
    assert any("virtualmeeting/settings.js" in attrs for attrs, _ in scripts)  # the framework's, every provider's
    texts = re.search(
        r'<script id="virtualmeeting-copy-texts" type="application/json">(.*?)</script>', html, flags=re.S
    )
    assert json.loads(texts.group(1)) == {"copied": "Copied", "copy_by_hand": "Select the URL and copy it by hand"}
    assert "style=" not in html.split("<main", 1)[-1]
