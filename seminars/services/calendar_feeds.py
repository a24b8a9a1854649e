"""A user's private calendar subscription link: made when they ask for it (a POST), reset on demand."""

from seminars.models import CalendarFeed, calendar_feed_token


def calendar_feed_get_or_create(*, user) -> CalendarFeed:
    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return feed


def calendar_feed_of(user) -> CalendarFeed | None:
    """The user's feed, if they made one (reading never makes one)."""
    return CalendarFeed.objects.filter(user=user).first()


def calendar_feed_reset(*, user) -> CalendarFeed:
    """A new token for the user's feed: the old link stops working at once."""
    feed = calendar_feed_get_or_create(user=user)
    feed.token = calendar_feed_token()
    feed.save(update_fields=["token"])
    return feed
