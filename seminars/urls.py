"""All seminar pages. Each views module owns its routes (courses, events and rooms, bookings)."""

from seminars.views import bookings, courses, events

app_name = "seminars"

urlpatterns = [*courses.urlpatterns, *events.urlpatterns, *bookings.urlpatterns]
