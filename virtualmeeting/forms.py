"""The base of every provider's settings form.

A provider's `settings_form_class` is called as `form_class(data=None, *, config)`
and its `save()` writes into the ProviderConfig. Fields named like the
config's columns (enabled, client_id, client_secret, webhook_secret) go to
those columns; fields listed in `option_fields` go to `config.options`.

Secrets are write-only: a SecretField is never rendered with its value, is
shown as "set"/"not set", and submitting it empty leaves the stored secret
unchanged.
"""

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _


class SecretField(forms.CharField):
    """A write-only secret: empty means "keep the stored value"."""

    is_secret = True

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}))
        super().__init__(**kwargs)
        self.secret_set = False


class ProviderSettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("Enabled"), required=False, help_text=_("Offer this provider for rooms."))

    # Names of fields stored in config.options rather than in a column.
    option_fields: tuple[str, ...] = ()

    def __init__(self, data=None, *, config):
        self.config = config
        super().__init__(data, initial=self._initial())
        for name, field in self.fields.items():
            if getattr(field, "is_secret", False):
                field.secret_set = bool(getattr(config, name))

    def initial_options(self) -> dict:
        """The values the option fields show: the stored options (a provider may fill in its defaults)."""
        return self.config.options if isinstance(self.config.options, dict) else {}

    def _initial(self) -> dict:
        initial = {}
        options = self.initial_options()
        for name, field in self.base_fields.items():
            if getattr(field, "is_secret", False):
                continue
            if name in self.option_fields:
                initial[name] = options.get(name)
            else:
                initial[name] = getattr(self.config, name, None)
        return initial

    @transaction.atomic
    def save(self):
        options = dict(self.config.options)
        for name, value in self.cleaned_data.items():
            field = self.fields[name]
            if getattr(field, "is_secret", False):
                if value:
                    setattr(self.config, name, value)
            elif name in self.option_fields:
                options[name] = value
            else:
                setattr(self.config, name, value)
        self.config.options = options
        self.config.save()
        return self.config
