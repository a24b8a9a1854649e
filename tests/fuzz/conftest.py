"""The scene every fuzz test plays in: the cast, a course with events in every state, rooms of
every kind, bookings, a notification, Zoom set up with a connected trainer and a meeting, and a
second course the editing trainer has no rights on (its rows must never change)."""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import responses
from django.contrib.auth.models import User
from django.utils import timezone

from seminars.meetings import meeting_reference
from seminars.models import (
    Booking,
    Course,
    Enrolment,
    HandoverRoom,
    Notification,
    Room,
    RoomHandover,
    Seminar,
    SeminarEvent,
    Session,
)
from seminars.tests.conftest import enrol, make_site_admin, make_user
from virtualmeeting.models import (
    MeetingOccurrence,
    MeetingParticipant,
    ProviderConfig,
    ProviderConnection,
    VirtualMeeting,
)

WEBHOOK_SECRET = "fuzz-webhook-secret-token"
ZOOM_USER_ID = "KDcuGIm1QgePTO8WbOqwIQ"
MEETING_ID = "85746065432"


@dataclass(repr=False)
class Scene:
    admin: User
    editor: User
    trainer: User
    learner: User
    waitlisted: User
    outsider: User
    course: Course
    other_course: Course
    seminar: Seminar
    event: SeminarEvent  # a week ahead, full (capacity 1), one learner booked and one waitlisted
    started_event: SeminarEvent  # in progress: attendance can be taken
    cancelled_event: SeminarEvent
    other_event: SeminarEvent  # in other_course
    site_room: Room
    adhoc_room: Room  # the event's, with a custom link
    zoom_room: Room  # the started event's, a Zoom meeting
    other_room: Room  # other_event's ad-hoc room
    session: Session
    started_session: Session
    other_session: Session
    learner_enrolment: Enrolment
    booking: Booking
    started_booking: Booking
    notification: Notification
    meeting: VirtualMeeting
    ids: dict = field(default_factory=dict)

    def __repr__(self):
        return f"Scene(ids={self.ids})"

    def _repr_pretty_(self, printer, cycle):
        printer.text(repr(self))  # how Hypothesis prints it in a failing example's report

    def users(self) -> dict[str, User | None]:
        return {
            "anonymous": None,
            "outsider": self.outsider,
            "learner": self.learner,
            "trainer": self.trainer,
            "editor": self.editor,
            "admin": self.admin,
        }

    def other_course_rows(self) -> list:
        """What the editing trainer can never reach: another course's whole tree."""
        return [
            self.other_course,
            self.other_event.seminar,
            self.other_event,
            self.other_session,
            self.other_room,
        ]


def _event(seminar, creator, *, start, capacity=10, **fields):
    event = SeminarEvent.objects.create(seminar=seminar, capacity=capacity, created_by=creator, **fields)
    session = Session.objects.create(event=event, start=start, finish=start + timedelta(hours=1), time_zone="UTC")
    return event, session


