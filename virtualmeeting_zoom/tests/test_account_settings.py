"""The settings page's two ways to connect Zoom: the Server-to-Server app's fields, the choice new rooms use,
and "Test connection" (with responses; test_account_simulator.py runs it against the simulator)."""

import re
import uuid

import pytest
import requests
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection as db_connection
from django.urls import reverse

from virtualmeeting.models import ProviderConfig
from virtualmeeting_zoom.account import AccountToken, _store, token_key
from virtualmeeting_zoom.tests.conftest import API, CLIENT_ID, CLIENT_SECRET, TOKEN_URL, WEBHOOK_SECRET

URL = "/integrations/virtualmeeting/settings/zoom/"
CHECK_URL = "/integrations/virtualmeeting/settings/zoom/check"
ACCOUNT_ID = "Q4NYNnaSQAuNPy3wi4p3Mw"
S2S_ID = "s2sClientId456"
S2S_SECRET = "s2s-client-secret-value"
GRANULAR_ADMIN = (
    "user:read:list_users:admin user:read:user:admin meeting:write:meeting:admin meeting:read:meeting:admin "
    "meeting:read:list_meetings:admin meeting:update:meeting:admin meeting:delete:meeting:admin"
)
CLASSIC_ADMIN = "meeting:read:admin meeting:write:admin user:read:admin"


@pytest.fixture(autouse=True)
def own_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }


@pytest.fixture
def account_config(zoom_config):
    zoom_config.account_id, zoom_config.account_client_id = ACCOUNT_ID, S2S_ID
    zoom_config.account_client_secret = S2S_SECRET
    zoom_config.save()
    return zoom_config


def post(**overrides):
    data = {
        "hosting": "user",
        "client_id": CLIENT_ID,
        "client_secret": "",
        "account_id": "",
        "account_client_id": "",
        "account_client_secret": "",
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


def field_errors(html: str, name: str) -> list[str]:
    found = re.search(rf'<ul class="errorlist" id="id_{name}_(?:errors|check)"[^>]*>(.*?)</ul>', html, flags=re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1), flags=re.S) if found else []


# --- the page ------------------------------------------------------------------------------------


def test_both_ways_are_offered_side_by_side_and_the_choice_is_stored(admin_client, zoom_config):
    html = admin_client.get(URL).content.decode()
    assert "Each trainer connects their own Zoom account" in html
    assert "One Zoom account for the whole site" in html
    assert 'name="hosting" value="user"' in html and 'name="hosting" value="account"' in html
    assert re.search(r'<input type="radio" name="hosting" value="user"[^>]*checked', html)
    for label in ('for="id_account_id">Account ID', 'for="id_account_client_id">Client ID'):
        assert label in html
    assert 'for="id_account_client_secret">Client secret' in html
    assert "meeting:write:admin" in html and "user:read:list_users:admin" in html  # what the S2S app needs
    assert f'action="{CHECK_URL}"' in html and 'form="zoom-account-check"' in html

    response = admin_client.post(
        URL,
        post(hosting="account", account_id=ACCOUNT_ID, account_client_id=S2S_ID, account_client_secret=S2S_SECRET),
    )
    assert response.status_code == 302
    config = ProviderConfig.objects.get(pk=zoom_config.pk)
    assert (config.hosting, config.account_id, config.account_client_id, config.account_client_secret) == (
        "account",
        ACCOUNT_ID,
        S2S_ID,
        S2S_SECRET,
    )
    # The General App is untouched.
    assert (config.client_id, config.client_secret, config.webhook_secret) == (CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET)
    page = admin_client.get(URL).content.decode()
    assert re.search(r'<input type="radio" name="hosting" value="account"[^>]*checked', page)
    assert "Rooms cannot be hosted in the site&#x27;s Zoom account yet" not in page  # new rooms now are


def test_the_secret_is_encrypted_at_rest_and_never_shown(admin_client, account_config):
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT account_client_secret FROM virtualmeeting_providerconfig WHERE provider = 'zoom'")
        assert S2S_SECRET not in cursor.fetchone()[0]
    html = admin_client.get(URL).content.decode()
    assert S2S_SECRET not in html and f'value="{ACCOUNT_ID}"' in html
    failed = admin_client.post(URL, post(account_id="", account_client_id=S2S_ID, account_client_secret="typed-new"))
    assert failed.status_code == 200 and "typed-new" not in failed.content.decode()


