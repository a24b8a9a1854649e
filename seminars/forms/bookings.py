"""The attendance form: one choice per booked learner."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from seminars.models import Booking

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
