"""All seminar pages. Each views module owns its routes."""

from seminars.views import (
    approvals,
    attendance,
    attendees,
    bookings,
    calendar,
    courses,
    email_templates,
    events,
    handovers,
    reports,
    virtual,
)

app_name = "seminars"

urlpatterns = [
    *courses.urlpatterns,
    *events.urlpatterns,
    *bookings.urlpatterns,
    *attendance.urlpatterns,
    *attendees.urlpatterns,
    *approvals.urlpatterns,
    *virtual.urlpatterns,
    *handovers.urlpatterns,
    *reports.urlpatterns,
    *calendar.urlpatterns,
    *email_templates.urlpatterns,
]
