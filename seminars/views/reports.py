"""Sign-ups and attendance reports of an event, a seminar and a course, on a page and as CSV.

For the course's trainers and site admins (seminars.permissions.require_trainer: learners get 403,
people outside the course 404). The reading is seminars.selectors.reports'; the CSV columns are
seminars.reports_csv's. Filters that do not validate show their messages next to the fields (400)
and no rows, in the page and for the CSV alike: an export is never of something else than asked.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from seminars.csv_export import csv_filename, csv_response
from seminars.forms.reports import ReportFilterForm
from seminars.permissions import require_trainer
from seminars.reports_csv import report_csv_header, report_csv_rows
from seminars.selectors.reports import (
    Scope,
    report_all_rows,
    report_bookings,
    report_events,
    report_page,
    report_scope,
    report_sessions,
)
from seminars.timezones import to_zone, viewer_zone

# The sortable columns of the page, in order: (sort key, heading).
SORTABLE = {
    "learner": _("Learner"),
    "username": _("Username"),
    "email": _("Email"),
    "event": _("Event"),
    "start": _("First session"),
    "state": _("State"),
    "signed_up": _("Signed up"),
    "changed": _("Last change"),
}


def _prepare(request, kind, pk):
    scope = report_scope(kind=kind, pk=pk)
    require_trainer(request.user, scope.course)
    zone = viewer_zone(request.user)
    form = ReportFilterForm(request.GET, events=report_events(scope), zone=zone)
    return scope, zone, form


def _report(request, kind, pk):
    scope, zone, form = _prepare(request, kind, pk)
    context = {
        "scope": scope,
        "form": form,
        "viewer_zone": zone,
        "sessions": report_sessions(scope),
        "csv_url": _url(scope, "csv", request.GET, drop=("page",)),
        "filters_query": _query(request.GET, drop=("page",)),
    }
    if not form.is_valid():
        return render(request, "seminars/reports/page.html", context, status=400)
    filters = form.filters()
    report = report_page(report_bookings(scope, filters, zone=zone), page=request.GET.get("page", 1))
    context.update(report=report, headings=_headings(scope, filters, request.GET))
    return render(request, "seminars/reports/page.html", context)


def _report_csv(request, kind, pk):
    scope, zone, form = _prepare(request, kind, pk)
    if not form.is_valid():
        context = {"scope": scope, "form": form, "viewer_zone": zone, "sessions": report_sessions(scope)}
        return render(request, "seminars/reports/page.html", context, status=400)
    bookings = report_bookings(scope, form.filters(), zone=zone)
    today = f"{to_zone(timezone.now(), zone):%Y-%m-%d}"
    return csv_response(
        filename=csv_filename("report", scope.name, today),
        header=report_csv_header(zone),
        rows=report_csv_rows(report_all_rows(bookings), zone),
    )


def _query(params, *, drop=(), **values) -> str:
    query = params.copy()
    for key in drop:
        query.pop(key, None)
    for key, value in values.items():
        query[key] = value
    return query.urlencode()


def _url(scope, suffix, params, **kwargs) -> str:
    name = f"seminars:{scope.kind}_report{'_csv' if suffix == 'csv' else ''}"
    pk = {Scope.EVENT: scope.event, Scope.SEMINAR: scope.seminar, Scope.COURSE: scope.course}[scope.kind].pk
    query = _query(params, **kwargs)
    return reverse(name, args=[pk]) + (f"?{query}" if query else "")


def _headings(scope, filters, params) -> list[dict]:
    """The sortable headings: each links to its sort, the other way round when it is the current one."""
    headings = []
    for key, label in SORTABLE.items():
        if key == "event" and scope.kind == Scope.EVENT:
            continue
        current = filters.sort == key
        sort = f"-{key}" if current and not filters.descending else key
        headings.append(
            {
                "key": key,
                "label": label,
                "query": _query(params, drop=("page",), sort=sort),
                "aria_sort": ("descending" if filters.descending else "ascending") if current else "",
            }
        )
    return headings


def _view(kind, csv=False):
    target = _report_csv if csv else _report

    @login_required
    @require_GET
    def view(request, pk):
        return target(request, kind, pk)

    view.__name__ = f"{kind}_report{'_csv' if csv else ''}"
    view.__doc__ = f"The {kind}'s sign-ups and attendance report{' as CSV (all pages)' if csv else ''}."
    return view


urlpatterns = [
    path("events/<int:pk>/report/", _view(Scope.EVENT), name="event_report"),
    path("events/<int:pk>/report.csv", _view(Scope.EVENT, csv=True), name="event_report_csv"),
    path("seminars/<int:pk>/report/", _view(Scope.SEMINAR), name="seminar_report"),
    path("seminars/<int:pk>/report.csv", _view(Scope.SEMINAR, csv=True), name="seminar_report_csv"),
    path("courses/<int:pk>/report/", _view(Scope.COURSE), name="course_report"),
    path("courses/<int:pk>/report.csv", _view(Scope.COURSE, csv=True), name="course_report_csv"),
]
