"""The email template editor: subject and body, checked as the service checks them, and an event to preview with."""

from django import forms
from django.utils.translation import gettext_lazy

from seminars.email_types import EmailType, template_errors


class EmailTemplateForm(forms.Form):
    # No max_length here: template_errors says what is too long, in its own words, next to the field.
    subject = forms.CharField(label=gettext_lazy("Subject"), strip=False)
    body = forms.CharField(label=gettext_lazy("Text"), strip=False, widget=forms.Textarea(attrs={"rows": 16}))
    event = forms.ModelChoiceField(
        label=gettext_lazy("Preview with the event"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("Choose an event"),
        help_text=gettext_lazy(
            "Fills in the placeholders with this event's data and one of its learners. Nothing is sent."
        ),
    )

    def __init__(self, *args, kind: EmailType, events, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["event"].queryset = events
        self.fields["event"].label_from_instance = lambda event: f"{event.seminar.name}: {event.title}"

    def clean(self):
        data = super().clean()
        if "subject" in data and "body" in data:
            for field, messages in template_errors(self.kind, subject=data["subject"], body=data["body"]).items():
                self.add_error(field, messages)
        return data
