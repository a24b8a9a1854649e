"""A user's private calendar subscription link: made on first need, reset on demand."""

from seminars.models import CalendarFeed, calendar_feed_token


def calendar_feed_get_or_create(*, user) -> CalendarFeed:
    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return feed


def calendar_feed_reset(*, user) -> CalendarFeed:
    """A new token for the user's feed: the old link stops working at once."""
    feed = calendar_feed_get_or_create(user=user)
    feed.token = calendar_feed_token()
    feed.save(update_fields=["token"])
    return feed
