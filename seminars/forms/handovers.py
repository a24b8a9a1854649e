"""Handing rooms over: to a host of the site's account, or to a person's own connection, and why."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from seminars.validators import REASON_MAX_LENGTH, validate_multi_line

HOST = "host"
OWNER = "owner"


def connected_people(provider_id: str):
    """Active people with a working connection of their own to the provider (who can take rooms over)."""
    from virtualmeeting.models import ProviderConnection

    connected = ProviderConnection.objects.filter(provider=provider_id, status=ProviderConnection.Status.CONNECTED)
    return (
        get_user_model()
        .objects.filter(is_active=True, pk__in=connected.values("user_id"))
        .order_by("first_name", "last_name", "username")
    )


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.get_full_name() or obj.get_username()
        return f"{name} ({obj.email})" if obj.email else name


class HandoverForm(forms.Form):
    """`hosts`: (id, label) of the site account's users to offer (None when the account is not set up);
    `hosts_error`: why they could not be listed (the host is then typed, by email); `service`: the provider's
    name in sentences."""

    target = forms.ChoiceField(
        label=gettext_lazy("Hand the rooms to"),
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose who takes the rooms over.")},
    )
    to_host = forms.CharField(label=gettext_lazy("New host"), required=False, max_length=255)
    to_owner = _PersonChoice(
        label=gettext_lazy("New owner"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=gettext_lazy("Choose a person"),
        error_messages={"invalid_choice": gettext_lazy("Choose one of the people listed.")},
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason (optional; kept in the record and told to the new owner)"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        validators=[validate_multi_line],
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, provider_id: str, service: str, hosts, hosts_error: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        if hosts is not None:
            choices.append((HOST, _("A host in the site's %(service)s account") % {"service": service}))
            if hosts_error:
                # The account's users could not be listed now: the host's email, checked when handing over.
                self.fields["to_host"].widget = forms.EmailInput()
            else:
                self.fields["to_host"].widget = forms.Select(choices=[("", _("Choose a host")), *hosts])
            self.fields["to_host"].help_text = _(
                "The rooms' meetings are made for this user of the site's account; the person with the host's "
                "email (else you) becomes the rooms' owner in the LMS."
            )
        else:
            del self.fields["to_host"]
        choices.append((OWNER, _("A person's own %(service)s account") % {"service": service}))
        self.fields["target"].choices = choices
        if len(choices) == 1:
            self.fields["target"].initial = OWNER
        self.fields["to_owner"].queryset = connected_people(provider_id)
        self.fields["to_owner"].help_text = _(
            "Only people who have connected their own %(service)s account are listed."
        ) % {"service": service}

    def clean(self):
        data = super().clean()
        target = data.get("target")
        if target == HOST and not data.get("to_host") and "to_host" not in self.errors:
            self.add_error("to_host", _("Choose the new host."))
        if target == OWNER and not data.get("to_owner") and "to_owner" not in self.errors:
            self.add_error("to_owner", _("Choose the new owner."))
        return data

    def target_kwargs(self) -> dict:
        """What rooms_hand_over takes for the chosen target."""
        if self.cleaned_data["target"] == HOST:
            return {"to_host": self.cleaned_data["to_host"]}
        return {"to_owner": self.cleaned_data["to_owner"]}
