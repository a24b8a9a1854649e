"""The attendance form (one choice per booked learner) and the cancellation reason form."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from seminars.models import Booking
from seminars.validators import REASON_MAX_LENGTH, validate_multi_line

ATTENDANCE_FORM_ID = "attendance-form"
NOT_TAKEN = ""
ATTENDANCE_CHOICES = [(NOT_TAKEN, gettext_lazy("Not taken"))] + [
    (state.value, state.label) for state in Booking.ATTENDANCE_STATES
]


def attendance_field_name(booking) -> str:
    return f"booking_{booking.pk}"


class AttendanceForm(forms.Form):
    """One field per booked learner. "Not taken" leaves a booking as it is.

    `bookings` are the event's bookings holding a seat (booked or already marked).
    """

    def __init__(self, *args, bookings, **kwargs):
        super().__init__(*args, **kwargs)
        self.bookings = list(bookings)
        for booking in self.bookings:
            name = booking.user.get_full_name() or booking.user.get_username()
            current = booking.state if booking.state in Booking.ATTENDANCE_STATES else NOT_TAKEN
            self.fields[attendance_field_name(booking)] = forms.ChoiceField(
                label=name,
                # Once marked, attendance can change but not go back to "not taken".
                choices=ATTENDANCE_CHOICES if current == NOT_TAKEN else ATTENDANCE_CHOICES[1:],
                initial=current,
                required=False,
                # The selects sit in the attendee table, which also holds per-row cancel forms.
                widget=forms.Select(
                    attrs={"form": ATTENDANCE_FORM_ID, "aria-label": _("Attendance of %(name)s") % {"name": name}}
                ),
            )

    def rows(self):
        """(booking, bound field) pairs, in the order of the attendee list."""
        return [(booking, self[attendance_field_name(booking)]) for booking in self.bookings]

    def changes(self):
        """(booking, new state) for every booking whose attendance was set to a different state."""
        result = []
        for booking in self.bookings:
            state = self.cleaned_data.get(attendance_field_name(booking)) or NOT_TAKEN
            if state != NOT_TAKEN and state != booking.state:
                result.append((booking, state))
        return result


class CancellationReasonForm(forms.Form):
    """The reason asked when a booking or an event is cancelled: optional, or required when
    the site sets SEMINARS_CANCELLATION_REASON_REQUIRED."""

    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=REASON_MAX_LENGTH,
        validators=[validate_multi_line],
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Give a reason for the cancellation.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        required = settings.SEMINARS_CANCELLATION_REASON_REQUIRED
        self.fields["reason"].required = required
        self.fields["reason"].help_text = (
            gettext_lazy("Kept in the booking history and quoted in the cancellation email.")
            if required
            else gettext_lazy("Optional; kept in the booking history and quoted in the cancellation email.")
        )
