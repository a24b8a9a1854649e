"""The sign-in sheet of a session held in a provider meeting: each learner's join and leave times in the
session's zone, the evidence, the participants nobody matched (match or ignore them), the poll's state,
the CSV, and a constant number of queries however many learners there are."""

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from seminars.models import AttendanceSource, Booking, Enrolment, ParticipantMatch, SessionAttendance
from seminars.services.attendance import participant_match_set, session_attendance_confirm
from seminars.tests.conftest import enrol, make_user
from seminars.tests.meeting_scene import UUID
from virtualmeeting.models import MeetingRegistrant, VirtualMeeting
from virtualmeeting.participation import occurrence_latest
from virtualmeeting.providers.testing import TestProvider

State = Booking.State
Source = AttendanceSource
ZONE = "Asia/Tokyo"  # nine hours from UTC all year: local times differ visibly from UTC


@pytest.fixture
def scene_zone():
    return ZONE


@pytest.fixture
def played(scene):
    """Lena by her personal link (rejoining from her phone), Leo by email, a guest dial-in; the meeting ended."""
    scene.register("lena")
    scene.stay("lena-laptop", 2, 40, name="Lena", registrant_id="reg-lena")
    scene.stay("lena-phone", 45, 60, name="Lena", registrant_id="reg-lena")
    scene.stay("leo-1", 0, 20, name="Leo", email="leo@example.com")
    scene.stay("dial-in", 5, 30, name="Ünal Öztürk (phone)")
    scene.ended()
    return scene


def local(scene, minutes):
    return f"{(scene.at(minutes)).astimezone(ZoneInfo(ZONE)):%H:%M}"


def sheet_url(scene):
    return reverse("seminars:session_attendance", args=[scene.session.pk])


def match_url(scene):
    return reverse("seminars:session_participant_match", args=[scene.session.pk])


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def text_of(html):
    import re

    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_each_learner_has_join_and_leave_times_in_the_sessions_zone_with_the_evidence(client, played, trainer):
    client.force_login(trainer)
    response = client.get(sheet_url(played))
    html = response.content.decode()
    rows = {row.booking.user.username: row for row in response.context["sheet"].rows}

    assert f"Joined and left ({ZONE})" in html
    assert f"{local(played, 2)}–{local(played, 40)}<br>{local(played, 45)}–{local(played, 60)}" in html
    assert f"{local(played, 0)}–{local(played, 20)}" in html
    assert [interval[0] for interval in rows["lena"].intervals] == [played.at(2), played.at(45)]
    assert rows["lia"].intervals == []
    page = text_of(html)
    assert "Fully attended, 53 minutes (Personal join link)" in page
    assert "Partially attended, 20 minutes (Email address)" in page
    assert "No show, 0 minutes (Not among the meeting's participants)" in page.replace("&#x27;", "'")
    form = response.context["form"]
    assert form[f"state_{played.bookings['lena'].pk}"].value() == State.FULLY_ATTENDED


def test_unmatched_participants_are_listed_with_name_times_and_minutes(client, played, trainer):
    client.force_login(trainer)
    response = client.get(sheet_url(played))
    [group] = response.context["sheet"].unmatched
    assert (group.name, group.minutes, group.occurrence, group.participant_key) == (
        "Ünal Öztürk (phone)",
        25,
        UUID,
        "dial-in",
    )
    page = text_of(response.content.decode())
    assert "Participants not matched to a booking" in page
    assert f"Ünal Öztürk (phone) {local(played, 5)}–{local(played, 30)} 25" in page
    assert "Ignore this participant" in page


