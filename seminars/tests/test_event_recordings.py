"""Recordings on the event page: for learners holding a seat and the course's staff only, with the
passcode beside the link so they can play; trashed and deleted files disappear; never in an email."""

from email import message_from_bytes

import pytest
from django.core import mail
from django.urls import reverse

from seminars.models import Booking
from seminars.services.bookings import booking_cancel
from seminars.tests.conftest import enrol, make_user
from seminars.tests.meeting_scene import enable_test_provider, held_session
from virtualmeeting.participation import recording_status, recordings_store
from virtualmeeting.providers.base import RecordingRecord

State = Booking.State
PLAY = "https://zoom.test/rec/play/AbC-video?startTime=1"
AUDIO = "https://zoom.test/rec/play/AbC-audio"
PASSCODE = "Xq7!rec-Pass"


@pytest.fixture
def scene(settings, event, editing_trainer, learner, django_capture_on_commit_callbacks):
    enable_test_provider(settings)
    scene = held_session(
        event=event, owner=editing_trainer, learners=[learner], run_on_commit=django_capture_on_commit_callbacks
    )
    with django_capture_on_commit_callbacks(execute=True):
        recordings_store(
            meeting=scene.meeting,
            records=[
                RecordingRecord(
                    remote_id="file-video",
                    file_type="MP4",
                    recording_type="shared_screen_with_speaker_view",
                    play_url=PLAY,
                    passcode=PASSCODE,
                    recording_start=scene.at(1),
                    recording_end=scene.at(59),
                ),
                RecordingRecord(remote_id="file-audio", file_type="M4A", recording_type="audio_only", play_url=AUDIO),
                # A file with nothing to open (Zoom gives timelines a download link only): not listed.
                RecordingRecord(remote_id="file-timeline", file_type="TIMELINE", recording_type="", play_url=""),
            ],
        )
    return scene


def event_page(client, user, event):
    client.force_login(user)
    return client.get(reverse("seminars:event", args=[event.pk]))


def person(course, username, state=None, event=None):
    user = enrol(make_user(username), course).user
    if state is not None:
        Booking.objects.create(event=event, user=user, state=state)
    return user


@pytest.mark.parametrize(
    "who", ["booked", "no_show", "partially_attended", "fully_attended", "trainer", "editing_trainer", "site_admin"]
)
def test_booked_learners_and_staff_see_the_recordings_with_the_passcode(client, scene, event, course, request, who):
    if who in ("trainer", "editing_trainer", "site_admin"):
        user = request.getfixturevalue(who)
    else:
        user = person(course, "vera", state=who, event=event)
    html = event_page(client, user, event).content.decode()

    assert "Recordings" in html
    assert f'href="{PLAY}"' in html
    assert "Play: Video" in html and "Play: Audio only" in html
    assert f'Passcode: <code class="passcode">{PASSCODE}</code>' in html
    assert html.count('data-testid="recording"') == 2  # the timeline has nothing to open


@pytest.mark.parametrize("state", [State.WAITLISTED, State.USER_CANCELLED, State.EVENT_CANCELLED, None])
def test_learners_without_a_seat_see_no_recording(client, scene, event, course, state):
    user = person(course, "wanda", state=state, event=event)
    response = event_page(client, user, event)
    assert response.status_code == 200
    html = response.content.decode()
    assert "zoom.test/rec" not in html
    assert PASSCODE not in html
    assert "recordings-title" not in html


def test_someone_outside_the_course_sees_nothing_at_all(client, scene, event, outsider):
    response = event_page(client, outsider, event)
    assert response.status_code == 404
    assert PASSCODE not in response.content.decode()


def test_the_self_refreshing_session_card_carries_no_recording(client, scene, learner):
    client.force_login(learner)
    html = client.get(reverse("seminars:session_card", args=[scene.session.pk])).content.decode()
    assert "zoom.test/rec" not in html and PASSCODE not in html


def test_trashed_and_deleted_recordings_disappear_and_a_recovered_one_comes_back(
    client, scene, event, learner, django_capture_on_commit_callbacks
):
    def status(file_ids, to):
        with django_capture_on_commit_callbacks(execute=True):
            recording_status(provider="test", remote_id=scene.meeting.remote_id, file_ids=file_ids, status=to)

    status(["file-video"], "trashed")
    html = event_page(client, learner, event).content.decode()
    assert PLAY.split("?")[0] not in html and PASSCODE not in html
    assert "Play: Audio only" in html

    status(["file-video"], "recovered")
    assert PASSCODE in event_page(client, learner, event).content.decode()

    status(["file-video", "file-audio"], "deleted")
    html = event_page(client, learner, event).content.decode()
    assert "recordings-title" not in html and PASSCODE not in html and "zoom.test/rec" not in html


def everything_readable(message):
    raw = message_from_bytes(message.message().as_bytes())
    parts = [str(raw.items())]
    for part in raw.walk():
        payload = part.get_payload(decode=True)
        if payload:
            parts.append(payload.decode(part.get_content_charset() or "utf-8", errors="replace"))
    return "\n".join(parts)


@pytest.mark.django_db(transaction=True)
def test_no_email_carries_a_recording(
    settings, event, course, editing_trainer, trainer, learner, django_capture_on_commit_callbacks
):
    """Emails sent after a recording exists (a trainer cancels a booking, with a reason) say nothing
    of it. (The freed seat stays free: the event has started, nobody is promoted.)"""
    enable_test_provider(settings)
    scene = held_session(
        event=event, owner=editing_trainer, learners=[learner], run_on_commit=django_capture_on_commit_callbacks
    )
    recordings_store(
        meeting=scene.meeting,
        records=[RecordingRecord(remote_id="v", file_type="MP4", recording_type="", play_url=PLAY, passcode=PASSCODE)],
    )
    waiting = person(course, "wanda", state=State.WAITLISTED, event=event)
    event.capacity = 1
    event.save()
    mail.outbox.clear()

    booking_cancel(booking=scene.bookings["lena"], actor=trainer, reason="Left the company")

    assert Booking.objects.get(user=waiting).state == State.WAITLISTED
    assert {message.to[0] for message in mail.outbox} == {learner.email}
    assert any("Left the company" in everything_readable(message) for message in mail.outbox)
    for message in mail.outbox:
        readable = everything_readable(message)
        assert "zoom.test/rec" not in readable and PASSCODE not in readable
