"""Lists read a session's meeting only where it changes the viewer's card (virtual_room.meeting_matters): wherever
the rule says it does not, session_access gives the same card with the meeting as without it."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from seminars.models import Booking, Room
from seminars.tests.conftest import make_session
from seminars.virtual_room import meeting_matters, session_access
from virtualmeeting.models import VirtualMeeting

pytestmark = pytest.mark.django_db

STATUSES = ["pending", "creating", "ready", "updating", "failed", "waiting", "held"]


def _meetings():
    yield None
    for status, present, remote in itertools.product(STATUSES, (True, False), ("", "remote-1")):
        yield VirtualMeeting(
            reference="seminars.event:1:session:1:room:1",
            provider="test",
            status=status,
            present=present,
            remote_id=remote,
            join_url="https://meet.example.com/j/1" if remote else "",
            last_error="Refused" if status == "failed" else "",
        )


@pytest.mark.parametrize("minutes", [-24 * 60, -30, -15, -14, 0, 30, 59, 60, 120])
@pytest.mark.parametrize("cancelled", [False, True])
def test_where_the_meeting_does_not_matter_the_card_is_the_same_without_it(
    event, editing_trainer, trainer, learner, learner2, outsider, site_admin, minutes, cancelled, test_provider
):
    room = Room.objects.create(
        name="Provider room", capacity=10, event=event, virtual_kind="test", created_by=editing_trainer
    )
    now = timezone.now()
    session = make_session(event, now - timedelta(minutes=minutes), minutes=60, room=room)
    event.cancelled = cancelled
    viewers = [
        (editing_trainer, None),
        (trainer, None),
        (site_admin, None),
        (learner, Booking.State.BOOKED),
        (learner2, Booking.State.WAITLISTED),
        (outsider, None),
    ]
    checked = 0
    for user, state in viewers:
        if meeting_matters(user, session, state, now):
            continue
        without = session_access(user=user, session=session, booking_state=state, meeting=None, now=now)
        for meeting in _meetings():
            assert session_access(user=user, session=session, booking_state=state, meeting=meeting, now=now) == without
            checked += 1
    assert checked  # (an outsider's card never depends on the meeting)


def test_a_learners_dashboard_reads_meetings_only_once_a_session_is_about_to_start(
    client, event, editing_trainer, learner, test_provider, time_machine
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    room = Room.objects.create(
        name="Provider room", capacity=10, event=event, virtual_kind="test", created_by=editing_trainer
    )
    time_machine.move_to(timezone.now(), tick=False)
    session = make_session(event, timezone.now() + timedelta(days=3), minutes=60, room=room)
    Booking.objects.create(event=event, user=learner)
    client.force_login(learner)

    def meeting_queries():
        client.get(reverse("seminars:dashboard"))
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("seminars:dashboard")).content.decode()
        return [q["sql"] for q in queries.captured_queries if "virtualmeeting_" in q["sql"]], html

    found, html = meeting_queries()
    assert found == [] and "Provider room" in html

    time_machine.move_to(session.start - timedelta(minutes=10), tick=False)
    found, _html = meeting_queries()
    # The meeting (the ORM's query, or on PostgreSQL its prepared statement); no registrants.
    assert len(found) == 1 and ("virtualmeeting_virtualmeeting" in found[0] or "meetings_by_reference" in found[0])
