"""The Zoom Meeting settings form (rendered by the framework's settings page, saved into ProviderConfig)."""

from django import forms
from django.core.validators import RegexValidator
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from virtualmeeting.forms import ProviderSettingsForm, SecretField
from virtualmeeting.models import ProviderConfig
from virtualmeeting_zoom.account import account_token_forget
from virtualmeeting_zoom.options import (
    AUTO_RECORDING_CHOICES,
    PLAN_CHOICES,
    PLAN_LIMITS,
    REDIRECT_LEGACY,
    REDIRECT_MODERN,
    redirect_url,
    zoom_options,
)


def zoom_config_update(
    *,
    config,
    client_id=None,
    client_secret=None,
    webhook_secret=None,
    enabled=None,
    options=None,
    hosting=None,
    account_id=None,
    account_client_id=None,
    account_client_secret=None,
) -> None:
    """Write Zoom settings into a ProviderConfig; None leaves a value as it is (secrets are write-only).

    A new Client ID ends the simulator's configuration (`make run` then leaves the simulator off).
    The Server-to-Server app: clearing both its Account ID and Client ID removes it, secret included;
    any change of its credentials drops the shared account token once the change is committed.
    """
    if client_id is not None and client_id.strip() != config.client_id:
        config.client_id = client_id.strip()
        if not (options or {}).get("simulator"):
            config.options = {key: value for key, value in (config.options or {}).items() if key != "simulator"}
    if client_secret:
        config.client_secret = client_secret.strip()
    if webhook_secret:
        config.webhook_secret = webhook_secret.strip()
    if enabled is not None:
        config.enabled = enabled
    if options is not None:
        config.options = {**(config.options or {}), **options}
    if hosting is not None:
        config.hosting = hosting
    _account_update(config, account_id, account_client_id, account_client_secret)
    config.save()


def _account_update(config, account_id, client_id, client_secret) -> None:
    before = ProviderConfig(account_id=config.account_id, account_client_id=config.account_client_id)
    secret_before = config.account_client_secret
    if account_id is not None:
        config.account_id = account_id.strip()
    if client_id is not None:
        config.account_client_id = client_id.strip()
    if client_secret:
        config.account_client_secret = client_secret.strip()
    if not (config.account_id or config.account_client_id):
        config.account_client_secret = ""
    changed = (before.account_id, before.account_client_id, secret_before) != (
        config.account_id,
        config.account_client_id,
        config.account_client_secret,
    )
    if changed:
        after = ProviderConfig(account_id=config.account_id, account_client_id=config.account_client_id)
        transaction.on_commit(lambda: [account_token_forget(each) for each in (before, after)])


def _credential_validator(message):
    return RegexValidator(r"\A[A-Za-z0-9_.-]*\Z", message, code="client_id")


CLIENT_ID_FORMAT = gettext_lazy(
    "Paste the Client ID exactly as the app's App Credentials page shows it: letters, digits, "
    "dots, dashes and underscores, with no spaces or line breaks."
)
ACCOUNT_ID_FORMAT = gettext_lazy(
    "Paste the Account ID exactly as the app's App Credentials page shows it: letters, digits, "
    "dots, dashes and underscores, with no spaces or line breaks."
)


HOSTING_CHOICES = [
    (ProviderConfig.Hosting.USER, gettext_lazy("Each trainer connects their own Zoom account")),
    (ProviderConfig.Hosting.ACCOUNT, gettext_lazy("One Zoom account for the whole site")),
]


