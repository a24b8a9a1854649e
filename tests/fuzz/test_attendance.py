"""The sign-in sheet under hostile input: no 5xx, a refusal changes no table, other courses never change."""

from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from seminars.models import Booking, ParticipantMatch
from tests.fuzz.harness import client_for, error_messages, fuzz_settings, fuzzes, post_form, send
from tests.fuzz.strategies import form_data, hostile_int_text, hostile_text

state_value = st.one_of(st.sampled_from([*Booking.State.values, ""]), hostile_text)


def sheet_form(session, draw):
    """A valid sheet for every seated booking of the session's event (the baseline), then broken."""
    baseline, fields = {}, {}
    for booking in Booking.objects.filter(event=session.event_id, state__in=Booking.SEAT_STATES).order_by("pk"):
        baseline[f"state_{booking.pk}"] = Booking.State.PARTIALLY_ATTENDED
        baseline[f"minutes_{booking.pk}"] = "30"
        fields[f"state_{booking.pk}"] = state_value
        fields[f"minutes_{booking.pk}"] = hostile_int_text
    return draw(form_data(baseline, fields))


@fuzzes("seminars:session_attendance")
@fuzz_settings(40)
@given(data=st.data(), actor=st.sampled_from(["trainer", "editor", "admin", "learner", "outsider"]))
def test_session_sheet(scene, data, actor):
    post_form(
        getattr(scene, actor),
        reverse("seminars:session_attendance", args=[scene.started_session.pk]),
        sheet_form(scene.started_session, data.draw),
        untouchable=scene.other_course_rows(),
    )


@fuzzes("seminars:session_attendance")
@fuzz_settings(15)
@given(data=st.data())
def test_session_sheet_before_the_start(scene, data):
    post_form(
        scene.trainer,
        reverse("seminars:session_attendance", args=[scene.session.pk]),
        sheet_form(scene.session, data.draw),
        untouchable=scene.other_course_rows(),
    )


MATCH = {"occurrence": "occ-1", "participant_key": "dev-1"}


def match_fields(scene) -> dict:
    return {
        "occurrence": st.one_of(st.sampled_from(["occ-1", "", "occ-2"]), hostile_text),
        "participant_key": st.one_of(st.sampled_from(["dev-1", "dev-2"]), hostile_text),
        "match": st.one_of(
            st.sampled_from([*map(str, scene.ids["booking"]), "ignore", ""]), hostile_int_text, hostile_text
        ),
        "undo": st.sampled_from(["1", "", "on"]),
    }


@fuzzes("seminars:session_participant_match")
@fuzz_settings(40)
@given(data=st.data(), actor=st.sampled_from(["trainer", "trainer", "editor", "learner"]))
def test_participant_match(scene, data, actor):
    """Match the meeting's unmatched device to a learner, ignore it, or undo: ids of other events'
    bookings, participants the meeting never reported, and any text in every field."""
    baseline = {**MATCH, "match": str(scene.started_booking.pk)}
    fields = match_fields(scene)
    post_form(
        getattr(scene, actor),
        reverse("seminars:session_participant_match", args=[scene.started_session.pk]),
        data.draw(form_data(baseline, fields)),
        untouchable=scene.other_course_rows(),
    )


def test_the_participant_match_baseline_is_accepted(scene):
    url = reverse("seminars:session_participant_match", args=[scene.started_session.pk])
    response = send(client_for(scene.trainer), "POST", url, {**MATCH, "match": str(scene.started_booking.pk)})
    assert response.status_code == 302
    assert not error_messages(response)
    assert ParticipantMatch.objects.filter(booking=scene.started_booking, participant_key="dev-1").exists()