@pytest.fixture
def scene(db) -> Scene:
    admin = make_site_admin("admin")
    editor, trainer = make_user("edna"), make_user("tom")
    learner, waitlisted, outsider = make_user("lena"), make_user("leo"), make_user("otto")

    course = Course.objects.create(name="Safety training", short_name="SAFE", allow_self_enrolment=True)
    other_course = Course.objects.create(name="Finance", short_name="FIN")
    enrol(editor, course, Enrolment.Role.EDITING_TRAINER)
    enrol(trainer, course, Enrolment.Role.TRAINER)
    learner_enrolment = enrol(learner, course)
    enrol(waitlisted, course)
    enrol(trainer, other_course, Enrolment.Role.EDITING_TRAINER)

    seminar = Seminar.objects.create(course=course, name="Fire wardens", description="How to lead an evacuation.")
    other_seminar = Seminar.objects.create(course=other_course, name="Budgets")
    now = timezone.now().replace(second=0, microsecond=0)
    event, session = _event(seminar, editor, start=now + timedelta(days=7), capacity=1, waitlist_enabled=True)
    started_event, started_session = _event(seminar, editor, start=now - timedelta(minutes=10))
    cancelled_event, _ = _event(seminar, editor, start=now + timedelta(days=3), cancelled=True, cancelled_at=now)
    other_event, other_session = _event(other_seminar, trainer, start=now + timedelta(days=5))

    site_room = Room.objects.create(name="Training room 1", capacity=20, description="Ground floor.")
    adhoc_room = Room.objects.create(
        name="Pop-up room", capacity=10, event=event, virtual_kind="custom", virtual_url="https://meet.example.com/a"
    )
    zoom_room = Room.objects.create(
        name="Zoom room", capacity=50, event=started_event, virtual_kind="zoom", created_by=editor
    )
    other_room = Room.objects.create(name="Finance room", capacity=5, event=other_event, created_by=trainer)
    Session.objects.filter(pk=session.pk).update(room=adhoc_room)
    Session.objects.filter(pk=started_session.pk).update(room=zoom_room)
    Session.objects.filter(pk=other_session.pk).update(room=other_room)
    session.refresh_from_db()
    started_session.refresh_from_db()
    other_session.refresh_from_db()
    Session.objects.create(
        event=event,
        start=now + timedelta(days=8),
        finish=now + timedelta(days=8, hours=2),
        time_zone="Asia/Tokyo",
        room=site_room,
    )

    booking = Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    Booking.objects.create(event=event, user=waitlisted, state=Booking.State.WAITLISTED)
    started_booking = Booking.objects.create(event=started_event, user=learner, state=Booking.State.BOOKED)
    Booking.objects.create(event=started_event, user=waitlisted, state=Booking.State.NO_SHOW)
    notification = Notification.objects.create(
        user=learner, subject="Your booking", body="You are booked.", url=event.get_absolute_url()
    )
    Notification.objects.create(user=learner, subject="Elsewhere", url="https://evil.example.com/")

    ProviderConfig.objects.create(
        provider="zoom",
        enabled=True,
        client_id="zoomClientId123",
        client_secret="zoom-client-secret-value",
        webhook_secret=WEBHOOK_SECRET,
        options={"create_per_second": 1000, "light_per_second": 1000},
    )
    # Microsoft Teams is listed beside Zoom (lms/settings.py), not set up: its row exists as after a first visit
    # of the settings pages (the registry makes a provider's row on first use).
    ProviderConfig.objects.create(provider="teams")
    ProviderConnection.objects.create(
        user=editor,
        provider="zoom",
        remote_account_id=ZOOM_USER_ID,
        name="Edna Editor",
        email="edna@example.com",
        access_token="access-1",
        refresh_token="refresh-1",
        expires_at=now + timedelta(minutes=55),
        scopes="user:read:user meeting:write:meeting meeting:read:meeting meeting:update:meeting "
        "meeting:delete:meeting meeting:read:list_meetings",
        extra={"type": 2, "account_id": "Q4NYNnaSQAuNPy3wi4p3Mw"},
    )
    meeting = VirtualMeeting.objects.create(
        reference=meeting_reference(started_session, zoom_room),
        provider="zoom",
        owner=editor,
        topic="Safety training: Fire wardens",
        start=started_session.start,
        finish=started_session.finish,
        time_zone="UTC",
        remote_id=MEETING_ID,
        join_url=f"https://zoom.us/j/{MEETING_ID}",
        status=VirtualMeeting.Status.AVAILABLE,
        synced_version=1,
    )

    # The started session's meeting has been held: one device nobody matched yet (the sheet's "Match").
    occurrence = MeetingOccurrence.objects.create(
        meeting=meeting, provider="zoom", uuid="occ-1", started_at=started_session.start
    )
    MeetingParticipant.objects.create(
        occurrence=occurrence,
        participant_key="dev-1",
        name="Dial-in user",
        joined_at=started_session.start,
        source=MeetingParticipant.Source.WEBHOOK,
    )

    built = Scene(
        admin=admin,
        editor=editor,
        trainer=trainer,
        learner=learner,
        waitlisted=waitlisted,
        outsider=outsider,
        course=course,
        other_course=other_course,
        seminar=seminar,
        event=event,
        started_event=started_event,
        cancelled_event=cancelled_event,
        other_event=other_event,
        site_room=site_room,
        adhoc_room=adhoc_room,
        zoom_room=zoom_room,
        other_room=other_room,
        session=session,
        started_session=started_session,
        other_session=other_session,
        learner_enrolment=learner_enrolment,
        booking=booking,
        started_booking=started_booking,
        notification=notification,
        meeting=meeting,
    )
    handover = RoomHandover.objects.create(
        created_by=admin, provider="zoom", from_owner=trainer, to_hosting=Room.HOSTING_USER, to_owner=editor
    )
    HandoverRoom.objects.create(
        handover=handover, room=zoom_room, room_name=zoom_room.name, from_owner=trainer, from_hosting="user"
    )
    # Ids of each kind a path may name: the scene's rows, of which some the viewer may not see.
    built.ids = {
        "handover": [handover.pk],
        "user": [admin.pk, editor.pk, trainer.pk, learner.pk, outsider.pk],
        "course": [course.pk, other_course.pk],
        "seminar": [seminar.pk, other_seminar.pk],
        "event": [event.pk, started_event.pk, cancelled_event.pk, other_event.pk],
        "room": [site_room.pk, adhoc_room.pk, zoom_room.pk, other_room.pk],
        "session": [session.pk, started_session.pk, other_session.pk],
        "enrolment": list(Enrolment.objects.values_list("pk", flat=True)),
        "booking": list(Booking.objects.values_list("pk", flat=True)),
        "notification": list(Notification.objects.values_list("pk", flat=True)),
    }
    return built


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _zoom_unreachable(settings):
    """Zoom is down for the fuzz tests: every outbound request fails as a refused connection would."""
    settings.ZOOM_OAUTH_BASE_URL = "https://zoom.us"
    settings.ZOOM_API_BASE_URL = "https://api.zoom.us/v2"
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        yield
