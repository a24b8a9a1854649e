"""Course, seminar, participant and profile forms."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from seminars.models import Course, Enrolment, Seminar
from seminars.reminders import seminar_reminder_offsets
from seminars.selectors.attendance import site_attended_percent
from seminars.timezones import is_valid_zone
from seminars.validators import (
    ATTENDED_PERCENT_MAX,
    ATTENDED_PERCENT_MIN,
    reminder_offsets_parse,
    validate_attended_percent,
    validate_reminder_offsets,
)


def _require_text(value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise forms.ValidationError(message)
    return value


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = ["name", "short_name", "summary", "allow_self_enrolment"]
        labels = {
            "name": _("Course full name"),
            "short_name": _("Course short name"),
            "summary": _("Course summary"),
            "allow_self_enrolment": _("Allow self enrolment"),
        }
        help_texts = {"short_name": _("Optional; shown where space is short, e.g. SAFE-101.")}
        error_messages = {"name": {"required": _("Enter the course's full name.")}}

    def clean_name(self):
        return _require_text(self.cleaned_data.get("name"), _("Enter the course's full name."))


class SeminarForm(forms.ModelForm):
    attended_percent = forms.IntegerField(
        label=_("Fully attended from (% of a session)"),
        required=False,
        validators=[validate_attended_percent],
        error_messages={"invalid": _("Enter a whole number of percent, e.g. 75.")},
        widget=forms.NumberInput(attrs={"min": ATTENDED_PERCENT_MIN, "max": ATTENDED_PERCENT_MAX}),
    )

    class Meta:
        model = Seminar
        fields = ["name", "description", "attended_percent", "reminder_offsets", "approval_type"]
        labels = {
            "name": _("Name"),
            "description": _("Description"),
            "reminder_offsets": _("Reminders"),
            "approval_type": _("Approval of a place"),
        }
        help_texts = {
            "approval_type": _(
                "Who approves a learner's request for a place. A request takes no seat until approved; "
                "learners without a manager go to a site admin; requests still pending when the event starts expire."
            )
        }
        error_messages = {"name": {"required": _("Enter the seminar's name.")}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attended_percent"].help_text = _(
            "The share of a session's scheduled minutes a learner must attend to count as fully attended "
            "(more than 0 minutes is partially attended). Leave empty for the site's default, %(percent)s %%."
        ) % {"percent": site_attended_percent()}
        self.fields["approval_type"].required = False
        self.fields["reminder_offsets"].help_text = _(
            "Hours before an event's first session when booked learners and trainers get a reminder, "
            "separated by commas. Leave empty for the site's default, %(hours)s."
        ) % {"hours": ", ".join(str(hours) for hours in seminar_reminder_offsets(Seminar()))}

    def clean_approval_type(self):
        # Not sent (a form from before the setting existed): no approval.
        return self.cleaned_data.get("approval_type") or Seminar.ApprovalType.NONE

    def clean_reminder_offsets(self):
        text = self.cleaned_data.get("reminder_offsets", "").strip()
        validate_reminder_offsets(text)
        # Stored tidy: "24, 1", largest first.
        return ", ".join(str(hours) for hours in reminder_offsets_parse(text)) if text else ""

    def clean_name(self):
        return _require_text(self.cleaned_data.get("name"), _("Enter the seminar's name."))


class EnrolForm(forms.Form):
    """Enrol an existing user by username or email, with a role."""

    user = forms.CharField(
        label=_("Username or email"),
        max_length=254,
        error_messages={"required": _("Enter the username or email address of the person to enrol.")},
    )
    role = forms.ChoiceField(label=_("Role"), choices=Enrolment.Role.choices, initial=Enrolment.Role.LEARNER)

    def __init__(self, *args, course: Course, **kwargs):
        self.course = course
        super().__init__(*args, **kwargs)

    def clean_user(self):
        identifier = self.cleaned_data["user"].strip()
        User = get_user_model()
        matches = list(
            User.objects.filter(Q(**{User.USERNAME_FIELD: identifier}) | Q(email__iexact=identifier)).order_by("pk")[:3]
        )
        exact = [u for u in matches if u.get_username() == identifier]
        if exact:
            user = exact[0]
        elif len(matches) == 1:
            user = matches[0]
        elif len(matches) > 1:
            raise forms.ValidationError(_("Several people share that email address; enter their username instead."))
        else:
            raise forms.ValidationError(
                _("No user with the username or email “%(identifier)s”.") % {"identifier": identifier}
            )
        if not user.is_active:
            raise forms.ValidationError(
                _("The account “%(username)s” is suspended and cannot be enrolled.") % {"username": user.get_username()}
            )
        if Enrolment.objects.filter(course=self.course, user=user).exists():
            raise forms.ValidationError(
                _("%(username)s is already enrolled in this course.") % {"username": user.get_username()}
            )
        return user


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Enrolment.Role.choices)


class ProfileForm(forms.Form):
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        help_text=_(
            "Session times are shown in each session's own zone and in this one. An IANA name such as Europe/London."
        ),
        error_messages={"required": _("Enter a time zone, e.g. Europe/London or UTC.")},
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_time_zone(self):
        zone = self.cleaned_data["time_zone"].strip()
        if not is_valid_zone(zone):
            raise forms.ValidationError(
                _("“%(zone)s” is not a time zone we know. Use an IANA name such as Europe/London or America/New_York.")
                % {"zone": zone}
            )
        return zone
