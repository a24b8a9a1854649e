"""What every viewer of an event sees is cached (seminars.page_cache); no page ever shows it stale after a change.

Each test loads the event page (which caches the event), changes one thing it shows the way the product does
(the editor, the services, a save), and loads the page again: the change shows at once. Then: the cache is
really used (a page in the steady state reads no event, session or room row), and a value computed while a
change happened is never served.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from seminars import page_cache
from seminars.models import Enrolment, EventTrainer, Room, SeminarEvent, Session
from seminars.services.bookings import booking_cancel, booking_create
from seminars.services.courses import course_update, enrolment_create, enrolment_delete, seminar_update
from seminars.tests.conftest import enrol, event_post_data, make_user
from seminars.tests.test_rooms import room_fields

pytestmark = pytest.mark.django_db


def _page(client, event) -> str:
    response = client.get(reverse("seminars:event", args=[event.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _seats_left(html: str) -> str:
    return html.split("<dt>Seats left</dt><dd>", 1)[1].split("<", 1)[0]


def _edit(client, event, **fields):
    session = event.sessions.get()
    local = session.start.astimezone(ZoneInfo(session.time_zone))
    row = {
        "id": session.pk,
        "start": fields.pop("start", local.strftime("%Y-%m-%dT%H:%M")),
        "finish": fields.pop("finish", (local + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")),
        "zone": session.time_zone,
        **({"room": fields.pop("room")} if "room" in fields else {}),
    }
    response = client.post(
        reverse("seminars:event_edit", args=[event.pk]),
        event_post_data(sessions=[row], initial_forms=1, **fields),
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def test_editing_the_event_and_its_session_shows_at_once(client, event, editing_trainer, learner):
    client.force_login(learner)
    html = _page(client, event)
    assert "Spring intake" in html and "About the drill" not in html

    client.force_login(editing_trainer)
    start = event.sessions.get().start.astimezone(ZoneInfo("Europe/London")) + timedelta(days=1)
    _edit(
        client,
        event,
        name="Summer intake",
        details="About the drill",
        capacity="7",
        start=start.strftime("%Y-%m-%dT%H:%M"),
        finish=(start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    )
    client.force_login(learner)
    html = _page(client, event)
    assert "Summer intake" in html and "About the drill" in html
    assert "<dt>Capacity</dt><dd>7</dd>" in html
    assert start.strftime("%-d %b %Y") in html


def test_a_session_added_and_deleted_shows_at_once(client, event, learner):
    client.force_login(learner)
    _page(client, event)
    later = event.sessions.get().start + timedelta(days=3)
    added = Session.objects.create(event=event, start=later, finish=later + timedelta(hours=2), time_zone="UTC")
    assert _page(client, event).count('data-label="When"') == 2

    added.delete()
    assert _page(client, event).count('data-label="When"') == 1


def test_bookings_and_cancellations_move_the_seats_left_at_once(client, event, learner, learner2):
    client.force_login(learner)
    assert _seats_left(_page(client, event)) == "2"

    other = booking_create(event=event, user=learner2, actor=learner2)  # by someone else
    assert _seats_left(_page(client, event)) == "1"

    booking_cancel(booking=other, actor=learner2)
    assert _seats_left(_page(client, event)) == "2"


def test_a_renamed_site_room_and_a_room_deleted_show_at_once(client, admin_client, event, site_room, learner):
    session = event.sessions.get()
    session.room = site_room
    session.save()
    client.force_login(learner)
    assert "Training room 1" in _page(client, event)

    response = admin_client.post(reverse("seminars:site_room_edit", args=[site_room.pk]), room_fields())
    assert response.status_code == 302
    html = _page(client, event)
    assert "Board room" in html and "Training room 1" not in html

    Room.objects.filter(pk=site_room.pk).delete()  # its sessions' room is cleared by an UPDATE: no signal
    html = _page(client, event)
    assert "Board room" not in html and "No room" in html


def test_renaming_the_course_and_the_seminar_shows_at_once(client, event, course, seminar, learner, site_admin):
    client.force_login(learner)
    _page(client, event)

    seminar_update(seminar=seminar, actor=site_admin, name="Evacuation leads")
    assert "Evacuation leads: Spring intake" in _page(client, event)

    course_update(course=course, actor=site_admin, name="Safety at work")
    assert "Safety at work" in _page(client, event)


def test_assigning_a_trainer_and_a_trainer_leaving_the_staff_show_at_once(
    client, event, course, learner, trainer, editing_trainer, site_admin
):
    client.force_login(learner)
    html = _page(client, event)
    # Nobody assigned: the course's staff stand in.
    assert trainer.get_full_name() in html and editing_trainer.get_full_name() in html

    EventTrainer.objects.create(event=event, user=trainer, role=EventTrainer.Role.FACILITATOR)
    html = _page(client, event)
    assert f"{trainer.get_full_name()} (Facilitator)" in html and editing_trainer.get_full_name() not in html

    enrolment_delete(enrolment=Enrolment.objects.get(course=course, user=trainer), actor=site_admin)
    html = _page(client, event)  # the one assigned left the staff: the staff stand in again
    assert trainer.get_full_name() not in html and editing_trainer.get_full_name() in html

    newcomer = make_user("nina", first_name="Nina", last_name="New")
    enrolment_create(course=course, user=newcomer, role=Enrolment.Role.TRAINER, actor=site_admin)
    assert "Nina New" in _page(client, event)


def test_a_trainer_renamed_shows_at_once_and_a_login_does_not_empty_the_cache(client, event, learner, trainer):
    client.force_login(learner)
    assert trainer.get_full_name() in _page(client, event)

    client.force_login(trainer)  # saves last_login only
    client.force_login(learner)
    with CaptureQueriesContext(connection) as queries:
        _page(client, event)
    assert not [q for q in queries.captured_queries if 'SELECT "seminars_seminarevent"."id"' in q["sql"]]

    trainer.first_name = "Terence"
    trainer.save()
    assert "Terence" in _page(client, event)


def test_the_trainers_attendee_list_follows_bookings_and_names(client, event, trainer, learner, learner2):
    client.force_login(trainer)
    html = _page(client, event)
    assert learner.email not in html

    booking = booking_create(event=event, user=learner, actor=learner)
    html = _page(client, event)
    assert learner.email in html and "Booked (1)" in html

    learner.email = "lena.new@example.com"
    learner.save()
    assert "lena.new@example.com" in _page(client, event)

    booking_cancel(booking=booking, actor=learner, reason="Clashes with an audit")
    html = _page(client, event)
    assert "Booked (0)" in html and "Clashes with an audit" in html


def test_in_the_steady_state_the_event_page_reads_no_event_session_or_room_row(client, event, site_room, learner):
    session = event.sessions.get()
    session.room = site_room
    session.save()
    client.force_login(learner)
    _page(client, event)  # caches

    with CaptureQueriesContext(connection) as queries:
        html = _page(client, event)

    assert "Training room 1" in html
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    # (The viewer's own reads stay: their booking, and whether another seat of theirs clashes with this event.)
    for table in ("seminars_seminarevent", "seminars_session", "seminars_room", "seminars_course"):
        assert f'SELECT "{table}"."id"' not in sql, table


def test_a_value_computed_while_a_change_happened_is_never_served(monkeypatch, event, learner2):
    """A reader reads the event while a booking is made: what it stores is tagged with the tokens it read before,
    so the next reader reads again and sees the booking."""
    from seminars.selectors import bookings as selectors

    real = selectors.event_for_page
    made = []

    def booking_made_meanwhile(*, event_id):
        read = real(event_id=event_id)  # the old seat count
        if not made:
            made.append(booking_create(event=SeminarEvent.objects.get(pk=event_id), user=learner2, actor=learner2))
        return read

    monkeypatch.setattr(selectors, "event_for_page", booking_made_meanwhile)
    assert page_cache.event_shared(event.pk).event.seats_taken == 0
    assert page_cache.event_shared(event.pk).event.seats_taken == 1


def test_a_value_stored_before_the_commit_is_dropped_when_the_change_commits(
    django_capture_on_commit_callbacks, event, learner2
):
    """Another process may read the old rows after the change's first mark and before its commit; the mark given
    again at commit makes what it stored useless."""
    page_cache.event_shared(event.pk)
    with django_capture_on_commit_callbacks(execute=True):
        booking_create(event=event, user=learner2, actor=learner2)
        stale = page_cache.event_shared(event.pk)  # what another connection would store now: tokens of now
        stale.event.seats_taken = 0
        from django.core.cache import cache

        from lms import generations

        cache.set(
            f"pages:event:{event.pk}",
            {**generations.entry((stale.event, stale.trainers), stale.tokens), "course_id": event.seminar.course_id},
        )

    assert page_cache.event_shared(event.pk).event.seats_taken == 1


def test_an_event_deleted_is_not_found_and_its_id_is_not_mixed_up(client, event, seminar, learner):
    client.force_login(learner)
    _page(client, event)
    pk = event.pk
    SeminarEvent.objects.filter(pk=pk).delete()
    assert client.get(reverse("seminars:event", args=[pk])).status_code == 404


def test_an_outsider_gets_404_from_a_cached_event(client, event, learner, outsider):
    client.force_login(learner)
    _page(client, event)
    client.force_login(outsider)
    assert client.get(reverse("seminars:event", args=[event.pk])).status_code == 404
    enrol(outsider, event.seminar.course)
    assert client.get(reverse("seminars:event", args=[event.pk])).status_code == 200


# ---- The rows of "My sessions" ------------------------------------------------------------------------------


def _booked(event, learner):
    booking_create(event=event, user=learner, actor=learner)


def test_my_sessions_rows_follow_a_moved_session_a_renamed_room_and_the_viewers_zone(client, event, site_room, learner):
    from seminars.services.profiles import profile_update

    session = event.sessions.get()
    session.room = site_room
    session.save()
    _booked(event, learner)
    client.force_login(learner)
    dashboard = reverse("seminars:dashboard")
    html = client.get(dashboard).content.decode()
    assert "Training room 1" in html and "Spring intake" in html

    later = session.start + timedelta(days=2)
    session.start, session.finish = later, later + timedelta(hours=1)
    session.save()
    html = client.get(dashboard).content.decode()
    assert later.astimezone(ZoneInfo("Europe/London")).strftime("%-d %b %Y") in html

    site_room.name = "Lecture hall"
    site_room.save()
    assert "Lecture hall" in client.get(dashboard).content.decode()

    profile_update(user=learner, time_zone="Asia/Tokyo")
    html = client.get(dashboard).content.decode()
    assert "(Asia/Tokyo)" in html and later.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M") in html


def test_my_sessions_booked_count_follows_bookings_at_once(client, event, trainer, learner, learner2):
    client.force_login(trainer)
    dashboard = reverse("seminars:dashboard")
    assert "0 / 2" in client.get(dashboard).content.decode()

    _booked(event, learner)
    assert "1 / 2" in client.get(dashboard).content.decode()


def test_a_fragment_missing_from_the_cache_is_made_from_its_rows_read_again(event):
    """The list's rows were read before the fragment's tokens: a change in between must not be stored as current."""
    stale = SeminarEvent.objects.get(pk=event.pk)  # the list read this row ...
    event.name = "Renamed meanwhile"
    event.save()  # ... then the event changed, before its fragment was made
    items = [(f"{event.pk}:test", event.pk, event.seminar.course_id, stale)]

    def render_fresh(objs):  # as event_rows does: the rows read again
        return [(SeminarEvent.objects.get(pk=obj.pk).name, f"{obj.pk}:test") for obj in objs]

    assert page_cache.event_fragments("test-row", items, render_fresh) == ["Renamed meanwhile"]
    assert page_cache.event_fragments("test-row", items, lambda objs: pytest.fail("made again")) == [
        "Renamed meanwhile"
    ]  # now from the cache
    event.name = "Renamed again"
    event.save()
    assert page_cache.event_fragments("test-row", items, render_fresh) == ["Renamed again"]


# ---- The rows of the seminar page ---------------------------------------------------------------------------


def _seminar_page(client, seminar) -> str:
    response = client.get(reverse("seminars:seminar", args=[seminar.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _event_row(html: str, title: str) -> str:
    return html.split(f">{title}</a>", 1)[1].split("</tr>", 1)[0]


def test_seminar_page_rows_follow_bookings_sessions_and_rooms_at_once(
    client, seminar, event, site_room, learner, learner2
):
    client.force_login(learner)
    row = _event_row(_seminar_page(client, seminar), "Spring intake")
    assert "You:" not in row and ">Sign up<" in row and "2 <span" in row

    booking_create(event=event, user=learner2, actor=learner2)  # someone else: one seat fewer
    assert "1 <span" in _event_row(_seminar_page(client, seminar), "Spring intake")

    booking_create(event=event, user=learner, actor=learner)  # the viewer: their state in the row
    row = _event_row(_seminar_page(client, seminar), "Spring intake")
    assert "You: Booked" in row and ">View event<" in row

    session = event.sessions.get()
    session.room = site_room
    session.save()
    assert "Training room 1" in _event_row(_seminar_page(client, seminar), "Spring intake")
    site_room.name = "Lecture hall"
    site_room.save()
    assert "Lecture hall" in _event_row(_seminar_page(client, seminar), "Spring intake")


def test_seminar_page_rows_follow_the_clock(client, seminar, event, learner, time_machine):
    """The status and the sign-up button depend on the moment: a cached row never outlives them. (The clock moves
    by minutes, well inside the cache's timeouts.)"""
    from django.utils import timezone

    time_machine.move_to(timezone.now(), tick=False)
    session = event.sessions.get()
    session.start, session.finish = timezone.now() + timedelta(minutes=10), timezone.now() + timedelta(minutes=70)
    session.save()
    client.force_login(learner)
    assert ">Sign up<" in _event_row(_seminar_page(client, seminar), "Spring intake")

    time_machine.shift(timedelta(minutes=15))
    row = _event_row(_seminar_page(client, seminar), "Spring intake")
    assert "In progress" in row and ">Sign up<" not in row  # the same viewer and data: only the clock moved


def test_seminar_page_rows_differ_by_viewer_where_the_viewer_matters(client, seminar, event, learner, trainer):
    client.force_login(learner)
    assert ">Sign up<" in _event_row(_seminar_page(client, seminar), "Spring intake")
    client.force_login(trainer)  # not a learner: never offered to sign up, whatever a learner's row said
    assert ">View event<" in _event_row(_seminar_page(client, seminar), "Spring intake")


def test_two_learners_see_their_own_booking_in_the_same_row(client, seminar, event, learner, learner2):
    booking_create(event=event, user=learner, actor=learner)
    client.force_login(learner)
    assert "You: Booked" in _event_row(_seminar_page(client, seminar), "Spring intake")
    client.force_login(learner2)
    row = _event_row(_seminar_page(client, seminar), "Spring intake")
    assert "You:" not in row and ">Sign up<" in row


# ---- The seminar page's list of events ---------------------------------------------------------------------


def test_a_new_event_and_a_moved_session_change_the_seminar_list_at_once(client, seminar, event, learner):
    client.force_login(learner)
    assert "Autumn intake" not in _seminar_page(client, seminar)

    autumn = SeminarEvent.objects.create(seminar=seminar, name="Autumn intake", capacity=5)
    soon = event.sessions.get().start - timedelta(days=2)
    autumn_session = Session.objects.create(event=autumn, start=soon, finish=soon + timedelta(hours=1), time_zone="UTC")
    html = _seminar_page(client, seminar)
    assert html.index("Autumn intake") < html.index("Spring intake")  # by first session

    autumn_session.start = autumn_session.start + timedelta(days=4)
    autumn_session.finish = autumn_session.start + timedelta(hours=1)
    autumn_session.save()
    html = _seminar_page(client, seminar)
    assert html.index("Spring intake") < html.index("Autumn intake")


def test_an_event_that_ends_moves_to_the_past_events_at_its_end(client, seminar, event, learner, time_machine):
    from django.utils import timezone

    time_machine.move_to(timezone.now(), tick=False)
    session = event.sessions.get()
    session.start, session.finish = timezone.now() - timedelta(minutes=50), timezone.now() + timedelta(minutes=10)
    session.save()
    client.force_login(learner)
    html = _seminar_page(client, seminar)
    assert "Spring intake" in html and "Past events (" not in html

    time_machine.shift(timedelta(minutes=11))
    html = _seminar_page(client, seminar)
    assert "Spring intake" not in html and "Past events (1)" in html
    past = client.get(reverse("seminars:seminar", args=[seminar.pk]) + "?past=1").content.decode()
    assert "Spring intake" in past


def test_a_deleted_seminar_is_not_found(client, seminar, event, learner):
    client.force_login(learner)
    _seminar_page(client, seminar)
    pk = seminar.pk
    seminar.delete()
    assert client.get(reverse("seminars:seminar", args=[pk])).status_code == 404


def test_any_page_number_gives_a_page(client, seminar, event, learner):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    client.force_login(learner)
    url = reverse("seminars:seminar", args=[seminar.pk])

    @settings(max_examples=60, deadline=None)
    @given(page=st.text(max_size=30), past=st.sampled_from(["", "1", "x"]))
    def check(page, past):
        response = client.get(url, {"page": page, "past": past})
        assert response.status_code == 200

    check()


def test_the_viewers_booking_shows_in_the_seminar_list_even_when_no_notice_went_out(client, seminar, event, learner):
    """The viewer's booking states are one of their cached facts: any saved booking moves them, not only the ones
    that notify (which move them anyway)."""
    from seminars.models import Booking

    client.force_login(learner)
    assert "You:" not in _event_row(_seminar_page(client, seminar), "Spring intake")

    booking = Booking.objects.create(event=event, user=learner, state=Booking.State.WAITLISTED)
    assert "You: Waitlisted" in _event_row(_seminar_page(client, seminar), "Spring intake")

    booking.delete()
    assert "You:" not in _event_row(_seminar_page(client, seminar), "Spring intake")


def test_a_row_another_viewer_cached_never_hides_the_viewers_own_booking(client, seminar, event, learner, learner2):
    from django.test import Client

    from seminars.models import Booking

    other = Client()
    other.force_login(learner2)
    client.force_login(learner)  # (a login saves the user, which moves their facts: log in first)
    _seminar_page(client, seminar)  # caches the learner's facts: no booking
    Booking.objects.create(event=event, user=learner, state=Booking.State.WAITLISTED)  # no notice
    assert "You:" not in _event_row(_seminar_page(other, seminar), "Spring intake")  # a row with no booking

    assert "You: Waitlisted" in _event_row(_seminar_page(client, seminar), "Spring intake")


def test_the_event_details_card_is_kept_per_zone_and_role(client, event, learner, learner2, trainer):
    from django.test import Client
    from django.utils import timezone

    from seminars.services.profiles import profile_update

    event.registration_closes_at = timezone.now() + timedelta(days=2)
    event.minimum_bookings = 2
    event.save()
    profile_update(user=learner2, time_zone="Asia/Tokyo")
    viewers = {}
    for user in (learner, learner2, trainer):
        viewers[user.username] = Client()
        viewers[user.username].force_login(user)

    london = _page(viewers[learner.username], event)
    tokyo = _page(viewers[learner2.username], event)
    staff = _page(viewers[trainer.username], event)

    assert "(UTC)" in london.split("Registration</dt>", 1)[1].split("</dd>", 1)[0]
    assert "(Asia/Tokyo)" in tokyo.split("Registration</dt>", 1)[1].split("</dd>", 1)[0]
    assert "Minimum bookings" in staff and "Minimum bookings" not in london


def test_the_event_page_shows_a_booking_saved_without_notice_and_its_removal(client, event, learner):
    from seminars.models import Booking

    client.force_login(learner)
    assert "You have not signed up for this event." in _page(client, event)

    booking = Booking.objects.create(event=event, user=learner, state=Booking.State.WAITLISTED)
    html = _page(client, event)
    assert '<span class="badge badge-warn">Waitlisted</span>' in html

    booking.delete()
    assert "You have not signed up for this event." in _page(client, event)


def test_the_viewers_own_booking_is_read_from_the_cache_and_follows_every_change(client, event, trainer, learner):
    from seminars.models import Booking

    booking = booking_create(event=event, user=learner, actor=learner)
    client.force_login(learner)
    _page(client, event)  # caches the booking with the event
    with CaptureQueriesContext(connection) as queries:
        html = _page(client, event)
    assert '<span class="badge badge-ok">Booked</span>' in html
    assert 'FROM "seminars_booking"' not in " ".join(query["sql"] for query in queries.captured_queries)

    booking_cancel(booking=Booking.objects.get(pk=booking.pk), actor=trainer, reason="Moved to May")  # by someone else
    html = _page(client, event)
    assert "Booked</span>" not in html and "Cancelled" in html

    booking_create(event=event, user=learner, actor=learner)  # booked again
    assert '<span class="badge badge-ok">Booked</span>' in _page(client, event)


def test_another_viewers_cached_booking_is_never_shown(client, event, learner, learner2):
    from seminars.models import Booking

    booking_create(event=event, user=learner, actor=learner)
    Booking.objects.create(event=event, user=learner2, state=Booking.State.WAITLISTED)
    client.force_login(learner)
    assert '<span class="badge badge-ok">Booked</span>' in _page(client, event)  # cached under the same tokens
    client.force_login(learner2)  # has a booking too: read under their own key, never lena's
    html = _page(client, event)
    assert '<span class="badge badge-warn">Waitlisted</span>' in html and 'badge-ok">Booked' not in html


@pytest.fixture
def held(settings, event, editing_trainer, learner, django_capture_on_commit_callbacks):
    from seminars.tests.meeting_scene import enable_test_provider, held_session

    enable_test_provider(settings)
    return held_session(
        event=event, owner=editing_trainer, learners=[learner], run_on_commit=django_capture_on_commit_callbacks
    )


def _store_recording(meeting, remote_id="file-video"):
    from virtualmeeting.participation import recordings_store
    from virtualmeeting.providers.base import RecordingRecord

    record = RecordingRecord(
        remote_id=remote_id,
        file_type="MP4",
        recording_type="shared_screen",
        play_url=f"https://zoom.test/rec/{remote_id}",
        passcode="Sec-ret7",
    )
    recordings_store(meeting=meeting, records=[record])


def test_an_event_without_recordings_asks_the_database_none_and_a_new_recording_shows_at_once(
    client, held, event, learner
):
    from django.core.cache import cache

    client.force_login(learner)
    _page(client, event)
    with CaptureQueriesContext(connection) as queries:
        html = _page(client, event)
    assert "recordings-title" not in html
    assert "virtualmeeting_meetingrecording" not in " ".join(query["sql"] for query in queries.captured_queries)

    _store_recording(held.meeting)  # the provider's recording.completed, stored (inside its transaction)
    html = _page(client, event)
    assert "https://zoom.test/rec/file-video" in html and "Sec-ret7" in html
    # Only whether there are recordings is cached: never a link or a passcode.
    assert cache.get(f"pages:event:{event.pk}:recordings")["value"] is True


def test_a_trashed_recording_recovered_shows_at_once(client, held, event, learner):
    from virtualmeeting.participation import recording_status

    _store_recording(held.meeting)
    recording_status(provider="test", remote_id=held.meeting.remote_id, file_ids=["file-video"], status="trashed")
    client.force_login(learner)
    assert "Sec-ret7" not in _page(client, event)  # cached: this event has no recording to show

    recording_status(provider="test", remote_id=held.meeting.remote_id, file_ids=["file-video"], status="recovered")
    assert "Sec-ret7" in _page(client, event)


def _approvals(client) -> str:
    html = client.get(reverse("seminars:dashboard")).content.decode()
    if 'class="nav-count">' not in html:
        return "none"
    return html.split('class="nav-count">', 1)[1].split("<", 1)[0]


def test_the_approvals_count_is_cached_and_follows_every_change_that_moves_it(
    client, course, seminar, event, learner, learner2, trainer, site_admin
):
    from seminars.models import Profile, Seminar
    from seminars.services.approvals import booking_request_approve

    seminar.approval_type = Seminar.ApprovalType.TRAINER
    seminar.save()
    client.force_login(trainer)
    assert _approvals(client) == "none"

    request = booking_create(event=event, user=learner, actor=learner)  # a request
    assert _approvals(client) == "1"
    booking_create(event=event, user=learner2, actor=learner2)
    assert _approvals(client) == "2"
    with CaptureQueriesContext(connection) as queries:
        assert _approvals(client) == "2"
    assert 'COUNT(*) AS "__count" FROM "seminars_booking"' not in " ".join(q["sql"] for q in queries.captured_queries)

    booking_request_approve(booking=request, actor=trainer)
    assert _approvals(client) == "1"

    seminar.approval_type = Seminar.ApprovalType.MANAGER  # now the learners' managers decide
    seminar.save()
    assert _approvals(client) == "none"
    manager = make_user("mona")
    client.force_login(manager)
    assert _approvals(client) == "none"
    Profile.objects.update_or_create(user=learner2, defaults={"manager": manager})
    assert _approvals(client) == "1"

    seminar.approval_type = Seminar.ApprovalType.TRAINER
    seminar.save()
    client.force_login(trainer)
    assert _approvals(client) == "1"
    from seminars.services.courses import enrolment_set_role

    enrolment = Enrolment.objects.get(course=course, user=trainer)
    enrolment_set_role(enrolment=enrolment, role=Enrolment.Role.LEARNER, actor=site_admin)  # no longer staff
    assert _approvals(client) == "none"

    client.force_login(site_admin)  # a site admin decides every request
    assert _approvals(client) == "1"


def test_the_approvals_count_follows_a_second_course_and_a_second_managed_learner(
    client, course, seminar, event, learner, learner2, trainer, site_admin
):
    from seminars.models import Course, Profile, Seminar, SeminarEvent
    from seminars.services.courses import enrolment_set_role

    seminar.approval_type = Seminar.ApprovalType.TRAINER
    seminar.save()
    booking_create(event=event, user=learner, actor=learner)
    other_course = Course.objects.create(name="Ladders")
    other_seminar = Seminar.objects.create(course=other_course, name="Ladders 1", approval_type="trainer")
    other_event = SeminarEvent.objects.create(seminar=other_seminar, capacity=5)
    enrol(learner2, other_course)
    booking_create(event=other_event, user=learner2, actor=learner2)
    client.force_login(trainer)
    assert _approvals(client) == "1"  # cached
    staff = enrol(trainer, other_course)
    enrolment_set_role(enrolment=staff, role=Enrolment.Role.TRAINER, actor=site_admin)  # now teaches there too
    assert _approvals(client) == "2"

    seminar.approval_type = other_seminar.approval_type = Seminar.ApprovalType.MANAGER
    seminar.save()
    other_seminar.save()
    manager = make_user("mona")
    Profile.objects.update_or_create(user=learner, defaults={"manager": manager})
    client.force_login(manager)
    assert _approvals(client) == "1"  # cached
    Profile.objects.update_or_create(user=learner2, defaults={"manager": manager})  # a second learner
    assert _approvals(client) == "2"


def _token(html: str, form_id: str) -> str:
    form = html.split(f'id="{form_id}">', 1)[1].split("</form>", 1)[0]
    return form.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]


