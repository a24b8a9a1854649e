"""Who is registered for a session's meeting (personal join links): every seat, and nobody else.

Bookings go through the real services and pages; the registrant rows are the
framework's (virtualmeeting.MeetingRegistrant), read here by their `present`
flag: what the product wants registered at the provider.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from seminars.meetings import (
    booking_key,
    events_without_personal_links,
    meeting_reference,
    meetings_personal_links_backfill,
    meetings_reconcile,
    staff_key,
)
from seminars.models import Booking
from seminars.services.bookings import (
    booking_cancel,
    booking_create,
    booking_set_attendance,
)
from seminars.tests.conftest import connect, enrol, make_user
from seminars.tests.test_virtual_meetings import NEW_ZOOM_ROOM, room_choice, row, save, save_in_new_room
from virtualmeeting.models import MeetingRegistrant, VirtualMeeting
from virtualmeeting.providers.testing import TestProvider
from virtualmeeting.services import registrant_put

pytestmark = pytest.mark.usefixtures("test_provider")


@pytest.fixture
def virtual_event(client, event, editing_trainer, django_capture_on_commit_callbacks):
    """The event (2 seats, then a waitlist) with two sessions in one provider-backed ad-hoc room, saved through the editor."""
    save_in_new_room(
        client,
        event,
        editing_trainer,
        django_capture_on_commit_callbacks,
        zone="UTC",
        capacity=2,
        waitlist_enabled="on",
    )
    event.refresh_from_db()
    return event


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service as a request would: its after-commit work (emails, syncs) runs at the end."""

    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


def learners(course, *names):
    users = []
    for name in names:
        user = make_user(name)
        enrol(user, course)
        users.append(user)
    return users


def registered(event) -> dict[str, set[str]]:
    """For each of the event's meetings wanted now (by session start): the keys wanted registered."""
    found = {}
    for meeting in VirtualMeeting.objects.filter(reference__startswith=f"seminars.event:{event.pk}:", present=True):
        found[meeting.reference] = set(
            MeetingRegistrant.objects.filter(meeting=meeting, present=True).values_list("key", flat=True)
        )
    return found


def keys(*bookings):
    return {booking_key(b.pk) for b in bookings}


def assert_everywhere(event, expected: set[str]):
    """Every meeting of the event (two sessions: two meetings) wants exactly these registrants."""
    found = registered(event)
    assert len(found) == 2
    assert all(wanted == expected for wanted in found.values()), found


def test_a_booked_learner_is_registered_for_every_session_with_their_names(virtual_event, learner, committed):
    learner.last_name = "Larsen"
    learner.save()
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    assert_everywhere(virtual_event, keys(booking))
    rows = MeetingRegistrant.objects.filter(key=booking_key(booking.pk))
    assert {(r.first_name, r.last_name, r.user_id) for r in rows} == {("Lena", "Larsen", learner.pk)}
    # Meetings ask for personal links.
    assert set(VirtualMeeting.objects.values_list("personal_links", flat=True)) == {True}


def test_a_learner_without_a_first_name_is_registered_by_username(virtual_event, course, committed):
    (nameless,) = learners(course, "nora")
    nameless.first_name = ""
    nameless.save()
    committed(booking_create, event=virtual_event, user=nameless, actor=nameless)
    assert set(MeetingRegistrant.objects.values_list("first_name", "last_name")) == {("nora", "")}


def test_waitlisted_learners_are_not_registered_and_a_promoted_one_is(virtual_event, course, committed):
    ann, bob, cat = learners(course, "ann", "bob", "cat")
    first = committed(booking_create, event=virtual_event, user=ann, actor=ann)
    second = committed(booking_create, event=virtual_event, user=bob, actor=bob)
    waiting = committed(booking_create, event=virtual_event, user=cat, actor=cat)
    assert waiting.state == Booking.State.WAITLISTED
    assert_everywhere(virtual_event, keys(first, second))
    assert not MeetingRegistrant.objects.filter(key=booking_key(waiting.pk)).exists()

    committed(booking_cancel, booking=first, actor=ann)  # frees a seat: cat is promoted
    waiting.refresh_from_db()
    assert waiting.state == Booking.State.BOOKED
    assert_everywhere(virtual_event, keys(second, waiting))
    cancelled = MeetingRegistrant.objects.filter(key=booking_key(first.pk))
    assert [r.present for r in cancelled] == [False, False]


