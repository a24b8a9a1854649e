"""The Teams provider's site options and hosts: defaults in one place (docs/teams-protocol.md, sections 1 and 3)."""

from urllib.parse import unquote

from django.utils.translation import gettext_lazy

from virtualmeeting.conf import vm_settings

DEFAULT_TENANT = "common"

# The delegated permissions the app registration must have, and what each is for (shown on the settings page).
PERMISSIONS = (
    ("OnlineMeetings.ReadWrite", gettext_lazy("Create, read, change and delete the trainer's Teams meetings.")),
    ("User.Read", gettext_lazy("Read the trainer's name and email, shown next to Connect.")),
    ("offline_access", gettext_lazy("Keep the connection without a new sign-in (a refresh token).")),
    ("openid", gettext_lazy("Sign the trainer in.")),
    ("profile", gettext_lazy("Sign the trainer in (their name).")),
    ("email", gettext_lazy("Sign the trainer in (their email).")),
)
# Requested in the authorize and token requests, in this order.
SCOPES = ("openid", "profile", "email", "offline_access", "User.Read", "OnlineMeetings.ReadWrite")
# A grant without these cannot work: the connect is refused, and the settings page names trainers lacking them.
REQUIRED_SCOPES = ("User.Read", "OnlineMeetings.ReadWrite")
GRAPH_RESOURCE = "https://graph.microsoft.com/"


# The provider's own Django settings (TeamsProvider.settings_defaults, read through vm_settings): the hosts it calls.
SETTINGS_DEFAULTS = {
    "TEAMS_AUTH_BASE_URL": "https://login.microsoftonline.com",
    "GRAPH_API_BASE_URL": "https://graph.microsoft.com/v1.0",
}


def auth_base_url() -> str:
    return vm_settings.TEAMS_AUTH_BASE_URL.rstrip("/")


def graph_base_url() -> str:
    return vm_settings.GRAPH_API_BASE_URL.rstrip("/")


def tenant_of(config) -> str:
    """The tenant in the sign-in URLs: the settings page's value, else "common" (any work or school account)."""
    options = config.options if isinstance(config.options, dict) else {}
    return str(options.get("tenant") or DEFAULT_TENANT).strip() or DEFAULT_TENANT


def granted_scopes(scopes: str) -> set[str]:
    """The permissions a grant holds, by their short names in lower case.

    Microsoft's token answer may name Graph permissions in full ("https://graph.microsoft.com/User.Read"),
    even URL-encoded as in its own example, or short ("User.Read"); names are compared without regard to case.
    """
    names = set()
    for scope in unquote(scopes or "").split():
        if scope.lower().startswith(GRAPH_RESOURCE):
            scope = scope[len(GRAPH_RESOURCE) :]
        names.add(scope.lower())
    return names


def missing_permissions(scopes: str) -> list[str]:
    """The required permissions a grant lacks, as the settings page names them."""
    have = granted_scopes(scopes)
    return [scope for scope in REQUIRED_SCOPES if scope.lower() not in have]