def test_a_post_without_the_choice_keeps_it(admin_client, account_config):
    account_config.hosting = "account"
    account_config.save()
    data = post(account_id=ACCOUNT_ID, account_client_id=S2S_ID)
    del data["hosting"]
    assert admin_client.post(URL, data).status_code == 302
    assert ProviderConfig.objects.get(pk=account_config.pk).hosting == "account"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"hosting": "account"},
            {
                "account_id": "New rooms use the site's Zoom account: enter its Account ID.",
                "account_client_id": "New rooms use the site's Zoom account: enter its Client ID.",
                "account_client_secret": "New rooms use the site's Zoom account: enter its Client secret.",
            },
        ),
        (
            {"account_id": ACCOUNT_ID},
            {
                "account_client_id": "Enter the Client ID too, or clear the Server-to-Server app's Account ID and "
                "Client ID.",
                "account_client_secret": "Enter the Client secret too, or clear the Server-to-Server app's Account "
                "ID and Client ID.",
            },
        ),
        (
            {"account_id": "has spaces", "account_client_id": S2S_ID, "account_client_secret": "x"},
            {"account_id": "Paste the Account ID exactly as the app&#x27;s App Credentials page shows it"},
        ),
        (
            {"account_id": ACCOUNT_ID, "account_client_id": CLIENT_ID, "account_client_secret": "x"},
            {"account_client_id": "This is the General App&#x27;s Client ID"},
        ),
        ({"hosting": "everything"}, {"hosting": "Select a valid choice."}),
    ],
    ids=["account-without-app", "half-an-app", "bad-account-id", "general-apps-client-id", "bad-choice"],
)
def test_bad_input_is_said_next_to_the_field_and_nothing_is_saved(admin_client, zoom_config, fields, errors):
    before = ProviderConfig.objects.filter(pk=zoom_config.pk).values().get()
    response = admin_client.post(URL, post(**fields))
    assert response.status_code == 200
    html = response.content.decode()
    for name, text in errors.items():
        shown = field_errors(html, name)
        assert any(text.replace("'", "&#x27;") in error for error in shown), (name, shown)
    after = ProviderConfig.objects.filter(pk=zoom_config.pk).values().get()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def test_clearing_both_ids_removes_the_app_and_its_secret(admin_client, account_config):
    assert admin_client.post(URL, post()).status_code == 302
    config = ProviderConfig.objects.get(pk=account_config.pk)
    assert (config.account_id, config.account_client_id, config.account_client_secret) == ("", "", "")


def test_a_new_secret_drops_the_shared_token_once_committed(
    admin_client, account_config, django_capture_on_commit_callbacks
):
    key = token_key(account_config)
    _store(key, AccountToken("old-token", 9_999_999_999, GRANULAR_ADMIN))
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(URL, post(account_id=ACCOUNT_ID, account_client_id=S2S_ID)).status_code == 302
    assert cache.get(key) is not None  # nothing changed: the token stays
    data = post(account_id=ACCOUNT_ID, account_client_id=S2S_ID, account_client_secret="rotated-secret")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert admin_client.post(URL, data).status_code == 302
    assert cache.get(key) is not None  # not before the commit
    for callback in callbacks:
        callback()
    assert cache.get(key) is None
    assert ProviderConfig.objects.get(pk=account_config.pk).account_client_secret == "rotated-secret"


# --- who may --------------------------------------------------------------------------------------

ROLES = ["anonymous", "outsider", "learner", "trainer", "site_admin"]


@pytest.fixture
def cast(db, site_admin):
    from seminars.models import Course, Enrolment

    course = Course.objects.create(name="Safety", short_name="S")
    people = {"site_admin": site_admin}
    for role in ("outsider", "learner", "trainer"):
        people[role] = User.objects.create(username=role)
    Enrolment.objects.create(user=people["learner"], course=course, role=Enrolment.Role.LEARNER)
    Enrolment.objects.create(user=people["trainer"], course=course, role=Enrolment.Role.EDITING_TRAINER)
    return people


@pytest.mark.parametrize("role", ROLES)
def test_only_site_admins_reach_the_settings_and_the_check(client, cast, account_config, role, mocked):
    if role == "site_admin":  # only the admin's check asks Zoom; for anyone else a call would fail the test
        mocked.post(TOKEN_URL, json={"access_token": "t", "expires_in": 3599, "scope": GRANULAR_ADMIN})
        mocked.get(f"{API}/users", json={"total_records": 2, "users": []})
    if role != "anonymous":
        client.force_login(cast[role])
    page = client.get(URL)
    checked = client.post(CHECK_URL)
    saved = client.post(
        URL, post(hosting="account", account_id="HIJACK", account_client_id="hijack", account_client_secret="x")
    )
    if role == "site_admin":
        assert (page.status_code, checked.status_code, saved.status_code) == (200, 302, 302)
        return
    for response in (page, checked, saved):
        if role == "anonymous":
            assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        else:
            assert response.status_code == 403
    assert len(mocked.calls) == 0  # nobody but an admin makes the site ask Zoom
    assert ProviderConfig.objects.get(pk=account_config.pk).account_id == ACCOUNT_ID