def test_a_learner_leaving_the_waitlist_was_never_registered(virtual_event, course, committed):
    ann, bob, cat = learners(course, "ann", "bob", "cat")
    for user in (ann, bob):
        committed(booking_create, event=virtual_event, user=user, actor=user)
    waiting = committed(booking_create, event=virtual_event, user=cat, actor=cat)
    committed(booking_cancel, booking=waiting, actor=cat)
    assert not MeetingRegistrant.objects.filter(key=booking_key(waiting.pk)).exists()


def test_a_learner_who_books_again_after_cancelling_is_registered_again(virtual_event, learner, committed):
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    committed(booking_cancel, booking=booking, actor=learner)
    assert_everywhere(virtual_event, set())
    again = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    assert again.pk == booking.pk
    assert_everywhere(virtual_event, keys(again))
    assert MeetingRegistrant.objects.count() == 2  # the same rows, wanted again: no second registrant


def test_promoting_several_waitlisted_learners_registers_them_all(
    client, virtual_event, course, editing_trainer, committed, django_capture_on_commit_callbacks
):
    people = learners(course, "ann", "bob", "cat", "dan", "eve")
    bookings = [committed(booking_create, event=virtual_event, user=u, actor=u) for u in people]
    assert [b.state for b in bookings].count(Booking.State.WAITLISTED) == 3
    # The editor raises the capacity: the waitlist is promoted in the same save.
    first, second = virtual_event.sessions.order_by("start")
    rows = [row(first, room=room_choice(first.room)), row(second, room=room_choice(second.room))]
    save(client, virtual_event, rows, django_capture_on_commit_callbacks, capacity=10, waitlist_enabled="on")
    assert_everywhere(virtual_event, keys(*bookings))


def test_attendance_keeps_the_seat_and_the_registration(
    virtual_event, learner, editing_trainer, committed, time_machine
):
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    time_machine.move_to(virtual_event.sessions.order_by("start").first().start + timedelta(minutes=5))
    committed(booking_set_attendance, booking=booking, state=Booking.State.NO_SHOW, actor=editing_trainer)
    assert_everywhere(virtual_event, keys(booking))


def test_cancelling_the_event_cancels_every_registration(client, virtual_event, course, editing_trainer, committed):
    ann, bob = learners(course, "ann", "bob")
    for user in (ann, bob):
        committed(booking_create, event=virtual_event, user=user, actor=user)
    client.force_login(editing_trainer)
    with_callbacks = committed(lambda: client.post(reverse("seminars:event_cancel", args=[virtual_event.pk])))
    assert with_callbacks.status_code == 302
    assert MeetingRegistrant.objects.count() == 4
    assert not MeetingRegistrant.objects.filter(present=True).exists()


