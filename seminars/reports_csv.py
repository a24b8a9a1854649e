"""The columns of a sign-ups and attendance report as CSV (seminars.csv_export writes the file).

A report can have thousands of rows: the labels are translated and the zone is loaded once per file,
not once per cell (the page benchmark measured gettext as the largest cost per row otherwise).
"""

from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from seminars.forms.attendance import person_name
from seminars.models import Booking, SessionAttendance


def report_csv_header(zone: str) -> list[str]:
    in_zone = {"zone": zone}
    return [
        _("Learner"),
        _("Username"),
        _("Email"),
        _("Seminar"),
        _("Event"),
        _("First session (%(zone)s)") % in_zone,
        _("State"),
        _("Signed up (%(zone)s)") % in_zone,
        _("Last change (%(zone)s)") % in_zone,
        _("Changed by"),
        _("Reason"),
        _("Attendance per session (%(zone)s)") % in_zone,
        _("Event attendance"),
    ]


def report_csv_rows(rows: Iterable, zone: str) -> Iterator[list[str]]:
    """Each report row (seminars.selectors.reports.ReportRow) as the cells of report_csv_header."""
    tz = ZoneInfo(zone)
    states = {value: str(label) for value, label in Booking.State.choices}
    session_states = {value: str(label) for value, label in SessionAttendance.STATE_CHOICES}
    not_set, with_minutes = _("Not set"), _("%(state)s (%(minutes)s min)")

    def moment(value) -> str:
        """ "2026-12-10 09:00" in the zone; "" for none."""
        return value.astimezone(tz).isoformat(" ", "minutes")[:16] if value else ""

    def session_text(result) -> str:
        attendance = result.attendance
        if attendance is None or not attendance.state:
            return f"{moment(result.session.start)} {not_set}"
        state = session_states.get(attendance.state, attendance.state)
        if attendance.minutes is not None:
            state = with_minutes % {"state": state, "minutes": attendance.minutes}
        return f"{moment(result.session.start)} {state}"

    for row in rows:
        booking, change = row.booking, row.last_change
        changed_by = person_name(change.changed_by) if change is not None and change.changed_by else ""
        yield [
            person_name(booking.user),
            booking.user.get_username(),
            booking.user.email,
            booking.event.seminar.name,
            str(booking.event.title),
            moment(booking.first_start),
            states.get(booking.state, booking.state),
            moment(booking.created_at),
            moment(change.changed_at) if change is not None else "",
            changed_by,
            row.reason,
            "; ".join(session_text(result) for result in row.sessions),
            states.get(row.event_result, "") if row.event_result else "",
        ]
