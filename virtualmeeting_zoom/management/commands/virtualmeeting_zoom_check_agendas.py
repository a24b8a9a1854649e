"""Put the event details back into the agenda of every upcoming Zoom meeting that differs.

    python manage.py virtualmeeting_zoom_check_agendas

Meetings made by earlier versions carry an internal marker (`vm-<32 hex>`) at the end of their
agenda, which attendees read in Zoom's invitation. Run once after upgrading: each upcoming Zoom
meeting is marked for a check, as a `meeting.updated` webhook would; the worker reads it (a GET,
nothing of the daily budget) and only a meeting whose agenda, topic or times differ gets an update
(one of the host's 100 create/update requests a day; beyond that it waits, visibly).
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from virtualmeeting.models import VirtualMeeting
from virtualmeeting.services import meeting_mark_remote_changed


class Command(BaseCommand):
    help = "Check every upcoming Zoom meeting at Zoom and restore its agenda (and details) where it differs."

    def handle(self, *args, **options):
        upcoming = (
            VirtualMeeting.objects.filter(provider="zoom", present=True, finish__gt=timezone.now())
            .exclude(remote_id="")
            .values_list("remote_id", flat=True)
            .distinct()
        )
        marked = sum(meeting_mark_remote_changed(provider="zoom", remote_id=remote_id) for remote_id in upcoming)
        self.stdout.write(f"{marked} upcoming Zoom meeting(s) will be checked by the worker.")
