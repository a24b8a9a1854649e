"""Forms of the attendees page: the bulk list (pasted or a CSV file), remove and move with a reason."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from seminars.validators import REASON_MAX_LENGTH, validate_multi_line

MAX_FILE_BYTES = 256 * 1024


class BulkAddForm(forms.Form):
    """Usernames or emails, pasted one per line or uploaded as a CSV file (first column)."""

    text = forms.CharField(
        label=gettext_lazy("Usernames or emails, one per line"),
        required=False,
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    file = forms.FileField(
        label=gettext_lazy("Or a CSV file (usernames or emails in the first column)"),
        required=False,
    )
    enrol = forms.BooleanField(label=gettext_lazy("Enrol people not yet in the course, as learners"), required=False)
    over_capacity = forms.BooleanField(label=gettext_lazy("Book over capacity"), required=False)

    def __init__(self, *args, may_enrol, may_overbook, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_enrol:
            del self.fields["enrol"]
        if not may_overbook:
            del self.fields["over_capacity"]

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not upload:
            return ""
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(_("The file is too large (at most 256 KB)."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise forms.ValidationError(_("The file must be a UTF-8 text or CSV file.")) from error

    def clean(self):
        data = super().clean()
        content = "\n".join(part for part in (data.get("text", ""), data.get("file", "")) if part)
        if not content.strip() and not self.errors:
            raise forms.ValidationError(_("Paste usernames or emails, or choose a CSV file."))
        data["content"] = content
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (the learner is told)"),
        max_length=REASON_MAX_LENGTH,
        validators=[validate_multi_line],
    )


class MoveForm(ReasonForm):
    to_event = forms.ModelChoiceField(label=gettext_lazy("Move to"), queryset=None)
    over_capacity = forms.BooleanField(label=gettext_lazy("Book over capacity"), required=False)

    def __init__(self, *args, events, may_overbook, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_event"].queryset = events
        self.fields["to_event"].label_from_instance = lambda event: str(event.title)
        if not may_overbook:
            del self.fields["over_capacity"]
        self.order_fields(["to_event", "reason"])
