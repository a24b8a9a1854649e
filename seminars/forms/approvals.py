"""The decision on requests for a place: which, approve or decline, and an optional reason."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from seminars.services.approvals import Decision
from seminars.validators import REASON_MAX_LENGTH, validate_multi_line

MAX_REQUESTS = 500


class DecideForm(forms.Form):
    """The ticked requests (`booking` ids; whether each may be decided is the service's to say),
    approve or decline, and a reason told to the learners declined."""

    booking = forms.TypedMultipleChoiceField(
        coerce=int, error_messages={"required": gettext_lazy("Tick the requests to decide.")}
    )
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[(Decision.APPROVE, gettext_lazy("Approve")), (Decision.DECLINE, gettext_lazy("Decline"))],
        error_messages={"required": gettext_lazy("Choose approve or decline.")},
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for declining (optional; the learner is told)"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        validators=[validate_multi_line],
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is a choice here: the service refuses, one by one, those the user may not decide.
        self.fields["booking"].valid_value = lambda value: True

    def clean_booking(self):
        ids = self.cleaned_data["booking"]
        if len(ids) > MAX_REQUESTS:
            raise forms.ValidationError(
                _("At most %(count)d requests can be decided at once.") % {"count": MAX_REQUESTS}
            )
        if any(pk < 1 or pk > 2**31 - 1 for pk in ids):
            raise forms.ValidationError(_("The list of requests was not understood."))
        return list(dict.fromkeys(ids))
