"""The Microsoft Teams settings page: the framework's view with this app's template and form."""

from django.contrib.auth.models import User
from django.db import connection as db

from virtualmeeting.models import ProviderConfig
from virtualmeeting_teams.tests.conftest import CLIENT_ID, CLIENT_SECRET, make_connection

URL = "/integrations/virtualmeeting/settings/teams/"


def valid_post(**overrides):
    data = {"enabled": "on", "tenant": "contoso.onmicrosoft.com", "client_id": CLIENT_ID, "client_secret": ""}
    data.update(overrides)
    return data


def test_only_site_admins(client, teams_config):
    assert client.get(URL).status_code == 302
    client.force_login(User.objects.create(username="otto"))
    assert client.get(URL).status_code == 403
    assert client.post(URL, valid_post(client_id="hijack")).status_code == 403
    assert ProviderConfig.objects.get(provider="teams").client_id == CLIENT_ID


def test_the_page_shows_the_redirect_url_with_copy_the_permissions_and_the_fields(admin_client, teams_config, settings):
    settings.SITE_URL = "https://lms.example.com"
    response = admin_client.get(URL)
    html = response.content.decode()

    assert response.status_code == 200
    assert response.templates[0].name == "teams/settings.html"
    assert (
        '<code id="teams-redirect-url">https://lms.example.com/integrations/virtualmeeting/auth_callback/teams</code>'
        in html
    )
    assert 'data-copy-target="teams-redirect-url"' in html and "virtualmeeting/settings.js" in html
    assert "App registrations" in html  # Microsoft's words for where to register it
    for permission in ("OnlineMeetings.ReadWrite", "User.Read", "offline_access", "openid", "profile", "email"):
        assert f"<code>{permission}</code>" in html
    for label in ("Tenant", "Application (client) ID", "Client secret", "Enabled", "Save changes"):
        assert label in html
    assert 'value="contoso.onmicrosoft.com"' in html


def test_the_site_administration_menu_leads_to_the_page(admin_client, teams_config):
    menu = dict(admin_client.get("/").context["admin_menu"])
    assert menu["Plugins > Virtual meetings > Microsoft Teams"] == URL


def test_the_secret_is_never_in_the_page(admin_client, teams_config):
    html = admin_client.get(URL).content.decode()
    assert CLIENT_SECRET not in html
    assert "set" in html  # shown as set / not set, write-only


def test_saving_encrypts_the_secret_and_an_empty_secret_keeps_it(admin_client, teams_config):
    response = admin_client.post(URL, valid_post(client_secret="  new-secret-value  ", tenant=""))
    assert response.status_code == 302

    config = ProviderConfig.objects.get(provider="teams")
    assert config.client_secret == "new-secret-value"
    assert config.options["tenant"] == "common"  # empty: any work or school account
    with db.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM virtualmeeting_providerconfig WHERE provider = 'teams'")
        stored = cursor.fetchone()[0]
    assert "new-secret-value" not in stored and stored  # encrypted at rest

    admin_client.post(URL, valid_post(client_secret=""))
    assert ProviderConfig.objects.get(provider="teams").client_secret == "new-secret-value"


def test_a_tenant_with_spaces_is_refused_beside_the_field(admin_client, teams_config):
    response = admin_client.post(URL, valid_post(tenant="contoso tenant"))
    assert response.status_code == 200
    assert "with no spaces" in response.content.decode()
    assert ProviderConfig.objects.get(provider="teams").options["tenant"] == "contoso.onmicrosoft.com"


def test_health_warnings(admin_client, db, settings, trainer):
    settings.SITE_URL = "http://lms.example.com"
    ProviderConfig.objects.create(provider="teams", enabled=True)
    make_connection(trainer, scopes="openid profile email offline_access User.Read")

    html = admin_client.get(URL).content.decode()

    assert "Application (client) ID and client secret not set" in html
    assert "Microsoft requires an https:// Redirect URL" in html
    assert "The Microsoft grant of Tess Trainer lacks the permission OnlineMeetings.ReadWrite" in html


def test_no_warnings_for_a_complete_setup(admin_client, teams_config, settings, connection):
    settings.SITE_URL = "https://lms.example.com"
    assert "Check these settings" not in admin_client.get(URL).content.decode()
