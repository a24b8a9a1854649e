"""The settings object: defaults in one place, validated once, reloaded when a setting changes; the providers'
own settings; the site administration menu built from the providers."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from virtualmeeting.conf import vm_settings
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.tests.conftest import TEST_PROVIDER


class HostedProvider(TestProvider):
    """A provider with a setting of its own (as Zoom has ZOOM_API_BASE_URL)."""

    id = "hosted"
    name = "Hosted Meeting"
    settings_defaults = {"HOSTED_API_BASE_URL": "https://api.hosted.invalid", "HOSTED_PAGE_SIZE": 30}


HOSTED = f"{__name__}.HostedProvider"


def test_defaults_apply_and_configured_values_win(settings):
    settings.VIRTUALMEETING = {"PROVIDERS": []}
    assert vm_settings.CLAIM_SECONDS == 20
    settings.VIRTUALMEETING = {"PROVIDERS": [], "CLAIM_SECONDS": 7}
    assert vm_settings.CLAIM_SECONDS == 7  # read again: setting_changed


def test_an_unknown_key_is_a_clear_error(settings):
    settings.VIRTUALMEETING = {"PROVIDERS": [], "CLAIM_SECONDZ": 3}
    with pytest.raises(ImproperlyConfigured, match="CLAIM_SECONDZ"):
        _ = vm_settings.CLAIM_SECONDS


@pytest.mark.parametrize(
    "key, value",
    [("CLAIM_SECONDS", "20"), ("MAX_ATTEMPTS", True), ("PRESTART_CHECKS_MINUTES", 20), ("REGISTRANT_EMAIL_DOMAIN", 1)],
)
def test_a_value_of_the_wrong_type_is_a_clear_error(settings, key, value):
    settings.VIRTUALMEETING = {"PROVIDERS": [], key: value}
    with pytest.raises(ImproperlyConfigured, match=key):
        _ = vm_settings.SWEEP_BATCH  # validated as a whole, whichever key is read


def test_numbers_may_be_whole_or_decimal(settings):
    settings.VIRTUALMEETING = {"PROVIDERS": [], "BACKOFF_BASE_SECONDS": 0.5, "PRESTART_CHECK_SPREAD": 0}
    assert (vm_settings.BACKOFF_BASE_SECONDS, vm_settings.PRESTART_CHECK_SPREAD) == (0.5, 0)


def test_values_are_validated_once_and_cached(settings):
    settings.VIRTUALMEETING = {"PROVIDERS": [TEST_PROVIDER]}
    first = vm_settings.provider_classes
    assert vm_settings.provider_classes is first
    settings.VIRTUALMEETING = {"PROVIDERS": [TEST_PROVIDER, HOSTED]}
    assert list(vm_settings.provider_classes) == ["test", "hosted"]


def test_a_provider_declares_its_own_settings_and_their_defaults(settings):
    settings.VIRTUALMEETING = {"PROVIDERS": [TEST_PROVIDER, HOSTED]}
    assert vm_settings.HOSTED_API_BASE_URL == "https://api.hosted.invalid"
    settings.HOSTED_API_BASE_URL = "http://127.0.0.1:9000"
    assert vm_settings.HOSTED_API_BASE_URL == "http://127.0.0.1:9000"
    settings.HOSTED_PAGE_SIZE = "many"
    with pytest.raises(ImproperlyConfigured, match="HOSTED_PAGE_SIZE"):
        _ = vm_settings.HOSTED_API_BASE_URL


def test_a_setting_nobody_declares_is_an_attribute_error(settings):
    settings.VIRTUALMEETING = {"PROVIDERS": [TEST_PROVIDER]}
    with pytest.raises(AttributeError, match="HOSTED_API_BASE_URL"):
        _ = vm_settings.HOSTED_API_BASE_URL


def test_a_provider_that_cannot_be_imported_is_a_clear_error(settings):
    settings.VIRTUALMEETING = {"PROVIDERS": ["virtualmeeting.nowhere.Provider"]}
    with pytest.raises(ImproperlyConfigured, match="virtualmeeting.nowhere.Provider"):
        _ = vm_settings.provider_classes


def test_the_admin_menu_lists_each_provider_s_settings_page(settings):
    settings.VIRTUALMEETING = {"PROVIDERS": [TEST_PROVIDER, HOSTED]}
    assert vm_settings.admin_menu() == [
        ("Plugins > Virtual meetings", reverse("virtualmeeting:settings_index")),
        ("Plugins > Virtual meetings > Test Meeting", reverse("virtualmeeting:settings", args=["test"])),
        ("Plugins > Virtual meetings > Hosted Meeting", reverse("virtualmeeting:settings", args=["hosted"])),
    ]