def test_the_cached_attendee_table_posts_with_each_trainers_own_csrf_token(
    event, trainer, editing_trainer, learner, learner2
):
    """The attendee table is kept once for all trainers; the forms its buttons post with are not, so each trainer's
    buttons carry their own CSRF token, and the cancel buttons work through them."""
    from django.test import Client

    from seminars.models import Booking

    lenas = booking_create(event=event, user=learner, actor=learner)
    booking_create(event=event, user=learner2, actor=learner2)
    tom, eddie = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    tom.force_login(trainer)
    eddie.force_login(editing_trainer)
    tom_html, eddie_html = _page(tom, event), _page(eddie, event)  # the second is served from the cache
    button = f'form="booking-cancel-form" formaction="{reverse("seminars:booking_cancel", args=[lenas.pk])}"'
    assert button in tom_html and button in eddie_html
    for html in (tom_html, eddie_html):  # the table itself carries no token
        table = html.split('aria-labelledby="attendees-title">', 1)[1].split("</section>", 1)[0]
        assert "Cancel booking" in table and "csrfmiddlewaretoken" not in table

    answer = eddie.post(
        reverse("seminars:booking_cancel", args=[lenas.pk]),
        {"csrfmiddlewaretoken": _token(eddie_html, "booking-cancel-form")},
    )
    assert answer.status_code == 302
    assert Booking.objects.get(pk=lenas.pk).state == Booking.State.USER_CANCELLED
    html = _page(tom, event)
    assert "Booked (1)" in html and "Cancelled (1)" in html


def test_the_attendance_column_appears_when_the_first_session_starts(client, event, trainer, learner, time_machine):
    booking_create(event=event, user=learner, actor=learner)
    client.force_login(trainer)
    html = _page(client, event)
    assert "Attendance can be taken once the first session has started." in html and "Save attendance" not in html

    time_machine.move_to(event.sessions.get().start + timedelta(minutes=1))
    html = _page(client, event)
    assert "Save attendance" in html and 'form="attendance-form"' in html
    assert 'id="attendance-form">' in html and _token(html, "attendance-form")