def test_a_session_moved_to_another_room_registers_its_learners_there_and_cancels_the_old_links(
    client, virtual_event, learner, committed, django_capture_on_commit_callbacks
):
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    first, second = virtual_event.sessions.order_by("start")
    old = meeting_reference(first, first.room)
    rows = [row(first, room=NEW_ZOOM_ROOM), row(second, room=room_choice(second.room))]
    save(client, virtual_event, rows, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    new = meeting_reference(first, first.room)
    assert new != old
    assert not MeetingRegistrant.objects.get(meeting__reference=old, key=booking_key(booking.pk)).present
    assert MeetingRegistrant.objects.get(meeting__reference=new, key=booking_key(booking.pk)).present
    assert_everywhere(virtual_event, keys(booking))


def test_a_session_leaving_the_provider_room_cancels_its_links(
    client, virtual_event, learner, committed, django_capture_on_commit_callbacks
):
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    first, second = virtual_event.sessions.order_by("start")
    old = meeting_reference(first, first.room)
    save(
        client,
        virtual_event,
        [row(first), row(second, room=room_choice(second.room))],
        django_capture_on_commit_callbacks,
    )
    assert not MeetingRegistrant.objects.get(meeting__reference=old).present
    assert registered(virtual_event) == {meeting_reference(second, second.room): keys(booking)}


def test_staff_registered_on_demand_stay_registered_when_the_seats_change(virtual_event, learner, trainer, committed):
    first = virtual_event.sessions.order_by("start").first()
    reference = meeting_reference(first, first.room)
    registrant_put(reference=reference, key=staff_key(trainer.pk), user=trainer, first_name="Tom", last_name="")
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    committed(booking_cancel, booking=booking, actor=learner)
    assert registered(virtual_event)[reference] == {staff_key(trainer.pk)}


def test_an_event_without_virtual_meetings_books_as_before(event, learner, committed):
    booking = committed(booking_create, event=event, user=learner, actor=learner)
    assert booking.state == Booking.State.BOOKED
    assert not MeetingRegistrant.objects.exists()


def test_bookings_on_other_events_are_not_registered(virtual_event, seminar, editing_trainer, learner, committed):
    from seminars.models import SeminarEvent
    from seminars.tests.conftest import make_session

    other = SeminarEvent.objects.create(seminar=seminar, name="Other", capacity=5, created_by=editing_trainer)
    make_session(other, (timezone.now() + timedelta(days=3)).replace(tzinfo=None))
    committed(booking_create, event=other, user=learner, actor=learner)
    assert_everywhere(virtual_event, set())


# --- "Join now" and "Go to room": personal links at click time -----------------------------------------
SHARED = "https://meet.test.invalid/j/"
PERSONAL = "https://meet.test.invalid/w/"


def first_meeting(event):
    session = event.sessions.order_by("start").first()
    return session, VirtualMeeting.objects.get(reference=meeting_reference(session, session.room))


def join(client, user, session):
    client.force_login(user)
    return client.get(reverse("seminars:virtual_join", args=[session.pk]))


@pytest.fixture
def booked(virtual_event, learner, committed):
    """The learner's booking, registered in the background (the registrants sync runs after the commit)."""
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    session, meeting = first_meeting(virtual_event)
    assert meeting.registration  # the meeting asks for registration: personal links
    row = MeetingRegistrant.objects.get(meeting=meeting, key=booking_key(booking.pk))
    assert row.status == "registered" and row.join_url.startswith(PERSONAL)
    return booking


def test_join_now_leads_a_learner_to_their_own_link_and_the_same_one_from_a_second_device(
    client, virtual_event, learner, booked, test_provider, time_machine
):
    session, meeting = first_meeting(virtual_event)
    personal = MeetingRegistrant.objects.get(meeting=meeting, key=booking_key(booked.pk)).join_url
    time_machine.move_to(session.start - timedelta(minutes=5))
    first = join(client, learner, session)
    assert first.status_code == 302 and first["Location"] == personal
    assert personal != meeting.join_url
    other_device = client_class_login(learner)
    assert other_device.get(reverse("seminars:virtual_join", args=[session.pk]))["Location"] == personal
    registered_there = [r for r in test_provider.registrants(meeting.remote_id) if r["status"] == "approved"]
    assert len(registered_there) == 1  # one registrant for the learner, whatever the devices


def test_the_join_click_asks_one_query_the_session_with_the_meeting_and_the_link(
    client, virtual_event, learner, booked, time_machine
):
    """The hot path at a session's start: one statement reads the session with the learner's role and booking,
    and the meeting with their own link; nothing else (the user and their header facts come from the cache,
    the session too on a Redis site)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from seminars.selectors import joining

    session, meeting = first_meeting(virtual_event)
    personal = MeetingRegistrant.objects.get(meeting=meeting, key=booking_key(booked.pk)).join_url
    time_machine.move_to(session.start - timedelta(minutes=5))
    client.force_login(learner)
    url = reverse("seminars:virtual_join", args=[session.pk])
    client.get(url)  # the steady state: the viewer's user row and facts cached

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code == 302 and response["Location"] == personal
    asked = [q["sql"] for q in queries.captured_queries if "django_session" not in q["sql"]]
    assert len(asked) == 1, asked
    [asked_sql] = asked
    statement = joining._plan()[0]  # on PostgreSQL, prepared once per connection and executed by its name
    assert asked_sql.startswith((f"EXECUTE {statement.name}(", statement.sql[:200]))
    for table in ("seminars_session", "seminars_booking", "virtualmeeting_virtualmeeting"):
        assert f'"{table}"' in statement.sql
    assert '"virtualmeeting_meetingregistrant"' in statement.sql


def test_the_join_read_gives_each_session_its_own_meeting_and_each_viewer_their_own_links(
    virtual_event, learner, editing_trainer, booked
):
    """viewer_session's one statement: the meeting whose reference the session and its room make, the learner's
    link by their booking and a trainer's own link as staff; never another session's or another person's."""
    from seminars.selectors.joining import viewer_session

    sessions = list(virtual_event.sessions.order_by("start"))
    meetings = [VirtualMeeting.objects.get(reference=meeting_reference(s, s.room)) for s in sessions]
    staff = MeetingRegistrant.objects.create(
        meeting=meetings[0],
        key=staff_key(editing_trainer.pk),
        first_name="Tina",
        status="registered",
        join_url=f"{PERSONAL}staff-tina",
    )

    for session, meeting in zip(sessions, meetings, strict=True):
        own = MeetingRegistrant.objects.get(meeting=meeting, key=booking_key(booked.pk)).join_url
        assert own.startswith(PERSONAL)
        found = viewer_session(user_id=learner.pk, session_id=session.pk)
        assert found.session.pk == session.pk and found.meeting.pk == meeting.pk
        assert (found.booking_id, found.booking_link, found.staff_link) == (booked.pk, own, "")
    as_trainer = viewer_session(user_id=editing_trainer.pk, session_id=sessions[0].pk)
    assert (as_trainer.booking_id, as_trainer.staff_link, as_trainer.booking_link) == (None, staff.join_url, "")
    assert viewer_session(user_id=editing_trainer.pk, session_id=sessions[1].pk).staff_link == ""
    assert viewer_session(user_id=learner.pk, session_id=sessions[-1].pk + 1000) is None


def client_class_login(user):
    from django.test import Client

    other = Client()
    other.force_login(user)
    return other


def test_a_learner_whose_registration_failed_is_registered_at_their_click(
    client, virtual_event, learner, committed, test_provider, time_machine
):
    test_provider.fail_next("register", "permanent")
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    session, meeting = first_meeting(virtual_event)
    assert MeetingRegistrant.objects.get(meeting=meeting, key=booking_key(booking.pk)).status == "failed"
    time_machine.move_to(session.start - timedelta(minutes=5))
    registers = test_provider.calls("register")

    response = join(client, learner, session)

    row = MeetingRegistrant.objects.get(meeting=meeting, key=booking_key(booking.pk))
    assert row.status == "registered" and response["Location"] == row.join_url
    assert row.join_url.startswith(PERSONAL)  # not the shared link, which shows the registration form
    assert test_provider.calls("register") == registers + 1


def test_a_learner_whose_click_cannot_register_them_gets_the_shared_link_and_a_message(
    client, virtual_event, learner, committed, test_provider, time_machine
):
    test_provider.fail_next("register", "permanent")
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    session, meeting = first_meeting(virtual_event)
    time_machine.move_to(session.start - timedelta(minutes=5))
    test_provider.fail_next("register", "permanent")

    response = join(client, learner, session)

    assert response["Location"] == meeting.join_url
    assert response["Location"].startswith(SHARED)
    shown = [str(m) for m in response.wsgi_request._messages]
    assert any("You were sent to the meeting's shared link instead" in text for text in shown)
    assert MeetingRegistrant.objects.get(meeting=meeting, key=booking_key(booking.pk)).status == "failed"


@pytest.mark.parametrize(
    ("offset", "opens"),
    [(timedelta(minutes=-15, seconds=-1), False), (timedelta(minutes=-15), True), (timedelta(seconds=-1), True)],
)
def test_the_15_minute_window_is_unchanged_for_personal_links(
    client, virtual_event, learner, booked, time_machine, offset, opens
):
    session, meeting = first_meeting(virtual_event)
    time_machine.move_to(session.start + offset, tick=False)
    response = join(client, learner, session)
    assert response.status_code == 302
    if opens:
        assert response["Location"].startswith(PERSONAL)
    else:
        assert response["Location"] == reverse("seminars:event", args=[virtual_event.pk])


def test_the_window_closes_at_the_end_of_the_session(client, virtual_event, learner, booked, time_machine):
    session, meeting = first_meeting(virtual_event)
    time_machine.move_to(session.finish - timedelta(seconds=1), tick=False)
    assert join(client, learner, session)["Location"].startswith(PERSONAL)
    time_machine.move_to(session.finish, tick=False)
    assert join(client, learner, session)["Location"] == reverse("seminars:event", args=[virtual_event.pk])


def test_no_personal_link_in_any_page_or_email_the_learner_gets(
    client, virtual_event, learner, booked, mailoutbox, time_machine
):
    from django.core import mail

    session, meeting = first_meeting(virtual_event)
    personal = MeetingRegistrant.objects.get(meeting=meeting, key=booking_key(booked.pk)).join_url
    token = personal.split("tk=")[1]
    client.force_login(learner)
    pages = [
        reverse("seminars:event", args=[virtual_event.pk]),
        reverse("seminars:room", args=[session.room_id]),
        reverse("seminars:room_card", args=[session.room_id]),
        reverse("seminars:session_card", args=[session.pk]),
        reverse("seminars:dashboard"),
    ]
    for moment in (session.start - timedelta(days=1), session.start - timedelta(minutes=5)):
        time_machine.move_to(moment, tick=False)
        for page in pages:
            html = client.get(page).content.decode()
            assert token not in html and meeting.join_url not in html, page
    assert mail.outbox  # the booking email was sent
    for message in mail.outbox:
        parts = [part.get_payload(decode=True) for part in message.message().walk()]
        text = "".join(payload.decode(errors="replace") for payload in parts if payload)
        assert "Spring intake" in text  # the decoded parts are read
        assert token not in text and meeting.join_url not in text


def test_a_trainer_is_registered_at_their_first_go_to_room_and_then_uses_that_link(
    client, virtual_event, trainer, test_provider
):
    session, meeting = first_meeting(virtual_event)
    registers = test_provider.calls("register")
    first = join(client, trainer, session)
    row = MeetingRegistrant.objects.get(meeting=meeting, key=staff_key(trainer.pk))
    assert first["Location"] == row.join_url and row.join_url.startswith(PERSONAL)
    assert (row.status, row.first_name, row.user_id) == ("registered", "Tom", trainer.pk)
    assert test_provider.calls("register") == registers + 1
    again = join(client, trainer, session)
    assert again["Location"] == row.join_url
    assert test_provider.calls("register") == registers + 1  # no second call, no second registrant


def test_a_site_admin_is_registered_on_demand_too(client, virtual_event, site_admin):
    session, meeting = first_meeting(virtual_event)
    response = join(client, site_admin, session)
    row = MeetingRegistrant.objects.get(meeting=meeting, key=staff_key(site_admin.pk))
    assert response["Location"] == row.join_url


def test_the_owner_hosts_and_joins_as_attendee_with_the_shared_link_unregistered(
    client, virtual_event, editing_trainer, test_provider
):
    session, meeting = first_meeting(virtual_event)
    assert join(client, editing_trainer, session)["Location"] == meeting.join_url
    assert not MeetingRegistrant.objects.filter(key=staff_key(editing_trainer.pk)).exists()
    host = client.get(reverse("seminars:virtual_host", args=[session.pk]))
    assert host.status_code == 302 and not host["Location"].startswith(PERSONAL)


def test_a_trainer_whose_registration_fails_gets_the_shared_link_and_a_message(
    client, virtual_event, trainer, test_provider
):
    session, meeting = first_meeting(virtual_event)
    test_provider.fail_next("register", "permanent")
    response = join(client, trainer, session)
    assert response["Location"] == meeting.join_url
    shown = [str(m) for m in response.wsgi_request._messages if "personal link" in str(m)]
    assert shown == [
        "Test Meeting could not give you a personal link: Test Meeting refused the meeting settings. "
        "You were sent to the meeting's shared link instead; it may ask you to register."
    ]
    assert MeetingRegistrant.objects.get(key=staff_key(trainer.pk)).status == "failed"


def test_a_lost_answer_at_a_trainers_click_is_adopted_at_the_next_never_registered_twice(
    client, virtual_event, trainer, test_provider
):
    session, meeting = first_meeting(virtual_event)
    test_provider.fail_next("register", "ambiguous")  # the provider registers, the answer is lost
    assert join(client, trainer, session)["Location"] == meeting.join_url
    row = MeetingRegistrant.objects.get(key=staff_key(trainer.pk))
    assert row.maybe_sent and not row.remote_id
    row.next_attempt_at = timezone.now()  # the click does not wait for the backoff
    row.save()
    registers = test_provider.calls("register")
    response = join(client, trainer, session)
    row.refresh_from_db()
    assert response["Location"] == row.join_url and row.status == "registered"
    assert test_provider.calls("register") == registers  # found by listing, not sent again
    mine = [r for r in test_provider.registrants(meeting.remote_id) if r["email"] == row.email]
    assert len(mine) == 1


def test_a_trainer_of_a_meeting_without_registration_gets_the_shared_link_with_no_call(
    client, event, editing_trainer, trainer, test_provider, django_capture_on_commit_callbacks
):
    connection = connect(editing_trainer)
    connection.extra = {"licence": "basic"}
    connection.save()
    client.force_login(editing_trainer)
    save(client, event, [row(event.sessions.get(), room=NEW_ZOOM_ROOM)], django_capture_on_commit_callbacks)
    session, meeting = event.sessions.get(), VirtualMeeting.objects.get()
    assert not meeting.registration
    assert join(client, trainer, session)["Location"] == meeting.join_url
    assert test_provider.calls("register") == 0
    assert not MeetingRegistrant.objects.filter(key=staff_key(trainer.pk)).exists()


# --- what the owner and staff are told ------------------------------------------------------------------
def event_page(client, user, event):
    client.force_login(user)
    return client.get(reverse("seminars:event", args=[event.pk])).content.decode()


def test_staff_see_that_every_learner_has_a_personal_link(client, virtual_event, booked, trainer):
    html = event_page(client, trainer, virtual_event)
    assert "1 learner has a personal join link: attendance will be matched exactly." in html


def test_a_basic_host_turns_personal_links_off_and_says_why(
    client, event, editing_trainer, learner, committed, test_provider, django_capture_on_commit_callbacks, time_machine
):
    connection = connect(editing_trainer)
    connection.extra = {"licence": "basic"}
    connection.save()
    client.force_login(editing_trainer)
    save(client, event, [row(event.sessions.get(), room=NEW_ZOOM_ROOM)], django_capture_on_commit_callbacks)
    booking = committed(booking_create, event=event, user=learner, actor=learner)
    registrant = MeetingRegistrant.objects.get(key=booking_key(booking.pk))
    assert registrant.status == "unsupported"
    expected = (
        "Personal join links are off: The host&#x27;s Test Meeting account is Basic: personal links need a "
        "licensed host. Attendance will be matched by email."
    )
    assert expected in event_page(client, editing_trainer, event)
    session = event.sessions.get()
    card = client.get(reverse("seminars:room_card", args=[session.room_id])).content.decode()
    assert expected in card
    # The learner is not told, and joins with the shared link.
    assert "Personal join links" not in event_page(client, learner, event)
    time_machine.move_to(session.start - timedelta(minutes=1))
    meeting = VirtualMeeting.objects.get()
    assert join(client, learner, session)["Location"] == meeting.join_url


def test_learners_still_being_registered_are_counted_with_what_they_wait_for(
    client, virtual_event, course, committed, trainer, test_provider
):
    ann, bob = learners(course, "ann", "bob")
    booking_create(event=virtual_event, user=ann, actor=ann)  # not committed yet: no sync has run
    html = event_page(client, trainer, virtual_event)
    assert "1 learner has no personal link yet: registering…</p>" in html
    test_provider.fail_next("register", "transient", times=2)
    committed(booking_create, event=virtual_event, user=bob, actor=bob)
    html = event_page(client, trainer, virtual_event)
    assert "2 learners have no personal link yet: registering… Test Meeting is temporarily unavailable." in html


def test_failed_registrations_are_shown_with_retry_for_the_owner_and_retry_registers_them(
    client,
    virtual_event,
    learner,
    committed,
    editing_trainer,
    trainer,
    test_provider,
    django_capture_on_commit_callbacks,
):
    test_provider.fail_next("register", "permanent", times=2)
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    failed = "1 learner has no personal link: Test Meeting refused the meeting settings. Their attendance will be"
    owner_page = event_page(client, editing_trainer, virtual_event)
    assert failed in owner_page
    assert owner_page.count("Retry now") == 2  # one per session
    trainer_page = event_page(client, trainer, virtual_event)
    assert failed in trainer_page and "Retry now" not in trainer_page  # trainers see why; owner and admins retry

    session, meeting = first_meeting(virtual_event)
    client.force_login(editing_trainer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("seminars:session_retry", args=[session.pk]))
    assert response.status_code == 302
    row = MeetingRegistrant.objects.get(meeting=meeting, key=booking_key(booking.pk))
    assert row.status == "registered"
    assert "1 learner has a personal join link" in event_page(client, editing_trainer, virtual_event)


def test_the_room_card_retries_failed_registrations(
    client, virtual_event, learner, committed, editing_trainer, test_provider, django_capture_on_commit_callbacks
):
    test_provider.fail_next("register", "permanent", times=2)
    committed(booking_create, event=virtual_event, user=learner, actor=learner)
    session, meeting = first_meeting(virtual_event)
    client.force_login(editing_trainer)
    card = client.get(reverse("seminars:room_card", args=[session.room_id])).content.decode()
    assert "1 learner has no personal link: Test Meeting refused the meeting settings." in card
    assert reverse("seminars:room_retry", args=[session.room_id]) in card
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("seminars:room_retry", args=[session.room_id]))
    assert MeetingRegistrant.objects.get(meeting=meeting).status == "registered"


