"""Participation reaches attendance: `participation_updated` proposes each booked learner's state, matched
by personal link, then email, then a trainer's hand; a confirmed decision is never overwritten."""

import pytest

from seminars.models import AttendanceSource, Booking, ParticipantMatch, SessionAttendance
from seminars.selectors.attendance import registrant_bookings, sign_in_sheet
from seminars.services.attendance import (
    participant_match_clear,
    participant_match_set,
    session_attendance_confirm,
)
from seminars.services.bookings import BookingError
from virtualmeeting import signals
from virtualmeeting.models import ProviderConnection, VirtualMeeting
from virtualmeeting.providers.base import ParticipantRecord
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.reconcile import participants_sweep
from virtualmeeting.selectors import registrant_ids

State = Booking.State
Source = AttendanceSource


def proposals(scene):
    return {
        row.booking.user.username: (row.proposed_state, row.proposed_minutes, row.proposed_source)
        for row in SessionAttendance.objects.filter(session=scene.session).select_related("booking__user")
    }


def play_the_meeting(scene):
    """Lena by her personal link, rejoining from a second device; Leo by email; a guest by phone."""
    scene.register("lena")
    scene.stay("lena-laptop", 2, 40, name="Lena", registrant_id="reg-lena")
    scene.stay("lena-phone", 45, 60, name="Lena (phone)", registrant_id="reg-lena")
    scene.stay("leo-1", 0, 20, name="Leo", email="LEO@example.com")
    scene.stay("dial-in", 5, 30, name="+44 20 7946 0000")


def test_nothing_is_proposed_while_the_meeting_has_not_ended(scene):
    play_the_meeting(scene)
    assert not SessionAttendance.objects.exists()


def test_the_end_of_the_meeting_proposes_every_booked_learner(scene):
    play_the_meeting(scene)
    scene.ended()
    assert proposals(scene) == {
        # 2..40 and 45..60 from two devices: 53 of 60 minutes, over the 75 % threshold.
        "lena": (State.FULLY_ATTENDED, 53, Source.REGISTRANT),
        "leo": (State.PARTIALLY_ATTENDED, 20, Source.EMAIL),
        "lia": (State.NO_SHOW, 0, Source.NOT_SEEN),
    }


def test_a_redelivered_event_changes_nothing(scene):
    play_the_meeting(scene)
    scene.ended()
    before = dict(SessionAttendance.objects.values_list("pk", "proposed_at"))
    scene.stay("leo-1", 0, 20, name="Leo", email="LEO@example.com")
    scene.ended()
    assert dict(SessionAttendance.objects.values_list("pk", "proposed_at")) == before


def test_later_data_never_overwrites_a_confirmed_decision_and_is_kept_beside_it(scene, trainer):
    play_the_meeting(scene)
    scene.ended()
    leo = scene.bookings["leo"]
    session_attendance_confirm(
        session=scene.session, rows={leo.pk: (State.FULLY_ATTENDED, 60)}, actor=trainer
    )  # he was in the room

    # Zoom's late leave event for a second stretch of Leo's arrives after the confirmation.
    scene.stay("leo-2", 25, 40, name="Leo", email="leo@example.com")

    row = SessionAttendance.objects.get(booking=leo, session=scene.session)
    assert (row.state, row.minutes, row.source, row.confirmed_by) == (State.FULLY_ATTENDED, 60, Source.MANUAL, trainer)
    assert (row.proposed_state, row.proposed_minutes) == (State.PARTIALLY_ATTENDED, 35)
    assert row.later_data_differs
    leo.refresh_from_db()
    assert leo.state == State.FULLY_ATTENDED


def test_a_participant_matched_by_hand_counts_for_the_learner(scene, trainer):
    play_the_meeting(scene)
    scene.ended()
    lia = scene.bookings["lia"]
    assert [group.name for group in sign_in_sheet(session=scene.session).unmatched] == ["+44 20 7946 0000"]

    participant_match_set(
        session=scene.session, occurrence="occurrence-1==", participant_key="dial-in", booking_id=lia.pk, actor=trainer
    )

    assert proposals(scene)["lia"] == (State.PARTIALLY_ATTENDED, 25, Source.HAND_MATCHED)
    match = ParticipantMatch.objects.get()
    assert (match.booking, match.matched_by) == (lia, trainer)
    sheet = sign_in_sheet(session=scene.session)
    assert sheet.unmatched == []
    assert [(group.name, group.match.booking_id) for group in sheet.decided] == [("+44 20 7946 0000", lia.pk)]

    # The decision is durable: data arriving later (the poll's copy of the dial-in) keeps counting for Lia.
    scene.stay("dial-in", 31, 40, name="+44 20 7946 0000")
    assert proposals(scene)["lia"] == (State.PARTIALLY_ATTENDED, 34, Source.HAND_MATCHED)

    # Undone: the participant is nobody's again, and Lia was not seen.
    assert participant_match_clear(
        session=scene.session, occurrence="occurrence-1==", participant_key="dial-in", actor=trainer
    )
    assert proposals(scene)["lia"] == (State.NO_SHOW, 0, Source.NOT_SEEN)
    assert [group.name for group in sign_in_sheet(session=scene.session).unmatched] == ["+44 20 7946 0000"]


