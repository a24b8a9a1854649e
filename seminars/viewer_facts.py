"""The header's per-user facts (lms.userfacts): the viewer's time zone and the bell, and what changes them."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from lms import userfacts
from seminars.models import Notification, Profile
from seminars.selectors.notifications import notification_list, notification_unread_count

BELL_RECENT = 6  # notifications listed under the bell


def _zone(user) -> str:
    return Profile.objects.filter(user=user).values_list("time_zone", flat=True).first() or "UTC"


userfacts.register("zone", _zone)
userfacts.register("unread", lambda user: notification_unread_count(user=user))
userfacts.register("recent", lambda user: notification_list(user=user, limit=BELL_RECENT))


@receiver(post_save, sender=Notification, dispatch_uid="seminars.viewer_facts.notification_saved")
@receiver(post_delete, sender=Notification, dispatch_uid="seminars.viewer_facts.notification_deleted")
@receiver(post_save, sender=Profile, dispatch_uid="seminars.viewer_facts.profile_saved")
@receiver(post_delete, sender=Profile, dispatch_uid="seminars.viewer_facts.profile_deleted")
def _row_changed(sender, instance, **kwargs):
    userfacts.user_changed(instance.user_id)


def notifications_changed(user_ids) -> None:
    """Bulk writes send no signals: their callers say whose notifications changed."""
    for user_id in set(user_ids):
        userfacts.user_changed(user_id)
