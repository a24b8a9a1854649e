"""The app's settings, read through one object: `vm_settings` (django-oauth-toolkit's `oauth2_settings` style).

`vm_settings.CLAIM_SECONDS`: settings.VIRTUALMEETING over DEFAULTS below (every key has its default here and only
here). `vm_settings.ZOOM_API_BASE_URL`: a provider's own setting, a Django setting of that name over the default
the provider class declares (`Provider.settings_defaults`). The values are validated once, on first use: an
unknown VIRTUALMEETING key (a typo would otherwise be ignored silently), a value of another type than its
default, or a provider that cannot be imported is ImproperlyConfigured. They are read again when a setting
changes (setting_changed: tests). The same object lists the providers (`provider_classes`) for the registry and
builds the site administration menu's entries (`admin_menu`).
"""

import ipaddress
from numbers import Real
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from virtualmeeting.providers.base import Provider

DEFAULTS = {
    # Dotted paths of the provider classes, in the order they are offered.
    "PROVIDERS": [],
    # A worker's hold on a meeting (a lease), renewed every CLAIM_RENEW_SECONDS while the worker
    # lives, however long its provider call takes. A killed worker stops renewing: its meeting is
    # free again after at most CLAIM_SECONDS, and the next sweep hands it to another worker.
    "CLAIM_SECONDS": 20,
    "CLAIM_RENEW_SECONDS": 5,
    # Transient errors: exponential backoff from BASE doubling up to MAX, with jitter.
    "BACKOFF_BASE_SECONDS": 30,
    "BACKOFF_MAX_SECONDS": 3600,
    # After this many transient failures in a row the meeting fails (a person has to look).
    "MAX_ATTEMPTS": 12,
    # Waits up to this long are given to Celery as a countdown; longer ones wait in the
    # database for the sweep (a countdown beyond Redis' visibility timeout is redelivered).
    "MAX_COUNTDOWN_SECONDS": 300,
    # How many due meetings one sweep re-queues.
    "SWEEP_BATCH": 500,
    # The sweep re-queues a due meeting only when its last queued task should have run this long ago
    # (the message was lost), so a busy queue does not fill with duplicates.
    "REQUEUE_AFTER_SECONDS": 120,
    # Pre-start checks: each meeting is read at the provider (a GET) this many minutes before it
    # starts, and re-created if it is gone, so a meeting deleted behind our back (no webhook) is back
    # before the 15-minute join window opens.
    "PRESTART_CHECKS_MINUTES": [1440, 120, 20],
    # Each check is due at a time of its own within this share of its checkpoint before it (0.5:
    # the 20-minute check between 30 and 20 minutes before), so sessions starting together are
    # checked over minutes, not in one burst.
    "PRESTART_CHECK_SPREAD": 0.5,
    # At most this many checks per sweep, queued this many per second (spread over the sweep's 30 s),
    # well within a provider's per-second limits (Zoom: Light, 30/s on Pro) on a busy site.
    "PRESTART_CHECK_BATCH": 300,
    "PRESTART_CHECKS_PER_SECOND": 10,
    # A check that could not be made (the provider failed) is tried again this much later.
    "PRESTART_CHECK_RETRY_SECONDS": 60,
    # The reconcile poll of a meeting's participants (and recordings): minutes after its end (the
    # occurrence's end when a webhook told it, else the scheduled finish) at which the provider is
    # asked, until it has the data; after the last one the poll gives up, saying why.
    "PARTICIPANTS_POLL_DELAYS": [5, 15, 30, 60, 120, 240],
    # A connect flow's state is valid this long.
    "OAUTH_STATE_SECONDS": 600,
    # The domain of the addresses registrants are given at the provider (never the person's own address,
    # and never mailed: the provider's registration emails are off). "" means the host of SITE_URL, or
    # "registrants.invalid" when that host is not a domain a strict email validator accepts
    # (localhost, testserver, an IP address).
    "REGISTRANT_EMAIL_DOMAIN": "",
}


