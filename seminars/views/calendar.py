"""The private calendar feed (no login: the token in the address is the credential) and its reset."""

from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from seminars import ical
from seminars.models import CalendarFeed
from seminars.outbox import absolute_url
from seminars.selectors.calendar import feed_entries
from seminars.services.calendar_feeds import calendar_feed_of, calendar_feed_reset


def feed_item(entry) -> SimpleNamespace:
    """What the feed says of one session: the event page, and our own join address for a virtual room.

    Never the provider's meeting link: the feed is copied into calendar apps and
    shared calendars. Our join address checks the booking and opens 15 minutes
    before the session.
    """
    session, event = entry.session, entry.event
    summary = f"{event.seminar.name}: {event.title}"
    url = absolute_url(event.get_absolute_url())
    lines = [summary, _("Event page: %(url)s") % {"url": url}]
    if session.room is not None and session.room.virtual_kind and not entry.cancelled:
        join = absolute_url(reverse("seminars:virtual_join", args=[session.pk]))
        lines += [
            _("Join online: %(url)s") % {"url": join},
            _("The join link opens 15 minutes before the session starts; sign in to use it."),
        ]
    return SimpleNamespace(
        session=session,
        summary=summary,
        description="\n".join(lines),
        url=url,
        cancelled=entry.cancelled,
        sequence=entry.sequence,
    )


@require_GET
def calendar_feed(request, token):
    # A deactivated account's link stops working with the account.
    feed = get_object_or_404(CalendarFeed.objects.select_related("user"), token=token, user__is_active=True)
    entries = feed_entries(user=feed.user, now=timezone.now())
    body = ical.feed_calendar(name=_("Seminars"), entries=[feed_item(entry) for entry in entries])
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
@require_POST
def calendar_feed_reset_view(request):
    """Make the user's link (the first time) or replace it (the old one stops working)."""
    had_one = calendar_feed_of(request.user) is not None
    calendar_feed_reset(user=request.user)
    if had_one:
        messages.success(
            request, _("Your calendar link was reset: the old link no longer works. Subscribe again with the new one.")
        )
    else:
        messages.success(request, _("Your calendar link is ready: copy it into your calendar app."))
    return redirect(reverse("seminars:profile") + "#calendar-feed")


def calendar_feed_url(request, feed) -> str:
    """The feed's address as the user reaches this site."""
    return request.build_absolute_uri(reverse("seminars:calendar_feed", args=[feed.token]))


urlpatterns = [
    path("calendar/<slug:token>.ics", calendar_feed, name="calendar_feed"),
    path("calendar/reset/", calendar_feed_reset_view, name="calendar_feed_reset"),
]