class ZoomSettingsForm(ProviderSettingsForm):
    hosting = forms.ChoiceField(
        label=gettext_lazy("New rooms use"),
        choices=HOSTING_CHOICES,
        required=False,  # a post without it keeps the stored choice
        widget=forms.RadioSelect,
    )
    client_id = forms.CharField(
        label=gettext_lazy("Client ID"),
        max_length=255,
        required=False,
        validators=[_credential_validator(CLIENT_ID_FORMAT)],
    )
    client_secret = SecretField(label=gettext_lazy("Client secret"))
    account_id = forms.CharField(
        label=gettext_lazy("Account ID"),
        max_length=255,
        required=False,
        validators=[_credential_validator(ACCOUNT_ID_FORMAT)],
    )
    account_client_id = forms.CharField(
        label=gettext_lazy("Client ID"),
        max_length=255,
        required=False,
        validators=[_credential_validator(CLIENT_ID_FORMAT)],
    )
    account_client_secret = SecretField(label=gettext_lazy("Client secret"))
    redirect_url = forms.ChoiceField(
        label=gettext_lazy("Redirect URL the Zoom app has registered"),
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Zoom accepts only the Redirect URL for OAuth registered in the app: Connect sends exactly this one."
        ),
    )
    webhook_secret = SecretField(label=gettext_lazy("Webhook secret token"))
    waiting_room = forms.BooleanField(label=gettext_lazy("Waiting room"), required=False)
    join_before_host = forms.BooleanField(
        label=gettext_lazy("Join before host"),
        required=False,
        help_text=gettext_lazy("Zoom ignores this while the waiting room is on."),
    )
    mute_upon_entry = forms.BooleanField(label=gettext_lazy("Mute participants on entry"), required=False)
    auto_recording = forms.ChoiceField(label=gettext_lazy("Automatic recording"), choices=AUTO_RECORDING_CHOICES)
    plan = forms.ChoiceField(
        label=gettext_lazy("Zoom account plan"),
        choices=PLAN_CHOICES,
        help_text=gettext_lazy("Sets the per-second limits and meeting capacity."),
    )
    create_per_second = forms.IntegerField(
        label=gettext_lazy("Create requests per second"),
        required=False,
        min_value=1,
        max_value=1000,
        help_text=gettext_lazy("Zoom's Medium limit for the account. Blank: the plan's number."),
    )
    light_per_second = forms.IntegerField(
        label=gettext_lazy("Read, update and delete requests per second"),
        required=False,
        min_value=1,
        max_value=1000,
        help_text=gettext_lazy("Zoom's Light limit for the account. Blank: the plan's number."),
    )
    capacity_basic = forms.IntegerField(
        label=gettext_lazy("Meeting capacity of Basic users"),
        min_value=1,
        max_value=100000,
        help_text=gettext_lazy("Participants."),
    )
    capacity_licensed = forms.IntegerField(
        label=gettext_lazy("Meeting capacity of licensed users"),
        required=False,
        min_value=1,
        max_value=100000,
        help_text=gettext_lazy(
            "Participants (Pro 100, Business 300; more with a large-meeting add-on). Blank: the plan's number."
        ),
    )

    option_fields = (
        "redirect_url",
        "waiting_room",
        "join_before_host",
        "mute_upon_entry",
        "auto_recording",
        "plan",
        "create_per_second",
        "light_per_second",
        "capacity_basic",
        "capacity_licensed",
    )

    def __init__(self, data=None, *, config):
        super().__init__(data, config=config)
        effective = zoom_options(config)
        self.fields["redirect_url"].choices = [
            (REDIRECT_MODERN, gettext("%(url)s (recommended)") % {"url": redirect_url()}),
            (
                REDIRECT_LEGACY,
                gettext("%(url)s (an app registered for the previous LMS)") % {"url": redirect_url(legacy=True)},
            ),
        ]
        plan_numbers = PLAN_LIMITS[effective["plan"]]
        for name in ("create_per_second", "light_per_second", "capacity_licensed"):
            self.fields[name].widget.attrs["placeholder"] = str(plan_numbers[name])
        keep = gettext("Set. Leave blank to keep it, or enter a new value to replace it.")
        self.fields["client_secret"].help_text = keep if config.client_secret else gettext("Not set.")
        self.fields["account_client_secret"].help_text = keep if config.account_client_secret else gettext("Not set.")
        self.fields["webhook_secret"].help_text = (
            keep
            if config.webhook_secret
            else gettext("Not set. Copy it from the app's Access page (Event subscriptions) in the Zoom Marketplace.")
        )

    def initial_options(self) -> dict:
        """The effective options (stored over the defaults); numbers left to the plan stay blank, so a change of
        plan moves them too."""
        stored = super().initial_options()
        effective = {name: zoom_options(self.config)[name] for name in self.option_fields}
        for name in ("create_per_second", "light_per_second", "capacity_licensed"):
            if not stored.get(name):
                effective[name] = None
        return effective

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("hosting") and "hosting" not in self.errors:
            cleaned["hosting"] = self.config.hosting
        # New rooms in the site's account need no General App (_clean_account asks for the account's app).
        if cleaned.get("enabled") and cleaned.get("hosting") != ProviderConfig.Hosting.ACCOUNT:
            if not cleaned.get("client_id"):
                self.add_error("client_id", gettext("Enter the Client ID before enabling Zoom Meeting."))
            if not (cleaned.get("client_secret") or self.config.client_secret):
                self.add_error("client_secret", gettext("Enter the Client secret before enabling Zoom Meeting."))
        self._clean_account(cleaned)
        if cleaned.get("waiting_room") and cleaned.get("join_before_host"):
            self.add_error(
                "join_before_host",
                gettext("Zoom ignores join before host while the waiting room is on: turn one of them off."),
            )
        return cleaned

    def _clean_account(self, cleaned) -> None:
        """The Server-to-Server app: all three credentials or none (clearing both ids removes it), and all three
        when new rooms use it."""
        account = (cleaned.get("account_id"), cleaned.get("account_client_id"), cleaned.get("account_client_secret"))
        wanted = cleaned.get("hosting") == ProviderConfig.Hosting.ACCOUNT
        if not (wanted or any(account)):
            return
        if wanted:
            because = gettext("New rooms use the site's Zoom account: enter its %(what)s.")
        else:
            because = gettext("Enter the %(what)s too, or clear the Server-to-Server app's Account ID and Client ID.")
        if not cleaned.get("account_id") and "account_id" not in self.errors:
            self.add_error("account_id", because % {"what": gettext("Account ID")})
        if not cleaned.get("account_client_id") and "account_client_id" not in self.errors:
            self.add_error("account_client_id", because % {"what": gettext("Client ID")})
        if not (cleaned.get("account_client_secret") or self.config.account_client_secret):
            self.add_error("account_client_secret", because % {"what": gettext("Client secret")})
        if cleaned.get("account_client_id") and cleaned.get("account_client_id") == cleaned.get("client_id"):
            self.add_error(
                "account_client_id",
                gettext(
                    "This is the General App's Client ID: the Server-to-Server app has a Client ID of its own "
                    "(its App Credentials page in the Zoom Marketplace)."
                ),
            )

    def save(self):
        options = {name: self.cleaned_data.get(name) for name in self.option_fields}
        if options["plan"] not in PLAN_LIMITS:
            options["plan"] = "pro"
        with transaction.atomic():
            zoom_config_update(
                config=self.config,
                client_id=self.cleaned_data["client_id"],
                client_secret=self.cleaned_data.get("client_secret") or None,
                webhook_secret=self.cleaned_data.get("webhook_secret") or None,
                enabled=self.cleaned_data["enabled"],
                options=options,
                hosting=self.cleaned_data.get("hosting") or None,
                account_id=self.cleaned_data["account_id"],
                account_client_id=self.cleaned_data["account_client_id"],
                account_client_secret=self.cleaned_data.get("account_client_secret") or None,
            )
        return self.config