def _check_type(name: str, value: Any, default: Any) -> None:
    """`value` is of the kind its default is: text, a whole or decimal number, a flag, a list (None: anything)."""
    if default is None:
        return
    if isinstance(default, bool):
        expected, ok = "True or False", isinstance(value, bool)
    elif isinstance(default, Real):
        expected, ok = "a number", isinstance(value, Real) and not isinstance(value, bool)
    elif isinstance(default, list | tuple):
        expected, ok = "a list", isinstance(value, list | tuple)
    else:
        expected, ok = f"a {type(default).__name__}", isinstance(value, type(default))
    if not ok:
        raise ImproperlyConfigured(f"The virtual meeting setting {name} must be {expected}, not {value!r}.")


def _provider_class(path: str) -> type[Provider]:
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"VIRTUALMEETING['PROVIDERS'] lists {path!r}, which cannot be imported.") from exc
    if not (isinstance(cls, type) and issubclass(cls, Provider)) or not cls.id:
        raise ImproperlyConfigured(f"{path!r} is not a virtual meeting provider class with an id.")
    return cls


class VirtualMeetingSettings:
    """The framework's settings and the listed providers' own, with attribute access (see the module docstring)."""

    def __init__(self):
        self._values: dict[str, Any] | None = None
        self._providers: dict[str, type[Provider]] | None = None
        self._provider_values: dict[str, Any] | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in DEFAULTS:
            return self._framework()[name]
        values = self._of_providers()
        if name not in values:
            raise AttributeError(f"{name} is neither a VIRTUALMEETING setting nor one a listed provider declares.")
        return values[name]

    def _framework(self) -> dict[str, Any]:
        if self._values is None:
            configured = getattr(settings, "VIRTUALMEETING", {}) or {}
            unknown = set(configured) - set(DEFAULTS)
            if unknown:
                raise ImproperlyConfigured(f"Unknown VIRTUALMEETING setting(s): {', '.join(sorted(unknown))}.")
            values = {name: configured.get(name, default) for name, default in DEFAULTS.items()}
            for name, value in values.items():
                _check_type(name, value, DEFAULTS[name])
            self._values = values
        return self._values

    @property
    def provider_classes(self) -> dict[str, type[Provider]]:
        """The provider classes PROVIDERS lists, by id, in order (imported on first use)."""
        if self._providers is None:
            classes = {}
            for path in self._framework()["PROVIDERS"]:
                cls = _provider_class(path)
                if cls.id in classes:
                    raise ImproperlyConfigured(f"Two providers share the id {cls.id!r}.")
                classes[cls.id] = cls
            self._providers = classes
        return self._providers

    def _of_providers(self) -> dict[str, Any]:
        """Each listed provider's own settings: the Django setting of that name, else the provider's default."""
        if self._provider_values is None:
            values = {}
            for cls in self.provider_classes.values():
                for name, default in cls.settings_defaults.items():
                    if name in DEFAULTS or name in values:
                        raise ImproperlyConfigured(f"The provider {cls.id!r} declares {name}, which is already taken.")
                    value = getattr(settings, name, default)
                    _check_type(name, value, default)
                    values[name] = value
            self._provider_values = values
        return self._provider_values

    def admin_menu(self) -> list[tuple[str, str]]:
        """The site administration menu's entries (label, url): the providers page, then each provider's settings."""
        entries = [(gettext("Plugins > Virtual meetings"), reverse("virtualmeeting:settings_index"))]
        for provider_id, cls in self.provider_classes.items():
            label = gettext("Plugins > Virtual meetings > %(name)s") % {"name": cls.name}
            entries.append((label, reverse("virtualmeeting:settings", args=[provider_id])))
        return entries

    def reload(self) -> None:
        self._values = self._providers = self._provider_values = None


vm_settings = VirtualMeetingSettings()


def _reload(*, setting, **kwargs):
    # A provider's own settings are top-level names: any change may be one of them (reading again is cheap).
    vm_settings.reload()


setting_changed.connect(_reload)


def admin_menu() -> list[tuple[str, str]]:
    """For settings.SEMINARS_ADMIN_MENU (a dotted path to it): the virtual meeting entries."""
    return vm_settings.admin_menu()


def registrant_email_domain() -> str:
    """REGISTRANT_EMAIL_DOMAIN, or the site's host when it is a dotted domain name, else "registrants.invalid"."""
    configured = vm_settings.REGISTRANT_EMAIL_DOMAIN
    if configured:
        return configured
    host = urlsplit(settings.SITE_URL).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if "." in host.strip("."):
            return host.strip(".")
    return "registrants.invalid"