def test_a_bulk_promotion_registers_the_learners_in_the_providers_batches(
    client, virtual_event, course, committed, test_provider, django_capture_on_commit_callbacks
):
    people = learners(course, "ann", "bob", "cat", "dan", "eve", "fay", "gus")
    bookings = [committed(booking_create, event=virtual_event, user=u, actor=u) for u in people]
    assert test_provider.calls("register") == 4  # the two booked, one call per meeting each
    first, second = virtual_event.sessions.order_by("start")
    rows = [row(first, room=room_choice(first.room)), row(second, room=room_choice(second.room))]
    save(client, virtual_event, rows, django_capture_on_commit_callbacks, capacity=10, waitlist_enabled="on")
    # Five promoted at once: one set per meeting, registered three a call (the test provider's batch).
    assert test_provider.calls("register") == 4 + 2 * 2
    assert {r.status for r in MeetingRegistrant.objects.all()} == {"registered"}
    assert_everywhere(virtual_event, keys(*bookings))


def test_the_registrants_of_an_event_are_synced_in_queries_that_do_not_grow_with_its_bookings(
    virtual_event, course, committed
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from seminars.meetings import event_registrants_sync

    def queries():
        with CaptureQueriesContext(connection) as captured:
            event_registrants_sync(event=virtual_event)
        return len(captured)

    virtual_event.capacity = 20
    virtual_event.save()
    for user in learners(course, "ann", "bob"):
        committed(booking_create, event=virtual_event, user=user, actor=user)
    few = queries()
    for user in learners(course, "cat", "dan", "eve", "fay", "gus", "hal", "ivy", "jon"):
        committed(booking_create, event=virtual_event, user=user, actor=user)
    assert queries() == few
    assert few <= 3 + 2 * 4  # meetings, bookings, staff; then each meeting's set (lock, rows, writes)


def test_a_provider_without_personal_links_says_so_and_everyone_uses_the_shared_link(
    client, virtual_event, learner, trainer, committed, test_provider, monkeypatch, time_machine
):
    monkeypatch.setattr(TestProvider, "supports_registrants", False)
    booking = committed(booking_create, event=virtual_event, user=learner, actor=learner)
    assert MeetingRegistrant.objects.filter(key=booking_key(booking.pk)).first().status == "unsupported"
    assert (
        "Personal join links are off: Test Meeting gives no personal join links: everyone uses the shared link. "
        "Attendance will be matched by email." in event_page(client, trainer, virtual_event)
    )
    session, meeting = first_meeting(virtual_event)
    registers = test_provider.calls("register")
    time_machine.move_to(session.start - timedelta(minutes=1))
    assert join(client, learner, session)["Location"] == meeting.join_url
    assert join(client, trainer, session)["Location"] == meeting.join_url
    assert test_provider.calls("register") == registers


# --- Meetings made before personal links: the periodic reconcile brings them into line ------------------
def made_before_personal_links(event):
    """The event's meetings as they were made before personal links existed: none asks for registration, and
    the spec applied at the provider has no word of it."""
    for meeting in VirtualMeeting.objects.filter(reference__startswith=f"seminars.event:{event.pk}:"):
        meeting.synced_spec.pop("registration", None)
        meeting.personal_links = meeting.registration = False
        meeting.save(update_fields=["synced_spec", "personal_links", "registration"])


@pytest.fixture
def legacy_event(virtual_event, course, committed):
    """The virtual event's meetings without personal links, and two learners who booked with the shared link."""
    made_before_personal_links(virtual_event)
    ann, bob = learners(course, "ann", "bob")
    bookings = [committed(booking_create, event=virtual_event, user=u, actor=u) for u in (ann, bob)]
    assert not MeetingRegistrant.objects.exists()
    virtual_event.legacy_bookings = bookings
    return virtual_event


def test_one_reconcile_run_gives_an_upcoming_events_meetings_personal_links_and_registers_its_seats(
    legacy_event, test_provider, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        assert meetings_reconcile() == 0  # nothing removed
    meetings = VirtualMeeting.objects.filter(present=True)
    assert {(m.personal_links, m.registration) for m in meetings} == {(True, True)}
    assert_everywhere(legacy_event, keys(*legacy_event.legacy_bookings))
    assert {r.status for r in MeetingRegistrant.objects.all()} == {"registered"}

    # Done: the next run finds nothing, makes no call and changes no meeting.
    versions = dict(meetings.values_list("pk", "desired_version"))
    calls = (test_provider.calls("update"), test_provider.calls("register"))
    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(3):
        assert meetings_reconcile() == 0  # the meetings and their sessions, then the backfill's one query
    assert dict(meetings.values_list("pk", "desired_version")) == versions
    assert (test_provider.calls("update"), test_provider.calls("register")) == calls


def test_with_nothing_to_backfill_the_backfill_is_one_query(virtual_event, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert meetings_personal_links_backfill() == 0


def test_meetings_already_over_are_left_as_they_were(legacy_event, time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(timezone.now() + timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert meetings_personal_links_backfill() == 0
    assert set(VirtualMeeting.objects.values_list("personal_links", flat=True)) == {False}
    assert not MeetingRegistrant.objects.exists()


def test_the_backfill_takes_at_most_its_limit_of_events_the_soonest_first(
    client, virtual_event, seminar, editing_trainer, django_capture_on_commit_callbacks
):
    from seminars.models import SeminarEvent
    from seminars.tests.conftest import make_session

    sooner = SeminarEvent.objects.create(seminar=seminar, name="Sooner", capacity=5, created_by=editing_trainer)
    make_session(sooner, (timezone.now() + timedelta(days=2)).replace(tzinfo=None, microsecond=0))
    sooner_session = sooner.sessions.get()
    save(client, sooner, [row(sooner_session, room=NEW_ZOOM_ROOM)], django_capture_on_commit_callbacks)
    for event in (virtual_event, sooner):
        made_before_personal_links(event)
    assert events_without_personal_links(limit=5) == [sooner.pk, virtual_event.pk]

    with django_capture_on_commit_callbacks(execute=True):
        assert meetings_personal_links_backfill(limit=1) == 1
    assert events_without_personal_links(limit=5) == [virtual_event.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert meetings_personal_links_backfill(limit=1) == 1
    assert events_without_personal_links(limit=5) == []


def test_an_event_that_cannot_be_synced_is_logged_and_the_others_go_on(
    client, legacy_event, seminar, editing_trainer, django_capture_on_commit_callbacks, caplog
):
    from seminars.models import Room, SeminarEvent
    from seminars.tests.conftest import make_session

    broken = SeminarEvent.objects.create(seminar=seminar, name="Broken", capacity=5, created_by=editing_trainer)
    make_session(broken, (timezone.now() + timedelta(days=2)).replace(tzinfo=None, microsecond=0))
    save(client, broken, [row(broken.sessions.get(), room=NEW_ZOOM_ROOM)], django_capture_on_commit_callbacks)
    made_before_personal_links(broken)
    Room.objects.filter(event=broken).update(virtual_kind="uninstalled")  # its provider left the site

    with django_capture_on_commit_callbacks(execute=True):
        assert meetings_personal_links_backfill() == 1
    assert_everywhere(legacy_event, keys(*legacy_event.legacy_bookings))
    assert events_without_personal_links() == [broken.pk]  # tried again next run
    assert f"Could not give personal links to the meetings of event {broken.pk}" in caplog.text
