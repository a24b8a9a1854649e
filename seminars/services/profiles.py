"""A user's own preferences and the read state of their notifications."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lms.userfacts import forget_memo
from seminars.models import Notification, Profile
from seminars.timezones import is_valid_zone
from seminars.viewer_facts import notifications_changed


@transaction.atomic
def profile_update(*, user, time_zone: str) -> Profile:
    """Set the zone the user reads times in (beside each session's own zone)."""
    if not is_valid_zone(time_zone):
        raise ValidationError({"time_zone": _("Unknown time zone %(zone)s.") % {"zone": repr(time_zone)}})
    profile, _created = Profile.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
    forget_memo(user)
    return profile


def notifications_mark_read(*, user, notification_ids=None) -> int:
    """Mark the user's unread notifications (or just `notification_ids`) read; returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    changed = unread.update(read_at=timezone.now())
    if changed:
        notifications_changed([user.pk])
        forget_memo(user)  # this request's header shows the new count
    return changed
