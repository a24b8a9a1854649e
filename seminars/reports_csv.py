"""The columns of a sign-ups and attendance report as CSV (seminars.csv_export writes the file)."""

from django.utils.translation import gettext as _

from seminars.forms.attendance import person_name
from seminars.timezones import to_zone


def moment(value, zone: str) -> str:
    """ "2026-12-10 09:00" in `zone`; "" for none."""
    return f"{to_zone(value, zone):%Y-%m-%d %H:%M}" if value else ""


def session_results_text(results, zone: str) -> str:
    """ "2026-12-10 09:00 Fully attended (55 min); 2026-12-11 09:00 Not set": each session in order."""
    parts = []
    for result in results:
        attendance = result.attendance
        state = attendance.get_state_display() if attendance is not None and attendance.state else _("Not set")
        if attendance is not None and attendance.state and attendance.minutes is not None:
            state = _("%(state)s (%(minutes)s min)") % {"state": state, "minutes": attendance.minutes}
        parts.append(f"{moment(result.session.start, zone)} {state}")
    return "; ".join(parts)


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


def report_csv_row(row, zone: str) -> list[str]:
    """One report row (seminars.selectors.reports.ReportRow) as the cells of report_csv_header."""
    booking, change = row.booking, row.last_change
    changed_by = person_name(change.changed_by) if change is not None and change.changed_by else ""
    return [
        person_name(booking.user),
        booking.user.get_username(),
        booking.user.email,
        booking.event.seminar.name,
        str(booking.event.title),
        moment(booking.first_start, zone),
        booking.get_state_display(),
        moment(booking.created_at, zone),
        moment(change.changed_at, zone) if change is not None else "",
        changed_by,
        row.reason,
        session_results_text(row.sessions, zone),
        row.event_result_label,
    ]
