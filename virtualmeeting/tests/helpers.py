"""Small helpers shared by the virtualmeeting tests."""

from datetime import timedelta

from virtualmeeting.models import VirtualMeeting
from virtualmeeting.services import meeting_put
from virtualmeeting.sync import meeting_sync
from virtualmeeting.tests.conftest import START


def put(
    owner,
    reference="ref:1",
    *,
    topic="Safety training: Session 1",
    start=START,
    minutes=60,
    zone="Europe/London",
    agenda="",
    personal_links=False,
):
    return meeting_put(
        reference=reference,
        provider="test",
        owner=owner,
        topic=topic,
        start=start,
        finish=start + timedelta(minutes=minutes),
        time_zone=zone,
        agenda=agenda,
        personal_links=personal_links,
    )


def run(meeting):
    """One delivery of the sync task for the meeting, run in this process."""
    return meeting_sync(meeting.pk)


def fresh(meeting):
    return VirtualMeeting.objects.get(pk=meeting.pk)
