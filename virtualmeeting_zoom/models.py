"""Shared counters for Zoom's limits (kept in the database so every worker on every machine sees them)."""

from django.db import models


class ZoomDailyUsage(models.Model):
    """Meeting create + update requests sent for one Zoom user on one UTC day (Zoom allows 100)."""

    zoom_user_id = models.CharField(max_length=255)
    day = models.DateField(help_text="UTC day.")
    count = models.PositiveIntegerField(default=0)
    # Zoom refused with a Retry-After: nothing is sent for this user before then, and counting starts
    # again from then (Zoom's answer wins over our count, whichever way it points).
    resumes_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["zoom_user_id", "day"], name="zoom_daily_usage_unique")]

    def __str__(self):
        return f"{self.zoom_user_id} {self.day}: {self.count}"


class ZoomRateBucket(models.Model):
    """A per-second token bucket, used when no Redis is configured (REDIS_URL empty)."""

    key = models.CharField(max_length=255, unique=True)
    tokens = models.FloatField()
    updated = models.FloatField(help_text="Unix time of the last refill.")

    def __str__(self):
        return f"{self.key}: {self.tokens:.2f}"


class ZoomCreateRequest(models.Model):
    """A meeting create sent to Zoom, remembered so that one whose answer was lost can be found again.

    Nothing of ours goes into the meeting itself (its agenda is in the invitation attendees read):
    `ZoomProvider.find_meeting` recognises the meeting by what was sent and when Zoom made it.
    """

    marker = models.CharField(max_length=64, db_index=True, help_text="The framework's marker of the meeting row.")
    zoom_user_id = models.CharField(max_length=255, help_text="The host the create was sent for.")
    topic = models.CharField(max_length=200)
    start = models.DateTimeField()
    duration = models.PositiveIntegerField(help_text="Minutes.")
    sent_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.marker} {self.sent_at:%Y-%m-%d %H:%M:%S}"