def test_the_check_is_post_only_and_for_known_providers(admin_client, account_config):
    assert admin_client.get(CHECK_URL).status_code == 405
    assert admin_client.post("/integrations/virtualmeeting/settings/nope/check").status_code == 404


# --- Test connection ---------------------------------------------------------------------------------


def check(admin_client) -> str:
    response = admin_client.post(CHECK_URL)
    assert response.status_code == 302 and response["Location"] == URL
    return admin_client.get(URL).content.decode()


def result_box(html: str) -> str:
    found = re.search(r'<div class="(notice-\w+)" role="status" id="zoom-account-check-result">(.*?)</div>', html, re.S)
    return f"{found.group(1)}: {found.group(2)}" if found else ""


@pytest.mark.parametrize("scopes", [GRANULAR_ADMIN, CLASSIC_ADMIN])
def test_success_says_how_many_active_users_the_account_has(admin_client, account_config, mocked, scopes):
    mocked.post(TOKEN_URL, json={"access_token": "t-1", "token_type": "bearer", "expires_in": 3599, "scope": scopes})
    users = mocked.get(f"{API}/users", json={"page_size": 30, "total_records": 42, "next_page_token": "n", "users": []})
    html = check(admin_client)
    assert result_box(html) == "notice-info: Connected to the Zoom account: 42 active users."
    assert users.calls[0].request.params == {"status": "active", "page_size": "30"}
    assert users.calls[0].request.headers["Authorization"] == "Bearer t-1"
    # Shown once: a reload does not repeat an old result.
    assert result_box(admin_client.get(URL).content.decode()) == ""
    # The token the check fetched is the one the workers share now.
    assert cache.get(token_key(account_config)) is not None


def test_one_active_user_is_singular(admin_client, account_config, mocked):
    mocked.post(TOKEN_URL, json={"access_token": "t-1", "expires_in": 3599, "scope": GRANULAR_ADMIN})
    mocked.get(f"{API}/users", json={"total_records": 1, "users": [{"id": "u"}]})
    assert result_box(check(admin_client)) == "notice-info: Connected to the Zoom account: 1 active user."


def test_the_check_asks_for_a_new_token_even_when_one_is_shared(admin_client, account_config, mocked):
    _store(token_key(account_config), AccountToken("still-working", 9_999_999_999, GRANULAR_ADMIN))
    refused = mocked.post(
        TOKEN_URL, status=400, json={"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
    )
    html = check(admin_client)
    assert refused.call_count == 1
    assert field_errors(html, "account_client_secret") == [
        "Zoom did not accept the Client ID and Client secret of the site&#x27;s Server-to-Server app: copy both "
        "again from the app&#x27;s App Credentials page in the Zoom Marketplace."
    ]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"reason": "Invalid account_id", "error": "invalid_request"}, "account_id", "did not accept the Account ID"),
        (
            {"reason": "Invalid client_id or client_secret", "error": "invalid_client"},
            "account_client_secret",
            "did not accept the Client ID and Client secret",
        ),
        (
            {"reason": "Unsupported grant type", "error": "unsupported_grant_type"},
            "account_client_id",
            "is not a Server-to-Server OAuth app",
        ),
    ],
    ids=["bad-account-id", "bad-secret", "general-apps-credentials"],
)
def test_a_refused_grant_is_said_next_to_the_field_to_fix(admin_client, account_config, mocked, body, field, words):
    mocked.post(TOKEN_URL, status=400, json=body)
    html = check(admin_client)
    assert any(words in error for error in field_errors(html, field)), field_errors(html, field)
    assert result_box(html) == ""


def test_missing_admin_scopes_are_named(admin_client, account_config, mocked):
    mocked.post(
        TOKEN_URL,
        json={
            "access_token": "t",
            "expires_in": 3599,
            "scope": "meeting:read:meeting:admin meeting:write:meeting:admin",
        },
    )
    assert result_box(check(admin_client)) == (
        "notice-danger: Zoom accepted the app, but it lacks the scopes user:read:list_users:admin, "
        "user:read:user:admin, meeting:read:list_meetings:admin, meeting:update:meeting:admin, "
        "meeting:delete:meeting:admin: add them on the app&#x27;s Scopes page in the Zoom Marketplace, then test again."
    )


def test_a_classic_app_missing_one_scope_is_told_that_one(admin_client, account_config, mocked):
    mocked.post(
        TOKEN_URL, json={"access_token": "t", "expires_in": 3599, "scope": "meeting:read:admin meeting:write:admin"}
    )
    assert "lacks the scope user:read:admin: add it" in result_box(check(admin_client))


