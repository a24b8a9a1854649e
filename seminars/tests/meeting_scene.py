"""A session held in a provider meeting that has taken place, and the framework calls that report it.

The participation goes through virtualmeeting's own services (the ones Zoom's webhook task and the
reconcile poll call), so each change reaches seminars through `participation_updated` after commit,
as in production.
"""

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from seminars.meetings import meeting_reference
from seminars.models import Room
from seminars.services.bookings import booking_create
from virtualmeeting.models import MeetingRegistrant, ProviderConfig, VirtualMeeting
from virtualmeeting.participation import occurrence_record, participant_joined, participant_left
from virtualmeeting.providers.base import ParticipantRecord
from virtualmeeting.providers.testing import TestProvider

TEST_PROVIDER = "virtualmeeting.providers.testing.TestProvider"
UUID = "occurrence-1=="


@dataclass
class Scene:
    session: object
    meeting: VirtualMeeting
    room: Room
    bookings: dict  # username -> Booking
    run_on_commit: object  # django_capture_on_commit_callbacks

    @property
    def t0(self):
        return self.session.start

    def at(self, minutes):
        return self.t0 + timedelta(minutes=minutes)

    def register(self, username, remote_id=None):
        # remote_id "": a row the provider has not registered yet.
        """The learner's personal link, as the registrants sync leaves it (key "booking:<id>")."""
        booking = self.bookings[username]
        return MeetingRegistrant.objects.create(
            meeting=self.meeting,
            key=f"booking:{booking.pk}",
            user=booking.user,
            first_name=booking.user.first_name,
            remote_id=f"reg-{username}" if remote_id is None else remote_id,
            status=MeetingRegistrant.Status.REGISTERED,
        )

    def joined(self, key, minutes, *, name="", email="", registrant_id="", uuid=UUID):
        record = ParticipantRecord(
            participant_key=key, name=name, email=email, registrant_id=registrant_id, joined_at=self.at(minutes)
        )
        with self.run_on_commit(execute=True):
            participant_joined(provider="test", remote_id=self.meeting.remote_id, uuid=uuid, record=record)

    def left(self, key, joined, minutes, *, name="", email="", registrant_id="", uuid=UUID):
        record = ParticipantRecord(
            participant_key=key,
            name=name,
            email=email,
            registrant_id=registrant_id,
            joined_at=self.at(joined),
            left_at=self.at(minutes),
        )
        with self.run_on_commit(execute=True):
            participant_left(provider="test", remote_id=self.meeting.remote_id, uuid=uuid, record=record)

    def stay(self, key, joined, minutes, **person):
        """One whole interval: a join and its leave."""
        self.joined(key, joined, **person)
        self.left(key, joined, minutes, **person)

    def ended(self, minutes=61, uuid=UUID):
        with self.run_on_commit(execute=True):
            occurrence_record(
                provider="test",
                remote_id=self.meeting.remote_id,
                uuid=uuid,
                started_at=self.at(0),
                ended_at=self.at(minutes),
            )


def enable_test_provider(settings):
    settings.VIRTUALMEETING = {"PROVIDERS": [TEST_PROVIDER]}
    TestProvider.reset()
    ProviderConfig.objects.update_or_create(provider="test", defaults={"enabled": True})


def held_session(*, event, owner, learners, run_on_commit, zone="Europe/London", ago=timedelta(hours=3)):
    """The event's session moved to `ago` before now (one hour long, in `zone`), in a provider room of
    `owner` with an available meeting; each of `learners` booked on the event."""
    event.capacity = max(event.capacity, len(learners) + 5)
    event.save()
    session = event.sessions.get()
    start = (timezone.now() - ago).astimezone(ZoneInfo(zone)).replace(second=0, microsecond=0)
    bookings = {user.username: booking_create(event=event, user=user, actor=user) for user in learners}
    room = Room.objects.create(name="Online", capacity=20, event=event, virtual_kind="test", created_by=owner)
    session.room, session.start, session.finish, session.time_zone = room, start, start + timedelta(hours=1), zone
    session.save()
    meeting = VirtualMeeting.objects.create(
        reference=meeting_reference(session, room),
        provider="test",
        owner=owner,
        status="available",
        remote_id="9001",
        join_url="https://meet.test/j/9001",
        start=session.start,
        finish=session.finish,
        time_zone=zone,
    )
    return Scene(session=session, meeting=meeting, room=room, bookings=bookings, run_on_commit=run_on_commit)
