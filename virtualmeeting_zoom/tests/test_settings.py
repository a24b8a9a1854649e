"""Site configuration: is_configured, health warnings, settings context, capacity, and the settings form."""

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from lms.testing.translations import use_catalog
from virtualmeeting.models import ProviderConfig
from virtualmeeting.registry import enabled_providers, get_provider
from virtualmeeting_zoom.forms import ZoomSettingsForm
from virtualmeeting_zoom.options import zoom_options
from virtualmeeting_zoom.provider import ZoomProvider
from virtualmeeting_zoom.tests.conftest import CLASSIC, CLIENT_SECRET, WEBHOOK_SECRET, make_connection


def form_data(**overrides):
    data = {
        "client_id": "newID",
        "client_secret": "",
        "enabled": "on",
        "webhook_secret": "",
        "waiting_room": "on",
        "auto_recording": "none",
        "plan": "pro",
        "capacity_basic": "100",
        "redirect_url": "modern",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_declarations():
    assert (ZoomProvider.id, ZoomProvider.name, ZoomProvider.needs_connection) == ("zoom", "Zoom Meeting", True)
    assert ZoomProvider.settings_form_class is ZoomSettingsForm


def test_registered_and_enabled(zoom_config):
    assert isinstance(get_provider("zoom"), ZoomProvider)
    assert [provider.id for provider in enabled_providers()] == ["zoom"]


def test_is_configured_needs_id_and_secret(db):
    config = ProviderConfig.objects.create(provider="zoom", enabled=True, client_id="id")
    assert not ZoomProvider(config).is_configured()
    config.client_secret = "secret"
    assert ZoomProvider(config).is_configured()


def test_no_warnings_when_all_is_well(provider, settings):
    settings.SITE_URL = "https://lms.example.com"
    assert provider.health_warnings() == []


@pytest.mark.parametrize(
    ("site_url", "debug", "warned"),
    [
        ("http://lms.example.com", False, True),
        ("http://lms.example.com", True, True),
        ("http://localhost:8000", True, False),
        ("http://127.0.0.1:8000", True, False),
        ("http://localhost:8000", False, True),
        ("https://lms.example.com", False, False),
    ],
)
def test_site_url_must_be_https(provider, settings, site_url, debug, warned):
    settings.SITE_URL, settings.DEBUG = site_url, debug
    warnings = [w for w in provider.health_warnings() if "SITE_URL" in w]
    assert bool(warnings) is warned


def test_a_site_account_alone_needs_no_general_app(db, settings):
    settings.SITE_URL = "https://lms.example.com"
    config = ProviderConfig.objects.create(
        provider="zoom",
        webhook_secret="x",
        hosting="account",
        account_id="acct",
        account_client_id="s2s",
        account_client_secret="s2s-secret",
    )
    assert ZoomProvider(config).health_warnings() == []
    config.hosting = "user"  # trainers' own accounts need the General App again
    assert ZoomProvider(config).health_warnings()[0].startswith("Client ID and Client secret not set")


def test_missing_credentials_are_named(db, settings):
    settings.SITE_URL = "https://lms.example.com"
    config = ProviderConfig.objects.create(provider="zoom", webhook_secret="x")
    assert ZoomProvider(config).health_warnings() == [
        "Client ID and Client secret not set: copy them from the app's App Credentials in the Zoom Marketplace. "
        "Trainers cannot connect to Zoom until then."
    ]


@pytest.mark.parametrize("missing", ["client_id", "client_secret"])
def test_one_missing_credential_is_named_alone(db, settings, missing):
    settings.SITE_URL = "https://lms.example.com"
    values = {"client_id": "abc", "client_secret": "xyz", missing: ""}
    config = ProviderConfig.objects.create(provider="zoom", webhook_secret="x", **values)
    label = {"client_id": "Client ID", "client_secret": "Client secret"}[missing]
    assert ZoomProvider(config).health_warnings() == [
        f"{label} not set: copy it from the app's App Credentials in the Zoom Marketplace. "
        "Trainers cannot connect to Zoom until then."
    ]


def test_missing_webhook_secret_is_mentioned(provider, settings):
    settings.SITE_URL = "https://lms.example.com"
    provider.config.webhook_secret = ""
    assert any("webhook secret token" in w for w in provider.health_warnings())


def test_missing_scopes_of_connected_trainers_are_named(provider, settings, trainer):
    settings.SITE_URL = "https://lms.example.com"
    make_connection(trainer, scopes="user:read:user meeting:write:meeting meeting:read:meeting")
    other = User.objects.create(username="ann", first_name="Ann", last_name="Other")
    make_connection(other, scopes=CLASSIC)  # complete classic grant: fine
    warnings = provider.health_warnings()
    assert len(warnings) == 1
    assert "Tom Trainer" in warnings[0]
    assert "meeting:read:list_meetings, meeting:update:meeting, meeting:delete:meeting" in warnings[0]
    assert "Ann" not in warnings[0]


def test_settings_context(provider, settings):
    settings.SITE_URL = "https://lms.example.com"
    context = provider.settings_context(request=None)
    # The Redirect URL the framework's page shows (with Copy) is the one the app has registered.
    assert provider.redirect_uri() == "https://lms.example.com/integrations/virtualmeeting/auth_callback/zoom"
    provider.config.options = {"redirect_url": "legacy"}
    assert provider.redirect_uri() == "https://lms.example.com/integrations/virtualmeeting/auth_callback.php/zoom"
    assert context["webhook_url"] == "https://lms.example.com/integrations/virtualmeeting/zoom/webhook"
    assert [scope for scope, _ in context["granular_scopes"]] == [
        "user:read:user",
        "meeting:write:meeting",
        "meeting:read:meeting",
        "meeting:read:list_meetings",
        "meeting:update:meeting",
        "meeting:delete:meeting",
        "meeting:read:list_past_participants",  # optional: attendance
        "cloud_recording:read:list_recording_files",  # optional: recordings
        "meeting:write:registrant",  # optional: personal join links
        "meeting:write:batch_registrants",
        "meeting:read:list_registrants",
        "meeting:update:registrant_status",
    ]
    purposes = dict(context["granular_scopes"])
    assert all("personal join links" in str(purposes[scope]) for scope in list(purposes)[-4:])
    assert [scope for scope, _ in context["classic_scopes"]] == [
        "user:read or user_info:read",
        "meeting:write",
        "meeting:read",
        "recording:read",  # optional: recordings (meeting:read covers attendance)
    ]
    # meeting:write and meeting:read are needed anyway; they also cover registrants, and say so.
    classic = dict(context["classic_scopes"])
    assert "personal join links" in str(classic["meeting:write"]) and "personal join links" in str(
        classic["meeting:read"]
    )
    assert context["meeting_defaults"]["waiting_room"] is True
    assert CLIENT_SECRET not in repr(context) and WEBHOOK_SECRET not in repr(context)


def test_default_options_are_pro():
    config = ProviderConfig(provider="zoom")
    options = zoom_options(config)
    assert (options["create_per_second"], options["light_per_second"]) == (20, 30)
    assert (options["waiting_room"], options["join_before_host"], options["auto_recording"]) == (True, False, "none")
    assert (options["capacity_basic"], options["capacity_licensed"]) == (100, 100)


def test_business_plan_numbers():
    options = zoom_options(ProviderConfig(provider="zoom", options={"plan": "business"}))
    assert (options["create_per_second"], options["light_per_second"], options["capacity_licensed"]) == (60, 80, 300)


@pytest.mark.parametrize(("licence", "capacity"), [(1, 100), (2, 100), (3, 100), (99, None), (None, None)])
def test_meeting_capacity_by_licence(provider, trainer, licence, capacity):
    connection = make_connection(trainer, extra={"type": licence, "account_id": "a"})
    assert provider.meeting_capacity(connection) == capacity


def test_meeting_capacity_on_business(provider, trainer):
    provider.config.options = {"plan": "business"}
    assert provider.meeting_capacity(make_connection(trainer)) == 300


# --- the form ----------------------------------------------------------------------


def test_form_saves_and_keeps_secrets_when_left_blank(zoom_config):
    form = ZoomSettingsForm(data=form_data(), config=zoom_config)
    assert form.is_valid(), form.errors
    form.save()
    config = ProviderConfig.objects.get(pk=zoom_config.pk)
    assert config.client_id == "newID"
    assert config.client_secret == CLIENT_SECRET
    assert config.webhook_secret == WEBHOOK_SECRET
    assert config.options["waiting_room"] is True


def test_form_replaces_secrets(zoom_config):
    form = ZoomSettingsForm(data=form_data(client_secret="new-secret", webhook_secret="new-hook"), config=zoom_config)
    assert form.is_valid(), form.errors
    form.save()
    config = ProviderConfig.objects.get(pk=zoom_config.pk)
    assert (config.client_secret, config.webhook_secret) == ("new-secret", "new-hook")


def test_form_never_renders_a_secret(zoom_config):
    html = ZoomSettingsForm(config=zoom_config).as_p()
    assert CLIENT_SECRET not in html and WEBHOOK_SECRET not in html
    assert "Set. Leave blank to keep it" in html


def test_enabling_without_credentials_is_refused_and_nothing_saved(db):
    config = ProviderConfig.objects.create(provider="zoom")
    form = ZoomSettingsForm(data=form_data(client_id=""), config=config)
    assert not form.is_valid()
    assert form.errors["client_id"] == ["Enter the Client ID before enabling Zoom Meeting."]
    assert form.errors["client_secret"] == ["Enter the Client secret before enabling Zoom Meeting."]
    assert not ProviderConfig.objects.get(pk=config.pk).enabled


def test_waiting_room_and_join_before_host_conflict(zoom_config):
    form = ZoomSettingsForm(data=form_data(join_before_host="on"), config=zoom_config)
    assert not form.is_valid()
    assert "join_before_host" in form.errors


def test_meeting_options_and_limits_are_stored(zoom_config):
    data = form_data(
        waiting_room=None,
        join_before_host="on",
        mute_upon_entry="on",
        auto_recording="cloud",
        plan="business",
        light_per_second="50",
        capacity_licensed="500",
    )
    form = ZoomSettingsForm(data=data, config=zoom_config)
    assert form.is_valid(), form.errors
    form.save()
    options = zoom_options(ProviderConfig.objects.get(pk=zoom_config.pk))
    assert (options["waiting_room"], options["join_before_host"], options["mute_upon_entry"]) == (False, True, True)
    assert options["auto_recording"] == "cloud"
    assert (options["create_per_second"], options["light_per_second"], options["capacity_licensed"]) == (60, 50, 500)


@pytest.mark.parametrize(
    ("field", "value"),
    [("auto_recording", "tape"), ("plan", "gold"), ("light_per_second", "0"), ("capacity_basic", "-1")],
)
def test_bad_values_are_refused_next_to_the_field(zoom_config, field, value):
    form = ZoomSettingsForm(data=form_data(**{field: value}), config=zoom_config)
    assert not form.is_valid()
    assert field in form.errors


def test_missing_scopes_name_five_trainers_and_count_the_rest(provider, settings):
    settings.SITE_URL = "https://lms.example.com"
    for number in range(1, 8):
        person = User.objects.create(username=f"t{number}", first_name="Trainer", last_name=str(number))
        make_connection(person, remote_account_id=f"zoom-{number}", scopes=CLASSIC.replace(" meeting:read", ""))

    assert provider.health_warnings() == [
        "The Zoom grant of Trainer 1, Trainer 2, Trainer 3, Trainer 4, Trainer 5 and 2 more lacks the scope "
        "meeting:read: add it to the app in the Zoom Marketplace, then ask these trainers to connect again."
    ]


def test_missing_scopes_of_one_trainer_ask_that_trainer(provider, settings, trainer):
    settings.SITE_URL = "https://lms.example.com"
    make_connection(trainer, scopes="meeting:write")

    assert provider.health_warnings() == [
        "The Zoom grant of Tom Trainer lacks the scopes user:read or user_info:read, meeting:read: add them to the "
        "app in the Zoom Marketplace, then ask this trainer to connect again."
    ]


def test_the_count_of_trainers_not_named_is_translated_with_its_plural_forms(provider, settings, tmp_path):
    settings.SITE_URL = "https://lms.example.com"
    use_catalog(
        settings,
        tmp_path,
        "de",
        {
            ("%(names)s and %(count)d more", "%(names)s and %(count)d more"): [
                "%(names)s und ein weiterer",
                "%(names)s und %(count)d weitere",
            ],
        },
    )
    for number in range(1, 7):
        person = User.objects.create(username=f"t{number}", first_name="Trainer", last_name=str(number))
        make_connection(person, remote_account_id=f"zoom-{number}", scopes="meeting:write")
    with translation.override("de"):
        six = provider.health_warnings()
    person = User.objects.create(username="t7", first_name="Trainer", last_name="7")
    make_connection(person, remote_account_id="zoom-7", scopes="meeting:write")
    with translation.override("de"):
        seven = provider.health_warnings()

    assert "Trainer 1, Trainer 2, Trainer 3, Trainer 4, Trainer 5 und ein weiterer lacks" in six[0]
    assert "Trainer 1, Trainer 2, Trainer 3, Trainer 4, Trainer 5 und 2 weitere lacks" in seven[0]


@pytest.mark.parametrize("client_id", ["abc\ndef", "abc def", "abc\x00def", "ab\u2028cd"])
def test_a_client_id_with_spaces_or_control_characters_is_refused_at_the_field(zoom_config, client_id):
    form = ZoomSettingsForm(data=form_data(client_id=client_id), config=zoom_config)
    assert not form.is_valid()
    assert "with no spaces or line breaks" in form.errors["client_id"][0]
    assert ProviderConfig.objects.get(pk=zoom_config.pk).client_id != client_id


def test_a_client_id_as_zoom_shows_it_is_accepted(zoom_config):
    form = ZoomSettingsForm(data=form_data(client_id="  aB3_x-Y.z9  "), config=zoom_config)
    assert form.is_valid(), form.errors
    form.save()
    assert ProviderConfig.objects.get(pk=zoom_config.pk).client_id == "aB3_x-Y.z9"