def test_zoom_naming_a_missing_scope_on_the_users_call_is_passed_on(admin_client, account_config, mocked):
    mocked.post(TOKEN_URL, json={"access_token": "t", "expires_in": 3599, "scope": GRANULAR_ADMIN})
    mocked.get(
        f"{API}/users",
        status=400,
        json={"code": 4711, "message": "Invalid access token, does not contain scopes:[user:read:list_users:admin]."},
    )
    assert "lacks the scope user:read:list_users:admin" in result_box(check(admin_client))


def test_zoom_unreachable_is_said_plainly(admin_client, account_config, mocked):
    mocked.post(TOKEN_URL, body=requests.ConnectionError("no route"))
    assert "notice-danger: Zoom could not be reached: check that this server can open https connections" in result_box(
        check(admin_client)
    )


def test_nothing_set_up_points_at_the_first_missing_field(admin_client, zoom_config, mocked):
    html = check(admin_client)
    assert "The site&#x27;s Zoom account is not set up" in field_errors(html, "account_id")[0]
    assert len(mocked.calls) == 0


def test_the_secret_never_reaches_the_page_or_the_session(admin_client, account_config, mocked):
    mocked.post(TOKEN_URL, status=401, json={"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
    html = check(admin_client)
    assert S2S_SECRET not in html
    assert S2S_SECRET not in str(dict(admin_client.session))


def test_the_django_admin_shows_the_site_account_but_never_its_secret(client, account_config):
    client.force_login(User.objects.create(username="root", is_staff=True, is_superuser=True))
    pages = [
        client.get(reverse("admin:virtualmeeting_providerconfig_changelist")),
        client.get(reverse("admin:virtualmeeting_providerconfig_change", args=[account_config.pk])),
    ]
    assert [page.status_code for page in pages] == [200, 200]
    assert ACCOUNT_ID in pages[0].content.decode() and S2S_ID in pages[0].content.decode()
    assert 'name="account_id"' in pages[1].content.decode()
    assert all(S2S_SECRET not in page.content.decode() for page in pages)
    assert 'name="account_client_secret"' not in pages[1].content.decode()


# --- a site with the Server-to-Server app only ---------------------------------------------------


def test_a_site_with_only_the_site_account_enables_zoom_and_offers_it_for_rooms(admin_client, db):
    """An organisation running Zoom centrally registers no General App: Zoom is enabled with the site's account
    alone, offered in the room dialog with no connection to make, and trainers are not sent to connect."""
    from seminars.meetings import virtual_link_options
    from virtualmeeting.registry import enabled_providers
    from virtualmeeting_zoom.provider import ZoomProvider

    data = post(
        hosting="account",
        client_id="",
        account_id=ACCOUNT_ID,
        account_client_id=S2S_ID,
        account_client_secret=S2S_SECRET,
    )
    assert admin_client.post(URL, data).status_code == 302
    config = ProviderConfig.objects.get(provider="zoom")
    assert (config.enabled, config.hosting, config.client_id, config.client_secret) == (True, "account", "", "")
    assert [provider.id for provider in enabled_providers()] == ["zoom"]
    [zoom] = [option for option in virtual_link_options() if option["value"] == "zoom"]
    assert (zoom["hosting"], zoom["needs_connection"]) == ("account", False)
    provider = ZoomProvider(config)
    with pytest.raises(Exception, match="not set up"):  # nobody can connect their own account: no General App
        provider.authorization_url(redirect_uri="https://lms.example.com/cb", state="s", code_challenge="c")


def test_without_the_general_app_new_rooms_cannot_use_trainers_own_accounts(admin_client, db):
    data = post(client_id="", account_id=ACCOUNT_ID, account_client_id=S2S_ID, account_client_secret=S2S_SECRET)
    response = admin_client.post(URL, data)
    assert response.status_code == 200
    assert field_errors(response.content.decode(), "client_id") == ["Enter the Client ID before enabling Zoom Meeting."]
    assert not ProviderConfig.objects.filter(provider="zoom", enabled=True).exists()


def test_the_site_account_alone_offers_zoom_only_while_new_rooms_use_it(db):
    from virtualmeeting.registry import enabled_providers

    config = ProviderConfig.objects.create(
        provider="zoom",
        enabled=True,
        hosting="user",
        account_id=ACCOUNT_ID,
        account_client_id=S2S_ID,
        account_client_secret=S2S_SECRET,
    )
    assert enabled_providers() == []
    config.hosting = "account"
    config.save()
    assert [provider.id for provider in enabled_providers()] == ["zoom"]
