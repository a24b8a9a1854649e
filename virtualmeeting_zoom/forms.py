"""The Zoom Meeting settings form (rendered by the framework's settings page, saved into ProviderConfig)."""

from django import forms
from django.core.validators import RegexValidator
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from virtualmeeting.forms import SecretField
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
    *, config, client_id=None, client_secret=None, webhook_secret=None, enabled=None, options=None
) -> None:
    """Write Zoom settings into a ProviderConfig; None leaves a value as it is (secrets are write-only).

    A new Client ID ends the simulator's configuration (`make run` then leaves the simulator off).
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
    config.save()


class ZoomSettingsForm(forms.Form):
    client_id = forms.CharField(
        label=gettext_lazy("Client ID"),
        max_length=255,
        required=False,
        validators=[
            RegexValidator(
                r"\A[A-Za-z0-9_.-]*\Z",
                gettext_lazy(
                    "Paste the Client ID exactly as the app's App Credentials page shows it: letters, digits, "
                    "dots, dashes and underscores, with no spaces or line breaks."
                ),
                code="client_id",
            )
        ],
    )
    client_secret = SecretField(label=gettext_lazy("Client secret"))
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False)
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

    OPTION_FIELDS = (
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

    def __init__(self, data=None, *, config, **kwargs):
        self.config = config
        stored = config.options if isinstance(config.options, dict) else {}
        effective = zoom_options(config)
        initial = {
            "client_id": config.client_id,
            "enabled": config.enabled,
            **{name: effective[name] for name in self.OPTION_FIELDS},
        }
        # Numbers left to the plan stay blank, so a change of plan moves them too.
        for name in ("create_per_second", "light_per_second", "capacity_licensed"):
            if not stored.get(name):
                initial[name] = None
        super().__init__(data, initial=initial, **kwargs)
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
        self.fields["client_secret"].secret_set = bool(config.client_secret)
        self.fields["webhook_secret"].secret_set = bool(config.webhook_secret)
        keep = gettext("Set. Leave blank to keep it, or enter a new value to replace it.")
        self.fields["client_secret"].help_text = keep if config.client_secret else gettext("Not set.")
        self.fields["webhook_secret"].help_text = (
            keep
            if config.webhook_secret
            else gettext("Not set. Copy it from the app's Access page (Event subscriptions) in the Zoom Marketplace.")
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("enabled"):
            if not cleaned.get("client_id"):
                self.add_error("client_id", gettext("Enter the Client ID before enabling Zoom Meeting."))
            if not (cleaned.get("client_secret") or self.config.client_secret):
                self.add_error("client_secret", gettext("Enter the Client secret before enabling Zoom Meeting."))
        if cleaned.get("waiting_room") and cleaned.get("join_before_host"):
            self.add_error(
                "join_before_host",
                gettext("Zoom ignores join before host while the waiting room is on: turn one of them off."),
            )
        return cleaned

    def save(self):
        options = {name: self.cleaned_data.get(name) for name in self.OPTION_FIELDS}
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
            )
        return self.config