def test_the_host_and_staff_are_listed_apart_with_their_minutes_and_never_offered_for_matching(
    client, scene, trainer, editing_trainer
):
    # Edna owns the room; Zoom says its meeting's host is her Zoom account. Tom, another trainer,
    # was registered at his first "Go to room" and joins with his own link.
    VirtualMeeting.objects.filter(pk=scene.meeting.pk).update(host_email="Edna@Zoom.test")
    MeetingRegistrant.objects.create(
        meeting=scene.meeting,
        key=f"user:{trainer.pk}",
        user=trainer,
        first_name="Tom",
        remote_id="reg-tom",
        status=MeetingRegistrant.Status.REGISTERED,
    )
    scene.register("lena")
    scene.stay("host", -15, 61, name="Edna's Zoom", email="edna@zoom.test")
    scene.stay("tom-laptop", 10, 50, name="Tom", registrant_id="reg-tom")
    scene.stay("lena-laptop", 2, 40, name="Lena", registrant_id="reg-lena")
    scene.stay("dial-in", 5, 30, name="Gail Guest")
    scene.ended()

    client.force_login(trainer)
    response = client.get(sheet_url(scene))
    sheet = response.context["sheet"]
    # The host first; minutes clipped to the session and its 10 minutes of grace, as a learner's are.
    assert [(g.name, g.is_host, g.minutes) for g in sheet.staff] == [("Edna's Zoom", True, 71), ("Tom", False, 40)]
    assert [group.name for group in sheet.unmatched] == ["Gail Guest"]
    assert [group.name for group, _form in response.context["match_forms"]] == ["Gail Guest"]
    page = text_of(response.content.decode())
    staff_part = page[page.index("Host and staff") :]
    assert f"Edna&#x27;s Zoom edna@zoom.test Host {local(scene, -15)}–{local(scene, 61)} 71" in staff_part
    assert f"Tom {local(scene, 10)}–{local(scene, 50)} 40" in staff_part
    unmatched_part = page[page.index("Participants not matched to a booking") : page.index("Host and staff")]
    assert "Gail Guest" in unmatched_part and "Edna" not in unmatched_part and "Tom " not in unmatched_part

    # Nor can a trainer count the host's time for a learner by posting it.
    lia = scene.bookings["lia"]
    data = {"occurrence": UUID, "participant_key": "host", "match": str(lia.pk)}
    response = client.post(match_url(scene), data, follow=True)
    assert "not among the meeting's participants" in messages_of(response)[0]
    assert not ParticipantMatch.objects.exists()
    assert SessionAttendance.objects.get(booking=lia).proposed_state == State.NO_SHOW


def test_a_sheet_without_host_or_staff_in_the_meeting_has_no_such_section(client, played, trainer):
    client.force_login(trainer)
    response = client.get(sheet_url(played))
    assert response.context["sheet"].staff == []
    assert "Host and staff" not in response.content.decode()


def test_matching_by_hand_counts_the_participant_for_the_learner(client, played, trainer):
    client.force_login(trainer)
    lia = played.bookings["lia"]
    data = {"occurrence": UUID, "participant_key": "dial-in", "match": str(lia.pk)}
    response = client.post(match_url(played), data, follow=True)

    assert "The participant now counts for Lia." in messages_of(response)
    row = SessionAttendance.objects.get(booking=lia)
    assert (row.proposed_state, row.proposed_minutes, row.proposed_source) == (
        State.PARTIALLY_ATTENDED,
        25,
        Source.HAND_MATCHED,
    )
    page = text_of(response.content.decode())
    assert "Partially attended, 25 minutes (Participant matched by hand)" in page
    assert "Counts for Lia by Tom" in page
    assert response.context["sheet"].unmatched == []
    assert response.context["form"][f"state_{lia.pk}"].value() == State.PARTIALLY_ATTENDED

    # Confirming keeps the evidence: the row says the participant was matched by hand.
    client.post(sheet_url(played), {f"state_{lia.pk}": State.PARTIALLY_ATTENDED, f"minutes_{lia.pk}": "25"})
    assert SessionAttendance.objects.get(booking=lia).source == Source.HAND_MATCHED

    response = client.post(match_url(played), {"occurrence": UUID, "participant_key": "dial-in", "undo": "1"})
    assert not ParticipantMatch.objects.exists()
    row = SessionAttendance.objects.get(booking=lia)
    assert (row.state, row.proposed_source) == (State.PARTIALLY_ATTENDED, Source.NOT_SEEN)  # the decision stays


def test_ignoring_a_participant(client, played, trainer):
    client.force_login(trainer)
    data = {"occurrence": UUID, "participant_key": "dial-in", "match": "ignore"}
    response = client.post(match_url(played), data, follow=True)
    assert "The participant is ignored." in messages_of(response)
    assert ParticipantMatch.objects.get().ignored
    page = text_of(response.content.decode())
    assert "Every participant is matched or ignored." in page
    assert "Ignored by Tom" in page


