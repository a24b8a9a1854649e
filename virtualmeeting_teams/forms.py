"""The Microsoft Teams settings form (rendered by the framework's settings page, saved into ProviderConfig)."""

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy

from virtualmeeting.forms import ProviderSettingsForm, SecretField
from virtualmeeting_teams.options import DEFAULT_TENANT

# A tenant is "common", "organizations", a tenant id (GUID) or a verified domain.
TENANT_FORMAT = gettext_lazy(
    'Enter "common", "organizations", the Directory (tenant) ID or the organisation\'s domain, with no spaces.'
)
CLIENT_ID_FORMAT = gettext_lazy(
    "Paste the Application (client) ID exactly as the app registration's Overview shows it (a GUID)."
)


class TeamsSettingsForm(ProviderSettingsForm):
    tenant = forms.CharField(
        label=gettext_lazy("Tenant"),
        max_length=255,
        required=False,
        validators=[RegexValidator(r"\A[A-Za-z0-9.-]*\Z", TENANT_FORMAT, code="tenant")],
        help_text=gettext_lazy(
            '"common" lets any work or school account sign in; your Directory (tenant) ID keeps sign-in to your '
            "organisation (needed for an app registered for one organisation only)."
        ),
    )
    client_id = forms.CharField(
        label=gettext_lazy("Application (client) ID"),
        max_length=255,
        required=False,
        validators=[RegexValidator(r"\A[A-Za-z0-9-]*\Z", CLIENT_ID_FORMAT, code="client_id")],
    )
    client_secret = SecretField(
        label=gettext_lazy("Client secret"),
        help_text=gettext_lazy("The secret's Value (not its ID), from Certificates & secrets."),
    )

    option_fields = ("tenant",)

    def clean_tenant(self):
        return (self.cleaned_data.get("tenant") or "").strip() or DEFAULT_TENANT

    def clean_client_id(self):
        return (self.cleaned_data.get("client_id") or "").strip()

    def clean_client_secret(self):
        return (self.cleaned_data.get("client_secret") or "").strip()

    def _initial(self) -> dict:
        initial = super()._initial()
        initial["tenant"] = initial.get("tenant") or DEFAULT_TENANT
        return initial

    def save(self):
        # A new Client ID ends the simulator's configuration (`make run` then leaves the simulator off).
        if self.cleaned_data.get("client_id") != self.config.client_id:
            self.config.options = {k: v for k, v in (self.config.options or {}).items() if k != "simulator"}
        return super().save()
