"""Attendance taking: one choice per booked learner, under hostile field names and values."""

from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from seminars.models import Booking
from tests.fuzz.harness import client_for, fuzz_settings, fuzzes, post_form, send
from tests.fuzz.strategies import hostile_pk, hostile_text, mutated

STATES = [state for state, _ in Booking.State.choices] + ["", "NO_SHOW"]


@fuzzes("seminars:attendance")
@fuzz_settings(25)
@given(data=st.data())
def test_attendance(scene, data):
    booked = scene.started_booking
    baseline = {f"booking_{booked.pk}": Booking.State.FULLY_ATTENDED}
    # Field names of other bookings (another event's, a waitlisted one's) and of no booking at all.
    names = st.one_of(
        st.sampled_from(scene.ids["booking"]).map(lambda pk: f"booking_{pk}"),
        hostile_pk().map(lambda pk: f"booking_{pk}"),
        hostile_text,
    )
    fields = {name: st.one_of(st.sampled_from(STATES), hostile_text) for name in baseline}
    form = data.draw(st.one_of(mutated(baseline, fields), st.just(baseline)))
    if data.draw(st.booleans()):
        form[data.draw(names)] = data.draw(st.one_of(st.sampled_from(STATES), hostile_text))
    post_form(
        scene.trainer,
        reverse("seminars:attendance", args=[data.draw(st.sampled_from([scene.started_event.pk, scene.event.pk]))]),
        form,
        untouchable=scene.other_course_rows(),
    )


def test_the_attendance_baseline_is_accepted(scene):
    booked = scene.started_booking
    url = reverse("seminars:attendance", args=[scene.started_event.pk])
    send(client_for(scene.trainer), "POST", url, {f"booking_{booked.pk}": Booking.State.FULLY_ATTENDED})
    booked.refresh_from_db()
    assert booked.state == Booking.State.FULLY_ATTENDED