def test_an_ignored_participant_leaves_the_list_and_counts_for_nobody(scene, trainer):
    play_the_meeting(scene)
    scene.ended()
    participant_match_set(
        session=scene.session, occurrence="occurrence-1==", participant_key="dial-in", booking_id=None, actor=trainer
    )
    sheet = sign_in_sheet(session=scene.session)
    assert sheet.unmatched == []
    assert [(group.name, group.match.ignored) for group in sheet.decided] == [("+44 20 7946 0000", True)]
    assert proposals(scene)["lia"] == (State.NO_SHOW, 0, Source.NOT_SEEN)


def test_a_hand_match_is_weaker_evidence_than_the_learners_own_link(scene, trainer):
    play_the_meeting(scene)
    scene.ended()
    lena = scene.bookings["lena"]
    participant_match_set(
        session=scene.session, occurrence="occurrence-1==", participant_key="dial-in", booking_id=lena.pk, actor=trainer
    )
    # Her own link says 2..40 and 45..60; the phone's 5..30 falls within it and is not counted twice.
    assert proposals(scene)["lena"] == (State.FULLY_ATTENDED, 53, Source.REGISTRANT)


@pytest.mark.parametrize("who", ["learner", "outsider"])
def test_only_trainers_match_participants(scene, request, who):
    play_the_meeting(scene)
    scene.ended()
    with pytest.raises(BookingError, match="Only trainers may match participants."):
        participant_match_set(
            session=scene.session,
            occurrence="occurrence-1==",
            participant_key="dial-in",
            booking_id=scene.bookings["lia"].pk,
            actor=request.getfixturevalue(who),
        )
    assert not ParticipantMatch.objects.exists()


def test_a_match_needs_a_reported_participant_and_a_seated_learner(scene, trainer, outsider, event):
    play_the_meeting(scene)
    scene.ended()
    with pytest.raises(BookingError, match="not among the meeting's participants"):
        participant_match_set(
            session=scene.session, occurrence="occurrence-1==", participant_key="nobody", booking_id=None, actor=trainer
        )
    waitlisted = Booking.objects.create(event=event, user=outsider, state=State.WAITLISTED)
    with pytest.raises(BookingError, match="Choose a learner booked on this event."):
        participant_match_set(
            session=scene.session,
            occurrence="occurrence-1==",
            participant_key="dial-in",
            booking_id=waitlisted.pk,
            actor=trainer,
        )
    assert not ParticipantMatch.objects.exists()


def test_participation_of_a_meeting_that_is_not_a_sessions_is_ignored(scene, editing_trainer):
    other = VirtualMeeting.objects.create(reference="elsewhere:1", provider="test", owner=editing_trainer)
    responses = signals.participation_updated.send_robust(sender=VirtualMeeting, meeting=other, occurrence=None)
    assert [error for _receiver, error in responses if isinstance(error, Exception)] == []
    assert not SessionAttendance.objects.exists()


def test_registrant_ids_map_personal_links_to_bookings(scene):
    scene.register("lena")
    scene.register("leo", remote_id="")  # not registered at the provider yet: no id to match
    scene.meeting.registrants.create(key="user:7", first_name="Tom", remote_id="reg-staff")
    ids = registrant_ids(scene.meeting.reference)
    assert ids == {"reg-lena": f"booking:{scene.bookings['lena'].pk}", "reg-staff": "user:7"}
    assert registrant_bookings(ids) == {"reg-lena": scene.bookings["lena"].pk}


@pytest.mark.django_db(transaction=True)  # each after-commit callback runs at its own commit, as in production
def test_a_site_without_webhooks_gets_its_proposals_from_the_poll(scene, editing_trainer):
    """No webhook ever came: the reconcile poll's list alone proposes the attendance, once it is complete."""
    ProviderConnection.objects.create(
        user=editing_trainer, provider="test", remote_account_id="u1", access_token="token", refresh_token="refresh"
    )
    scene.register("lena")

    def stayed(key, joined, left, **person):
        return ParticipantRecord(key, joined_at=scene.at(joined), left_at=scene.at(left), **person)

    TestProvider.script_participants(
        scene.meeting.remote_id,
        "occurrence-1==",
        [
            stayed("lena-laptop", 2, 40, name="Lena", registrant_id="reg-lena"),
            stayed("lena-phone", 45, 60, name="Lena (phone)", registrant_id="reg-lena"),
            stayed("leo-1", 0, 20, name="Leo", email="LEO@example.com"),
        ],
    )

    participants_sweep()  # the session ended two hours ago: its first poll is due

    assert VirtualMeeting.objects.get().occurrences.get().participants_done_at is not None
    assert proposals(scene) == {
        "lena": (State.FULLY_ATTENDED, 53, Source.REGISTRANT),
        "leo": (State.PARTIALLY_ATTENDED, 20, Source.EMAIL),
        "lia": (State.NO_SHOW, 0, Source.NOT_SEEN),
    }
