"""The Zoom provider's options: defaults in one place, merged with what the settings page stored.

ProviderConfig.options holds only non-secret values; anything missing falls
back to the defaults here, and unknown keys are ignored (an option removed in
a later version cannot break a site).
"""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from virtualmeeting.conf import vm_settings

AUTO_RECORDING_CHOICES = [
    ("none", pgettext_lazy("automatic recording", "None")),
    ("local", _("Local")),
    ("cloud", _("Cloud")),
]

# Zoom's per-second limits by account plan and rate-limit label: create is "Medium", get/update/delete
# are "Light", batch registration is "Heavy".
PLAN_LIMITS = {
    "free": {"create_per_second": 2, "light_per_second": 4, "heavy_per_second": 1, "capacity_licensed": 100},
    "pro": {"create_per_second": 20, "light_per_second": 30, "heavy_per_second": 10, "capacity_licensed": 100},
    "business": {"create_per_second": 60, "light_per_second": 80, "heavy_per_second": 40, "capacity_licensed": 300},
}
PLAN_CHOICES = [("free", _("Free")), ("pro", _("Pro")), ("business", _("Business or higher"))]

MEETING_DEFAULTS = {
    "waiting_room": True,
    "join_before_host": False,
    "mute_upon_entry": False,
    "auto_recording": "none",
}

# The Redirect URL for OAuth the Zoom app has registered: Zoom refuses any other in authorize and token.
REDIRECT_MODERN = "modern"  # .../auth_callback/zoom
REDIRECT_LEGACY = "legacy"  # .../auth_callback.php/zoom, as apps registered for the previous LMS have it
REDIRECT_CHOICES = (REDIRECT_MODERN, REDIRECT_LEGACY)

DEFAULTS = {
    **MEETING_DEFAULTS,
    "redirect_url": REDIRECT_MODERN,
    "plan": "pro",
    # None: the plan's number.
    "create_per_second": None,
    "light_per_second": None,
    "heavy_per_second": None,  # no field on the settings page: the plan's number unless stored
    "capacity_basic": 100,
    "capacity_licensed": None,
}

# Per Zoom user and UTC day: meeting create + update requests.
DAILY_CREATE_UPDATE_LIMIT = 100

# Zoom user "type" values from GET /users/me.
LICENCE_BASIC = 1
LICENCE_NAMES = {1: "Basic", 2: "Licensed", 3: "On-prem", 99: "None"}


def zoom_options(config) -> dict:
    """The effective options of a ProviderConfig: stored values over defaults, plan numbers filled in."""
    stored = config.options if isinstance(config.options, dict) else {}
    options = {key: stored.get(key, default) for key, default in DEFAULTS.items()}
    if options["plan"] not in PLAN_LIMITS:
        options["plan"] = DEFAULTS["plan"]
    if options["redirect_url"] not in REDIRECT_CHOICES:
        options["redirect_url"] = DEFAULTS["redirect_url"]
    for key, value in PLAN_LIMITS[options["plan"]].items():
        if not options.get(key):
            options[key] = value
    return options


def oauth_base_url() -> str:
    return vm_settings.ZOOM_OAUTH_BASE_URL.rstrip("/")


def api_base_url() -> str:
    return vm_settings.ZOOM_API_BASE_URL.rstrip("/")


def redirect_url(*, legacy: bool = False) -> str:
    """A Redirect URL for OAuth an admin may register in the Zoom Marketplace (both reach the framework's callback)."""
    name = "virtualmeeting:auth_callback_legacy" if legacy else "virtualmeeting:auth_callback"
    return settings.SITE_URL.rstrip("/") + reverse(name, args=["zoom"])
