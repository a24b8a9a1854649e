"""The sign-in sheet of a session: a state and minutes per booked learner, pre-filled from the data."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from seminars.models import AttendanceSource, SessionAttendance

NOT_SET = ""
ATTENDANCE_STATES = {value for value, _label in SessionAttendance.STATE_CHOICES}


def person_name(user) -> str:
    return user.get_full_name() or user.get_username()


class SignInSheetForm(forms.Form):
    """Two fields per row of seminars.selectors.attendance.session_sheet_rows: state and minutes.

    A row shows the confirmed decision, else the proposal when it is a state (a "present, minutes
    unknown" proposal leaves the choice to the trainer). A confirmed row cannot go back to "not set".
    """

    def __init__(self, *args, rows, minutes_limit, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        bounds = gettext("Enter minutes from 0 to %(limit)s (the session with its grace time).") % {
            "limit": minutes_limit
        }
        for row in rows:
            attendance, name = row.attendance, person_name(row.booking.user)
            confirmed = attendance is not None and attendance.is_confirmed
            state, minutes = _initial(attendance)
            self.fields[self.state_name(row)] = forms.ChoiceField(
                label=name,
                choices=SessionAttendance.STATE_CHOICES
                if confirmed
                else [(NOT_SET, _("Not set"))] + SessionAttendance.STATE_CHOICES,
                initial=state,
                required=False,
                widget=forms.Select(attrs={"aria-label": gettext("Attendance of %(name)s") % {"name": name}}),
            )
            self.fields[self.minutes_name(row)] = forms.IntegerField(
                label=gettext("Minutes of %(name)s") % {"name": name},
                required=False,
                min_value=0,
                max_value=minutes_limit,
                initial=minutes,
                error_messages={
                    "invalid": _("Enter a whole number of minutes."),
                    "min_value": bounds,
                    "max_value": bounds,
                },
                widget=forms.NumberInput(
                    attrs={"class": "minutes-input", "aria-label": gettext("Minutes of %(name)s") % {"name": name}}
                ),
            )

    @staticmethod
    def state_name(row) -> str:
        return f"state_{row.booking.pk}"

    @staticmethod
    def minutes_name(row) -> str:
        return f"minutes_{row.booking.pk}"

    def clean(self):
        cleaned = super().clean()
        for row in self.rows:
            if not cleaned.get(self.state_name(row)) and cleaned.get(self.minutes_name(row)) is not None:
                self.add_error(
                    self.minutes_name(row), _("Choose the learner's attendance, or leave the minutes empty.")
                )
        return cleaned

    def fields_of(self):
        """(row, state field, minutes field) for the template, in the sheet's order."""
        return [(row, self[self.state_name(row)], self[self.minutes_name(row)]) for row in self.rows]

    def decisions(self):
        """({booking id: (state, minutes)}, {booking id: source}) for session_attendance_confirm.

        Rows left "not set" are not confirmed. The source is the evidence's when the trainer kept
        the proposal, the earlier one when the decision is unchanged, else "set by hand".
        """
        rows, sources = {}, {}
        for row in self.rows:
            state = self.cleaned_data.get(self.state_name(row)) or NOT_SET
            if state == NOT_SET:
                continue
            minutes = self.cleaned_data.get(self.minutes_name(row))
            rows[row.booking.pk] = (state, minutes)
            sources[row.booking.pk] = _source(row.attendance, state, minutes)
        return rows, sources


def _initial(attendance):
    if attendance is None:
        return NOT_SET, None
    if attendance.is_confirmed:
        return attendance.state, attendance.minutes
    if attendance.proposed_state in ATTENDANCE_STATES:
        return attendance.proposed_state, attendance.proposed_minutes
    return NOT_SET, attendance.proposed_minutes


def _source(attendance, state, minutes) -> str:
    if attendance is None:
        return AttendanceSource.MANUAL
    if attendance.is_confirmed and (attendance.state, attendance.minutes) == (state, minutes):
        return attendance.source
    if attendance.proposed_source and (attendance.proposed_state, attendance.proposed_minutes) == (state, minutes):
        return attendance.proposed_source
    return AttendanceSource.MANUAL


IGNORE = "ignore"


class ParticipantMatchForm(forms.Form):
    """A trainer matches one meeting participant to a booked learner, or ignores it (sheet's "Match")."""

    occurrence = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)
    participant_key = forms.CharField(max_length=255, widget=forms.HiddenInput)
    match = forms.ChoiceField(
        label=_("Match to learner"),
        error_messages={
            "required": _("Choose the learner this participant is, or ignore them."),
            "invalid_choice": _("Choose a learner booked on this event, or ignore the participant."),
        },
    )

    def __init__(self, *args, rows, participant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["match"].choices = [
            ("", _("Choose…")),
            *[(str(row.booking.pk), person_name(row.booking.user)) for row in rows],
            (IGNORE, _("Ignore this participant")),
        ]
        if participant is not None:
            self.initial.update(occurrence=participant.occurrence, participant_key=participant.participant_key)
            self.fields["match"].widget.attrs["aria-label"] = gettext("Match %(name)s to") % {
                "name": participant.name or gettext("this participant")
            }

    def booking_id(self) -> int | None:
        """The chosen booking's id, or None to ignore the participant."""
        choice = self.cleaned_data["match"]
        return None if choice == IGNORE else int(choice)
