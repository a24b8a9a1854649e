"""The per-user facts every page needs (lms.userfacts): the viewer's time zone, the bell, their enrolment role in
each course, their booking state on each event, and whether they manage anyone (who may decide requests: the
"Approvals" count), and what changes them."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from lms import userfacts
from seminars.models import Booking, Enrolment, Notification, Profile
from seminars.selectors.notifications import notification_list, notification_unread_count

BELL_RECENT = 6  # notifications listed under the bell


def _zone(user) -> str:
    return Profile.objects.filter(user=user).values_list("time_zone", flat=True).first() or "UTC"


userfacts.register("zone", _zone)
userfacts.register("unread", lambda user: notification_unread_count(user=user))
userfacts.register("recent", lambda user: notification_list(user=user, limit=BELL_RECENT))
userfacts.register("roles", lambda user: dict(Enrolment.objects.filter(user=user).values_list("course_id", "role")))
userfacts.register("manages", lambda user: Profile.objects.filter(manager=user).exists())
userfacts.register("bookings", lambda user: dict(Booking.objects.filter(user=user).values_list("event_id", "state")))


@receiver(post_save, sender=Notification, dispatch_uid="seminars.viewer_facts.notification_saved")
@receiver(post_delete, sender=Notification, dispatch_uid="seminars.viewer_facts.notification_deleted")
@receiver(post_save, sender=Profile, dispatch_uid="seminars.viewer_facts.profile_saved")
@receiver(post_delete, sender=Profile, dispatch_uid="seminars.viewer_facts.profile_deleted")
@receiver(post_save, sender=Booking, dispatch_uid="seminars.viewer_facts.booking_saved")
@receiver(post_delete, sender=Booking, dispatch_uid="seminars.viewer_facts.booking_deleted")
@receiver(post_save, sender=Enrolment, dispatch_uid="seminars.viewer_facts.enrolment_saved")
@receiver(post_delete, sender=Enrolment, dispatch_uid="seminars.viewer_facts.enrolment_deleted")
def _row_changed(sender, instance, **kwargs):
    userfacts.user_changed(instance.user_id)
    if sender is Profile and instance.manager_id:
        # The new manager now manages someone. A former manager's "manages" may stay true until their next
        # change: that only costs them the count's query, never hides a request from anyone.
        userfacts.user_changed(instance.manager_id)


def notifications_changed(user_ids) -> None:
    """Bulk writes send no signals: their callers say whose notifications changed."""
    for user_id in set(user_ids):
        userfacts.user_changed(user_id)
