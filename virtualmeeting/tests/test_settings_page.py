"""The provider settings pages: site admins only, secrets write-only."""

import pytest
from django.urls import reverse

from virtualmeeting.models import ProviderConfig
from virtualmeeting.tests.conftest import make_user

URL = "/integrations/virtualmeeting/settings/test/"


def test_urls():
    assert reverse("virtualmeeting:settings", args=["test"]) == URL
    assert reverse("virtualmeeting:settings_index") == "/integrations/virtualmeeting/settings/"


@pytest.mark.parametrize("url", [URL, "/integrations/virtualmeeting/settings/"])
def test_only_site_admins(client, outsider, url):
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    assert client.post(url, {"enabled": "on", "client_id": "x"}).status_code == 403
    assert ProviderConfig.objects.get(provider="test").client_id == ""


def test_superuser_may_too(client):
    client.force_login(make_user("root", is_superuser=True))
    assert client.get(URL).status_code == 200


def test_unknown_provider_is_404(client, site_admin):
    client.force_login(site_admin)
    assert client.get("/integrations/virtualmeeting/settings/nope/").status_code == 404


def test_page_shows_form_warnings_and_provider_context(client, site_admin):
    client.force_login(site_admin)
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    # The provider's own template (test/settings.html) wins over the generic one it extends.
    assert [t.name for t in response.templates][:2] == ["test/settings.html", "virtualmeeting/settings.html"]
    assert "Meetings of this provider exist only in this site&#x27;s cache." in html  # settings_context()
    assert "Test Meeting settings" in html
    assert "No client secret is set" in html  # health_warnings()
    assert 'badge badge-warning">not set' in html
    assert "Save changes" in html


def test_save_settings_with_a_write_only_secret(client, site_admin):
    client.force_login(site_admin)
    response = client.post(
        URL, {"enabled": "on", "client_id": "client-1", "client_secret": "s3cret-value", "meeting_capacity": "300"}
    )
    assert response.status_code == 302

    config = ProviderConfig.objects.get(provider="test")
    assert (config.enabled, config.client_id, config.client_secret) == (True, "client-1", "s3cret-value")
    assert config.options == {"meeting_capacity": 300}

    html = client.get(URL).content.decode()
    assert "s3cret-value" not in html
    assert '<span class="badge badge-ok">set</span>' in html
    assert 'value="client-1"' in html
    assert "No client secret is set" not in html

    # Submitted empty, the secret stays as it was.
    client.post(URL, {"enabled": "", "client_id": "client-2", "client_secret": "", "meeting_capacity": ""})
    config.refresh_from_db()
    assert (config.enabled, config.client_id, config.client_secret) == (False, "client-2", "s3cret-value")


def test_invalid_input_is_shown_and_nothing_saved(client, site_admin):
    client.force_login(site_admin)
    response = client.post(
        URL, {"enabled": "on", "client_id": "changed", "client_secret": "new-secret", "meeting_capacity": "0"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "errorlist" in html
    assert "new-secret" not in html
    config = ProviderConfig.objects.get(provider="test")
    assert (config.client_id, config.client_secret) == ("", "")


def test_index_lists_providers(client, site_admin):
    client.force_login(site_admin)
    html = client.get("/integrations/virtualmeeting/settings/").content.decode()
    assert f'href="{URL}"' in html
    assert "Test Meeting" in html
    assert "Enabled" in html


def test_secrets_posted_to_the_settings_page_are_hidden_from_error_reports(client, site_admin):
    from django.views.debug import SafeExceptionReporterFilter

    client.force_login(site_admin)
    response = client.post(URL, {"enabled": "on", "client_id": "client-1", "client_secret": "s3cret-value"})

    reported = SafeExceptionReporterFilter().get_post_parameters(response.wsgi_request)
    assert reported["client_id"] == "client-1"
    assert reported["client_secret"] != "s3cret-value"
    assert "s3cret-value" not in str(reported)
