"""The private calendar feed, parsed back with icalendar: who sees what, moves, cancellations, the token."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from seminars.models import Booking, CalendarFeed, Room, Seminar, SeminarEvent
from seminars.services.bookings import booking_cancel, booking_create
from seminars.services.calendar_feeds import calendar_feed_get_or_create
from seminars.services.events import event_cancel
from seminars.tests.conftest import event_post_data, make_session

MEETING_LINK = "https://meet.example.com/j/98765?pwd=very-secret"


def feed_url(user):
    return reverse("seminars:calendar_feed", args=[calendar_feed_get_or_create(user=user).token])


def read_feed(client, user):
    response = client.get(feed_url(user))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def by_uid(calendar):
    return {str(vevent["UID"]): vevent for vevent in calendar.events}


def uid(session):
    return f"session-{session.pk}@testserver"


@pytest.fixture
def other_event(seminar, editing_trainer):
    other = SeminarEvent.objects.create(seminar=seminar, name="Autumn intake", capacity=5, created_by=editing_trainer)
    make_session(other, datetime(2031, 10, 1, 9, 0), zone="Europe/Paris")
    return other


def test_a_booked_learner_reads_their_sessions_without_signing_in(client, event, learner):
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    session = event.sessions.get()

    calendar = read_feed(client, learner)

    assert calendar["VERSION"] == "2.0" and "METHOD" not in calendar
    [vevent] = calendar.events
    assert vevent["UID"] == uid(session)
    assert vevent.start == session.start and vevent.end == session.finish
    assert vevent["STATUS"] == "CONFIRMED"
    assert vevent["SUMMARY"] == "Fire wardens: Spring intake"
    assert str(vevent["URL"]) == f"http://testserver/events/{event.pk}/"


def test_an_unknown_token_is_not_found(client, db):
    assert client.get(reverse("seminars:calendar_feed", args=["no-such-token"])).status_code == 404


def test_a_deactivated_accounts_link_stops_working(client, event, learner):
    url = feed_url(learner)
    assert client.get(url).status_code == 200
    learner.is_active = False
    learner.save()
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("learner_booked", True),
        ("learner_waitlisted", False),
        ("trainer", True),
        ("editing_trainer", True),
        ("site_admin", False),  # sees every event in the product, but teaches none: nothing in their calendar
        ("outsider", False),
    ],
)
def test_who_sees_the_session(client, event, learner, trainer, editing_trainer, site_admin, outsider, who, sees):
    users = {
        "learner_booked": learner,
        "learner_waitlisted": learner,
        "trainer": trainer,
        "editing_trainer": editing_trainer,
        "site_admin": site_admin,
        "outsider": outsider,
    }
    if who.startswith("learner"):
        state = Booking.State.BOOKED if who == "learner_booked" else Booking.State.WAITLISTED
        Booking.objects.create(event=event, user=learner, state=state)

    uids = set(by_uid(read_feed(client, users[who])))

    assert uids == ({uid(event.sessions.get())} if sees else set())


def test_a_token_shows_only_its_owners_sessions(client, event, other_event, learner, learner2):
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    Booking.objects.create(event=other_event, user=learner2, state=Booking.State.BOOKED)

    assert set(by_uid(read_feed(client, learner))) == {uid(event.sessions.get())}
    assert set(by_uid(read_feed(client, learner2))) == {uid(other_event.sessions.get())}


def test_a_moved_session_keeps_its_uid_with_the_new_time_and_a_higher_sequence(
    client, event, learner, editing_trainer, time_machine
):
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    session = event.sessions.get()
    before = by_uid(read_feed(client, learner))[uid(session)]

    time_machine.move_to(timezone.now() + timedelta(minutes=5))
    client.force_login(editing_trainer)
    zone = ZoneInfo(session.time_zone)
    new_start = session.start + timedelta(days=1, hours=2)
    data = event_post_data(
        sessions=[
            {
                "id": session.pk,
                "start": new_start.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
                "finish": (new_start + timedelta(hours=1)).astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
                "zone": session.time_zone,
            }
        ],
        initial_forms=1,
        capacity=event.capacity,
    )
    assert client.post(reverse("seminars:event_edit", args=[event.pk]), data).status_code == 302
    client.logout()

    after = by_uid(read_feed(client, learner))[uid(session)]
    assert after.start == new_start and after.end == new_start + timedelta(hours=1)
    assert after["SEQUENCE"] > before["SEQUENCE"]


def test_a_cancelled_seat_is_listed_cancelled_for_30_days(client, event, learner, time_machine):
    event.cancellation_policy = SeminarEvent.CancellationPolicy.ANY_TIME
    event.save()
    booking = booking_create(event=event, user=learner, actor=learner)
    session = event.sessions.get()
    before = by_uid(read_feed(client, learner))[uid(session)]

    time_machine.move_to(timezone.now() + timedelta(minutes=1))
    booking_cancel(booking=booking, actor=learner)

    after = by_uid(read_feed(client, learner))[uid(session)]
    assert after["STATUS"] == "CANCELLED"
    assert after["SEQUENCE"] > before["SEQUENCE"]

    time_machine.move_to(timezone.now() + timedelta(days=31))
    assert read_feed(client, learner).events == []


def test_a_cancelled_waitlist_place_is_not_listed(client, event, learner, learner2, trainer):
    event.capacity = 1
    event.waitlist_enabled = True
    event.cancellation_policy = SeminarEvent.CancellationPolicy.ANY_TIME
    event.save()
    booking_create(event=event, user=learner2, actor=learner2)
    waiting = booking_create(event=event, user=learner, actor=learner)
    assert waiting.state == Booking.State.WAITLISTED
    booking_cancel(booking=waiting, actor=learner)

    assert read_feed(client, learner).events == []


def test_a_cancelled_event_is_listed_cancelled_for_learners_and_trainers(client, event, learner, trainer, time_machine):
    booking_create(event=event, user=learner, actor=learner)
    session = event.sessions.get()
    before = by_uid(read_feed(client, learner))[uid(session)]

    time_machine.move_to(timezone.now() + timedelta(minutes=1))
    event_cancel(event=event, actor=trainer)

    for user in (learner, trainer):
        vevent = by_uid(read_feed(client, user))[uid(session)]
        assert vevent["STATUS"] == "CANCELLED"
        assert vevent["SEQUENCE"] > before["SEQUENCE"]


def test_sessions_older_than_30_days_leave_the_feed(client, event, learner):
    old = make_session(event, timezone.now() - timedelta(days=40))
    recent = make_session(event, timezone.now() - timedelta(days=20))
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)

    uids = set(by_uid(read_feed(client, learner)))

    assert uid(recent) in uids and uid(old) not in uids


def test_the_feed_has_our_join_address_and_never_the_providers_link(client, event, learner):
    room = Room.objects.create(name="Online room", capacity=20, virtual_kind="custom", virtual_url=MEETING_LINK)
    event.sessions.update(room=room)
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    session = event.sessions.get()

    response = client.get(feed_url(learner))

    assert b"meet.example.com" not in response.content and b"very-secret" not in response.content
    [vevent] = Calendar.from_ical(response.content).events
    join = f"http://testserver/sessions/{session.pk}/virtual/join/"
    assert join in vevent["DESCRIPTION"]
    assert "15 minutes before" in vevent["DESCRIPTION"]
    assert vevent["LOCATION"] == "Online room"


def test_reset_makes_the_old_address_unknown(client, event, learner):
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    old = feed_url(learner)
    client.force_login(learner)

    response = client.post(reverse("seminars:calendar_feed_reset"))

    assert response.status_code == 302
    client.logout()
    assert client.get(old).status_code == 404
    new = feed_url(learner)
    assert new != old
    assert len(read_feed(client, learner).events) == 1


def test_reset_needs_a_signed_in_post(client, learner):
    token = calendar_feed_get_or_create(user=learner).token
    response = client.post(reverse("seminars:calendar_feed_reset"))
    assert response.status_code == 302 and "/login" in response["Location"]
    client.force_login(learner)
    assert client.get(reverse("seminars:calendar_feed_reset")).status_code == 405
    assert CalendarFeed.objects.get(user=learner).token == token


def test_reset_changes_only_the_callers_link(client, learner, learner2):
    other = calendar_feed_get_or_create(user=learner2).token
    client.force_login(learner)
    client.post(reverse("seminars:calendar_feed_reset"))
    assert CalendarFeed.objects.get(user=learner2).token == other


@pytest.mark.parametrize("who", ["site_admin", "editing_trainer", "trainer", "learner", "outsider"])
def test_every_signed_in_user_sees_their_own_address_on_the_profile(
    client, site_admin, editing_trainer, trainer, learner, outsider, who
):
    user = {
        "site_admin": site_admin,
        "editing_trainer": editing_trainer,
        "trainer": trainer,
        "learner": learner,
        "outsider": outsider,
    }[who]
    address = f"http://testserver{feed_url(user)}"  # the link the user made earlier
    client.force_login(user)
    html = client.get(reverse("seminars:profile")).content.decode()
    assert address in html
    assert "Calendar subscription" in html and "Reset link" in html and "Copy" in html
    others = CalendarFeed.objects.exclude(user=user).values_list("token", flat=True)
    assert not any(token in html for token in others)


def test_the_profile_writes_nothing_and_offers_a_link_to_a_user_without_one(client, learner):
    client.force_login(learner)

    html = client.get(reverse("seminars:profile")).content.decode()

    assert not CalendarFeed.objects.filter(user=learner).exists()  # a GET makes no feed
    assert "Get my calendar link" in html and "Reset link" not in html
    response = client.post(reverse("seminars:calendar_feed_reset"), follow=True)
    feed = CalendarFeed.objects.get(user=learner)
    html = response.content.decode()
    assert "Your calendar link is ready" in html
    assert f"http://testserver{reverse('seminars:calendar_feed', args=[feed.token])}" in html


def test_the_profile_needs_sign_in(client, db):
    response = client.get(reverse("seminars:profile"))
    assert response.status_code == 302 and "/login" in response["Location"]


def _many(course, editing_trainer, learner, count):
    seminar = Seminar.objects.create(course=course, name=f"Seminar {count}")
    room = Room.objects.create(name=f"Online {count}", capacity=20, virtual_kind="custom", virtual_url=MEETING_LINK)
    for number in range(count):
        ev = SeminarEvent.objects.create(seminar=seminar, name=f"Event {number}", created_by=editing_trainer)
        make_session(ev, datetime(2031, 5, 1 + number, 9, 0), room=room)
        Booking.objects.create(event=ev, user=learner, state=Booking.State.BOOKED)


@pytest.mark.parametrize("count", [3, 15])
def test_the_feed_takes_a_constant_number_of_queries(
    client, course, editing_trainer, learner, count, django_assert_max_num_queries
):
    _many(course, editing_trainer, learner, count)
    for user in (learner, editing_trainer):
        url = feed_url(user)
        with django_assert_max_num_queries(5):
            response = client.get(url)
        assert len(Calendar.from_ical(response.content).events) == count