@pytest.mark.parametrize(
    "data, reason",
    [
        ({"participant_key": "dial-in", "match": ""}, "Choose the learner this participant is, or ignore them."),
        ({"participant_key": "dial-in", "match": "999999"}, "Choose a learner booked on this event"),
        ({"participant_key": "dial-in", "match": "x' OR 1=1"}, "Choose a learner booked on this event"),
        ({"participant_key": "someone-else", "match": "ignore"}, "not among the meeting's participants"),
        ({"match": "ignore"}, "This field is required."),
    ],
)
def test_a_bad_match_is_refused_with_a_message_and_saves_nothing(client, played, trainer, data, reason):
    client.force_login(trainer)
    response = client.post(match_url(played), {"occurrence": UUID, **data}, follow=True)
    assert response.status_code == 200
    [message] = messages_of(response)
    assert message.startswith("The participant was not matched:") and reason in message
    assert not ParticipantMatch.objects.exists()


def test_a_booking_of_another_event_cannot_be_matched(client, played, trainer, seminar, editing_trainer, outsider):
    other = seminar.events.create(name="Autumn intake", capacity=5, created_by=editing_trainer)
    enrol(outsider, seminar.course)
    foreign = Booking.objects.create(event=other, user=outsider, state=State.BOOKED)
    client.force_login(trainer)
    data = {"occurrence": UUID, "participant_key": "dial-in", "match": str(foreign.pk)}
    response = client.post(match_url(played), data, follow=True)
    assert "Choose a learner booked on this event" in messages_of(response)[0]
    assert not ParticipantMatch.objects.exists()


@pytest.mark.parametrize(
    "role, status",
    [("site_admin", 302), ("editing_trainer", 302), ("trainer", 302), ("learner", 403), ("outsider", 404)],
)
def test_who_may_match_participants(client, played, request, role, status):
    client.force_login(request.getfixturevalue(role))
    data = {"occurrence": UUID, "participant_key": "dial-in", "match": "ignore"}
    assert client.post(match_url(played), data).status_code == status
    assert ParticipantMatch.objects.exists() is (status == 302)
    assert client.get(match_url(played)).status_code in (405, 403, 404)


def test_a_learners_sheet_page_shows_none_of_the_participants(client, played, learner):
    client.force_login(learner)
    response = client.get(sheet_url(played))
    assert response.status_code == 403
    assert "Öztürk" not in response.content.decode()


# --- The poll's state ----------------------------------------------------------------------------


def test_while_the_provider_has_not_sent_the_participants_the_sheet_says_when_it_asks_next(client, scene, trainer):
    occurrence = occurrence_latest(meeting=scene.meeting)
    next_poll = timezone.now() + timedelta(minutes=25)
    type(occurrence).objects.filter(pk=occurrence.pk).update(next_poll_at=next_poll)
    client.force_login(trainer)
    page = text_of(client.get(sheet_url(scene)).content.decode())
    when = f"{next_poll.astimezone(ZoneInfo(ZONE)):%H:%M} ({ZONE})"
    assert f"Test Meeting has not sent the participants yet; next check at {when}." in page
    assert not SessionAttendance.objects.exists()


def test_when_the_poll_gave_up_the_sheet_says_why(client, scene, trainer):
    occurrence = occurrence_latest(meeting=scene.meeting)
    type(occurrence).objects.filter(pk=occurrence.pk).update(
        next_poll_at=None, poll_error="Reconnect to enable attendance: the Test Meeting connection lacks p:read."
    )
    client.force_login(trainer)
    page = text_of(client.get(sheet_url(scene)).content.decode())
    assert (
        "Test Meeting's participants could not be fetched: Reconnect to enable attendance: "
        "the Test Meeting connection lacks p:read. Take attendance by hand."
    ) in page.replace("&#x27;", "'")


def test_data_from_live_events_says_the_final_list_is_still_to_come(client, played, trainer):
    client.force_login(trainer)
    occurrence = played.meeting.occurrences.get()
    assert occurrence.next_poll_at is not None  # planned after the end
    page = text_of(client.get(sheet_url(played)).content.decode())
    assert "Times so far come from Test Meeting&#x27;s live events; its final list is checked at" in page


