"""The header bell and the notifications page."""

from seminars.models import Notification


def notification_unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_list(*, user, limit: int) -> list[Notification]:
    """The user's newest notifications first."""
    return list(Notification.objects.filter(user=user).order_by("-created_at", "-pk")[:limit])
