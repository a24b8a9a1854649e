"""The sign-in sheet of a session: print it, confirm attendance, export it as CSV.

Only the course's trainers and site admins (seminars.permissions.require_trainer): learners get
403 and people outside the course 404, as on every page of a course.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from seminars.csv_export import csv_filename, csv_response
from seminars.forms.attendance import ParticipantMatchForm, SignInSheetForm, person_name
from seminars.permissions import require_trainer
from seminars.selectors.attendance import session_for_sheet, sign_in_sheet
from seminars.services.attendance import (
    participant_match_clear,
    participant_match_set,
    session_attendance_confirm,
    session_minutes_limit,
)
from seminars.services.bookings import BookingError
from seminars.timezones import to_zone, viewer_zone
from virtualmeeting.participation import provider_polls
from virtualmeeting.selectors import service_name


@login_required
@require_http_methods(["GET", "POST"])
def session_sheet(request, pk):
    session = session_for_sheet(session_id=pk)
    event = session.event
    require_trainer(request.user, event.seminar.course)
    sheet = sign_in_sheet(session=session)
    now = timezone.now()
    form = SignInSheetForm(
        request.POST if request.method == "POST" else None,
        rows=sheet.rows,
        minutes_limit=session_minutes_limit(session),
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
        "sheet": sheet,
        "match_forms": [
            (group, ParticipantMatchForm(rows=sheet.rows, participant=group, auto_id=f"id_p{index}_%s"))
            for index, group in enumerate(sheet.unmatched)
        ],
        "notice": participation_notice(sheet.participation, session=session, now=now),
        "started": session.start <= now,
        "viewer_zone": viewer_zone(request.user),
    }
    return render(request, "seminars/attendance/sheet.html", context)


def participation_notice(participation, *, session, now) -> tuple[str, str]:
    """(CSS class, words) about the meeting's participant data on the sheet; ("", "") when nothing to say.

    Nothing before the session ends, for a session without a provider meeting, or for a provider
    that reports no participants; then whether the provider has sent the participants, when it is
    asked next, or why it gave up.
    """
    if not participation.provider or not provider_polls(participation.provider) or session.finish > now:
        return "", ""
    service = service_name(participation.provider)
    next_check = participation.next_check_at
    when = f"{to_zone(next_check, session.time_zone):%H:%M} ({session.time_zone})" if next_check else ""
    if participation.reported:
        if not next_check:
            return "", ""
        text = _("Times so far come from %(service)s's live events; its final list is checked at %(when)s.")
        return "notice-info", text % {"service": service, "when": when}
    if participation.poll_error:
        text = _("%(service)s's participants could not be fetched: %(reason)s Take attendance by hand.")
        return "notice-danger", text % {"service": service, "reason": participation.poll_error}
    if next_check:
        text = _("%(service)s has not sent the participants yet; next check at %(when)s.")
        return "notice-warning", text % {"service": service, "when": when}
    return "notice-warning", _("%(service)s has not sent the participants yet.") % {"service": service}


@login_required
@require_POST
def session_participant_match(request, pk):
    """Match a meeting participant nobody matched to a booked learner, ignore it, or undo that."""
    session = session_for_sheet(session_id=pk)
    require_trainer(request.user, session.event.seminar.course)
    sheet = sign_in_sheet(session=session)
    form = ParticipantMatchForm(request.POST, rows=sheet.rows)
    undo = "undo" in request.POST
    if undo:
        form.fields["match"].required = False
    if not form.is_valid():
        reason = " ".join(str(error) for errors in form.errors.values() for error in errors)
        messages.error(request, _("The participant was not matched: %(reason)s") % {"reason": reason})
        return redirect("seminars:session_attendance", pk=session.pk)
    where = {
        "session": session,
        "occurrence": form.cleaned_data["occurrence"],
        "participant_key": form.cleaned_data["participant_key"],
        "actor": request.user,
    }
    try:
        if undo:
            participant_match_clear(**where)
        else:
            participant_match_set(**where, booking_id=form.booking_id())
    except BookingError as error:
        messages.error(request, _("The participant was not matched: %(reason)s") % {"reason": error})
    else:
        messages.success(request, _message_after_match(undo, form))
    return redirect("seminars:session_attendance", pk=session.pk)


def _message_after_match(undo, form) -> str:
    if undo:
        return _("The participant is unmatched again.")
    if form.booking_id() is None:
        return _("The participant is ignored.")
    name = dict(form.fields["match"].choices)[form.cleaned_data["match"]]
    return _("The participant now counts for %(name)s.") % {"name": name}


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
    header = [
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
        _("Joined and left (%(zone)s)") % {"zone": session.time_zone},
    ]
    rows = [
        [*_csv_row(row, session.time_zone), intervals_text(row.intervals, session.time_zone)]
        for row in sign_in_sheet(session=session).rows
    ]
    start = to_zone(session.start, session.time_zone)
    filename = csv_filename("attendance", session.event.seminar.name, f"{start:%Y-%m-%d %H%M}")
    return csv_response(filename=filename, header=header, rows=rows, streamed=False)


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


def intervals_text(intervals, zone) -> str:
    """ "10:02–10:40; 10:45–11:00" in the session's zone; an interval still open ends with "–"."""
    parts = []
    for joined, left in intervals:
        end = f"{to_zone(left, zone):%H:%M}" if left else ""
        parts.append(f"{to_zone(joined, zone):%H:%M}–{end}")
    return "; ".join(parts)


def _number(value) -> str:
    return "" if value is None else str(value)


urlpatterns = [
    path("sessions/<int:pk>/attendance/", session_sheet, name="session_attendance"),
    path("sessions/<int:pk>/attendance.csv", session_sheet_csv, name="session_attendance_csv"),
    path("sessions/<int:pk>/attendance/participants/", session_participant_match, name="session_participant_match"),
]
