"""The sign-in sheet of a session: print it, confirm attendance, export it as CSV.

Only the course's trainers and site admins (seminars.permissions.require_trainer): learners get
403 and people outside the course 404, as on every page of a course.
"""

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from seminars.forms.attendance import SignInSheetForm, person_name
from seminars.permissions import require_trainer
from seminars.selectors.attendance import session_for_sheet, session_sheet_rows
from seminars.services.attendance import session_attendance_confirm, session_minutes_limit
from seminars.services.bookings import BookingError
from seminars.timezones import to_zone, viewer_zone

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@login_required
@require_http_methods(["GET", "POST"])
def session_sheet(request, pk):
    session = session_for_sheet(session_id=pk)
    event = session.event
    require_trainer(request.user, event.seminar.course)
    rows = session_sheet_rows(session=session)
    started = session.start <= timezone.now()
    form = SignInSheetForm(
        request.POST if request.method == "POST" else None, rows=rows, minutes_limit=session_minutes_limit(session)
    )
    if request.method == "POST":
        if form.is_valid():
            return _confirm(request, session, form)
        messages.error(request, _("Attendance was not saved: correct the rows marked below."))
    context = {
        "session": session,
        "event": event,
        "seminar": event.seminar,
        "course": event.seminar.course,
        "form": form,
        "started": started,
        "viewer_zone": viewer_zone(request.user),
    }
    return render(request, "seminars/attendance/sheet.html", context)


def _confirm(request, session, form):
    decisions, sources = form.decisions()
    try:
        changed = session_attendance_confirm(session=session, rows=decisions, actor=request.user, sources=sources)
    except BookingError as error:
        messages.error(request, _("Attendance was not saved: %(reason)s") % {"reason": error})
    else:
        count = len(changed)
        messages.success(
            request,
            ngettext("Attendance confirmed (%(count)d change).", "Attendance confirmed (%(count)d changes).", count)
            % {"count": count},
        )
    return redirect("seminars:session_attendance", pk=session.pk)


@login_required
@require_GET
def session_sheet_csv(request, pk):
    """The sheet as CSV in UTF-8 with a byte order mark, so spreadsheets keep accents intact."""
    session = session_for_sheet(session_id=pk)
    require_trainer(request.user, session.event.seminar.course)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("Learner"),
            _("Username"),
            _("Email"),
            _("Attendance"),
            _("Minutes"),
            _("Source"),
            _("Confirmed by"),
            _("Confirmed at (%(zone)s)") % {"zone": session.time_zone},
            _("Proposed"),
            _("Proposed minutes"),
            _("Evidence"),
        ]
    )
    for row in session_sheet_rows(session=session):
        writer.writerow([_csv_cell(value) for value in _csv_row(row, session.time_zone)])
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    start = to_zone(session.start, session.time_zone)
    name = slugify(f"attendance {session.event.seminar.name} {start:%Y-%m-%d %H%M}") or "attendance"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _csv_row(row, zone):
    user, attendance = row.booking.user, row.attendance
    if attendance is None:
        return [person_name(user), user.get_username(), user.email, "", "", "", "", "", "", "", ""]
    confirmed_by = person_name(attendance.confirmed_by) if attendance.confirmed_by else ""
    confirmed_at = f"{to_zone(attendance.confirmed_at, zone):%Y-%m-%d %H:%M}" if attendance.confirmed_at else ""
    return [
        person_name(user),
        user.get_username(),
        user.email,
        attendance.get_state_display(),
        _number(attendance.minutes),
        attendance.get_source_display(),
        confirmed_by,
        confirmed_at,
        attendance.get_proposed_state_display(),
        _number(attendance.proposed_minutes),
        attendance.get_proposed_source_display(),
    ]


def _number(value) -> str:
    return "" if value is None else str(value)


def _csv_cell(value) -> str:
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


urlpatterns = [
    path("sessions/<int:pk>/attendance/", session_sheet, name="session_attendance"),
    path("sessions/<int:pk>/attendance.csv", session_sheet_csv, name="session_attendance_csv"),
]
