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
