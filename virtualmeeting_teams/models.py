"""What the Teams provider remembers on our side."""

from django.db import models


class TeamsCreateRequest(models.Model):
    """A createOrGet sent to Graph, remembered before sending so that one whose answer was lost can be repeated.

    Graph's createOrGet returns the meeting already made for the same user and external id, so repeating the
    call with what was sent (`body`, which holds the external id) adopts the lost meeting, or makes it if the
    lost call never arrived (docs/teams-protocol.md, "createOrGet and a lost create answer").
    """

    marker = models.CharField(max_length=64, db_index=True, help_text="The framework's marker of the meeting row.")
    remote_user = models.CharField(max_length=255, help_text="The Microsoft user (id) the create was sent for.")
    body = models.JSONField(help_text="The createOrGet body as sent: externalId, subject, times.")
    sent_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.marker} {self.sent_at:%Y-%m-%d %H:%M:%S}"