def test_a_provider_that_reports_no_participants_says_nothing_about_them(client, scene, trainer, monkeypatch):
    occurrence_latest(meeting=scene.meeting)
    monkeypatch.setattr(TestProvider, "supports_participants", False)
    client.force_login(trainer)
    html = client.get(sheet_url(scene)).content.decode()
    assert 'data-testid="participation-notice"' not in html


def test_before_the_end_a_session_says_nothing_about_the_meeting_data(client, event, trainer, settings):
    client.force_login(trainer)
    html = client.get(reverse("seminars:session_attendance", args=[event.sessions.get().pk])).content.decode()
    assert 'data-testid="participation-notice"' not in html


# --- Later data beside a decision, CSV, queries ------------------------------------------------


def test_later_data_that_differs_is_shown_beside_the_decision(client, played, trainer):
    leo = played.bookings["leo"]
    session_attendance_confirm(session=played.session, rows={leo.pk: (State.FULLY_ATTENDED, 60)}, actor=trainer)
    played.stay("leo-2", 25, 40, name="Leo", email="leo@example.com")
    client.force_login(trainer)
    response = client.get(sheet_url(played))
    page = text_of(response.content.decode())
    assert response.context["form"][f"state_{leo.pk}"].value() == State.FULLY_ATTENDED
    assert "Partially attended, 35 minutes (Email address) New meeting data since the confirmation" in page
    assert f"{local(played, 25)}–{local(played, 40)}" in page


def test_the_csv_has_the_times_and_sources_in_utf8_with_a_bom(client, played, trainer, learner):
    learner.first_name, learner.last_name = "Léa", "Müller-Øster"
    learner.save()
    lia = played.bookings["lia"]
    client.force_login(trainer)
    client.post(match_url(played), {"occurrence": UUID, "participant_key": "dial-in", "match": str(lia.pk)})
    response = client.get(reverse("seminars:session_attendance_csv", args=[played.session.pk]))

    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][-1] == f"Joined and left ({ZONE})"
    by_username = {row[1]: row for row in rows[1:]}
    assert by_username["lena"][0] == "Léa Müller-Øster"
    assert by_username["lena"][8:] == [
        "Fully attended",
        "53",
        "Personal join link",
        f"{local(played, 2)}–{local(played, 40)}; {local(played, 45)}–{local(played, 60)}",
    ]
    assert by_username["leo"][10:] == ["Email address", f"{local(played, 0)}–{local(played, 20)}"]
    assert by_username["lia"][10:] == ["Participant matched by hand", f"{local(played, 5)}–{local(played, 30)}"]


def add_learners(scene, course, count, start, *, matcher):
    """`count` learners who joined by their personal links, each with a guest the trainer matched to them."""
    for number in range(start, start + count):
        user = make_user(f"learner{number}")
        enrol(user, course, Enrolment.Role.LEARNER)
        booking = Booking.objects.create(event=scene.session.event, user=user, state=State.BOOKED)  # booked earlier
        scene.bookings[user.username] = booking
        scene.register(user.username)
        scene.stay(f"{user.username}-device", 1, 50, name=user.first_name, registrant_id=f"reg-{user.username}")
        scene.stay(f"guest-{number}", 3, 9, name=f"Guest {number}")
        participant_match_set(
            session=scene.session,
            occurrence=UUID,
            participant_key=f"guest-{number}",
            booking_id=booking.pk,
            actor=matcher,
        )


def test_the_sheet_and_its_csv_take_the_same_queries_for_3_or_15_learners(
    client, played, trainer, course, django_assert_max_num_queries
):
    client.force_login(trainer)
    client.get(sheet_url(played))  # warm the session and the user's caches
    add_learners(played, course, 1, start=100, matcher=trainer)
    csv_url = reverse("seminars:session_attendance_csv", args=[played.session.pk])
    with CaptureQueriesContext(connection) as few_sheet:
        assert client.get(sheet_url(played)).status_code == 200
    with CaptureQueriesContext(connection) as few_csv:
        assert client.get(csv_url).status_code == 200

    add_learners(played, course, 12, start=200, matcher=trainer)
    with django_assert_max_num_queries(len(few_sheet)):
        response = client.get(sheet_url(played))
    assert len(response.context["sheet"].rows) == 16
    assert len(response.context["sheet"].decided) == 13
    with django_assert_max_num_queries(len(few_csv)):
        client.get(csv_url)
