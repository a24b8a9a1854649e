"""Hostile input found by testing (issue 8, section 4): every number and date within what the domain
means, real IANA zones only, no control characters in single-line text, a message at the field,
nothing saved, never a 500; and the "Add event" form creates one event however often it is sent."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from seminars.models import Course, Room, Seminar, SeminarEvent, Session
from seminars.services.events import event_create_once
from seminars.tests.conftest import event_post_data, field_error
from seminars.tests.test_events import field_errors, post_invalid
from seminars.timezones import is_valid_zone, zone_names
from seminars.validators import CAPACITY_MAX, CUTOFF_HOURS_MAX

UTC = ZoneInfo("UTC")
ONE_SESSION = [{"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00"}]


@pytest.fixture
def trainer_client(client, editing_trainer):
    client.force_login(editing_trainer)
    return client


@pytest.fixture
def add_url(seminar):
    return reverse("seminars:event_add", args=[seminar.pk])


def new_room(**fields):
    return {"mode": "new", "name": "Pop-up room", "capacity": 10, "description": "", "virtual_kind": "", **fields}


# --- Numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [2**63, 10**30, CAPACITY_MAX + 1])
def test_a_huge_event_capacity_is_refused_at_the_field(trainer_client, add_url, capacity):
    html = post_invalid(trainer_client, add_url, event_post_data(capacity=capacity, sessions=ONE_SESSION))
    assert f"Capacity can be at most {CAPACITY_MAX}." in field_errors(html, "id_capacity")


def test_the_largest_capacity_is_accepted(trainer_client, add_url):
    response = trainer_client.post(add_url, event_post_data(capacity=CAPACITY_MAX, sessions=ONE_SESSION))
    assert response.status_code == 302
    assert SeminarEvent.objects.get().capacity == CAPACITY_MAX


@pytest.mark.parametrize("capacity", [10**30, CAPACITY_MAX + 1, str(10**30)])
def test_a_huge_room_capacity_in_the_room_dialog_is_refused(trainer_client, add_url, capacity):
    sessions = [{**ONE_SESSION[0], "room": new_room(capacity=capacity)}]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert f"Capacity can be at most {CAPACITY_MAX}." in field_errors(html, "id_sessions-0-room")


def test_a_huge_site_room_capacity_is_refused_at_the_field(client, site_admin):
    client.force_login(site_admin)
    data = {"name": "Hall", "capacity": str(10**30), "description": "", "virtual_kind": "", "virtual_url": ""}
    response = client.post(reverse("seminars:site_room_add"), data)
    assert response.status_code == 200
    assert f"Capacity can be at most {CAPACITY_MAX}." in field_error(response.content.decode(), "capacity")
    assert not Room.objects.exists()


@pytest.mark.parametrize("hours", [100000000, CUTOFF_HOURS_MAX + 1, 2**63])
def test_a_huge_cancellation_cutoff_is_refused_at_the_field(trainer_client, add_url, hours):
    html = post_invalid(trainer_client, add_url, event_post_data(cancellation_cutoff_hours=hours, sessions=ONE_SESSION))
    assert "Enter a whole number of hours from 0 to 8760 (a year)." in field_errors(
        html, "id_cancellation_cutoff_hours"
    )


def test_a_cutoff_of_a_year_is_accepted_and_the_event_page_shows(trainer_client, add_url, learner, client):
    response = trainer_client.post(
        add_url, event_post_data(cancellation_cutoff_hours=CUTOFF_HOURS_MAX, sessions=ONE_SESSION)
    )
    assert response.status_code == 302
    assert trainer_client.get(response.url).status_code == 200


def test_the_database_refuses_out_of_range_numbers_too(seminar):
    """The CHECK constraints: a second line for writers that skip validation (raw updates, bulk loads)."""
    event = SeminarEvent.objects.create(seminar=seminar, capacity=5)
    for field, value in (("capacity", CAPACITY_MAX + 1), ("cancellation_cutoff_hours", CUTOFF_HOURS_MAX + 1)):
        with pytest.raises(IntegrityError), transaction.atomic():
            SeminarEvent.objects.filter(pk=event.pk).update(**{field: value})
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.create(name="Hall", capacity=CAPACITY_MAX + 1)


def test_the_models_carry_the_same_bounds_for_the_admin(seminar):
    event = SeminarEvent(seminar=seminar, capacity=CAPACITY_MAX + 1, cancellation_cutoff_hours=CUTOFF_HOURS_MAX + 1)
    with pytest.raises(ValidationError) as caught:
        event.full_clean()
    assert set(caught.value.message_dict) >= {"capacity", "cancellation_cutoff_hours"}


@pytest.mark.django_db(transaction=True)
def test_the_migration_clamps_rows_saved_before_the_bounds(seminar):
    """An event saved with a cut-off of 100000000 hours made its page a 500 for everyone: the
    migration that adds the bounds brings such rows within them."""
    from django.db.migrations.executor import MigrationExecutor

    SeminarEvent.objects.create(seminar=seminar, capacity=5)
    executor = MigrationExecutor(connection)
    executor.migrate([("seminars", "0001_initial")])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE seminars_seminarevent SET capacity = %s, cancellation_cutoff_hours = %s",
            [2**31 - 1, 100000000],
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert SeminarEvent.objects.values_list("capacity", "cancellation_cutoff_hours").get() == (
        CAPACITY_MAX,
        CUTOFF_HOURS_MAX,
    )


# --- Dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
@pytest.mark.parametrize("start", ["0001-01-01T00:00", "9999-12-31T23:00", "1999-12-31T23:00", "2101-01-01T00:00"])
def test_a_session_outside_the_years_2000_to_2100_is_refused_at_its_field(trainer_client, add_url, zone, start):
    sessions = [{"start": start, "finish": start[:-5] + "23:59", "zone": zone}]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert "Enter a date between the years 2000 and 2100." in field_errors(html, "id_sessions-0-start")


@pytest.mark.parametrize("start", ["2000-01-01T00:00", "2100-12-31T22:00"])
def test_sessions_at_the_ends_of_the_range_are_accepted(trainer_client, add_url, start):
    sessions = [{"start": start, "finish": start[:-5] + "23:00"}]
    response = trainer_client.post(add_url, event_post_data(sessions=sessions))
    assert response.status_code == 302
    assert Session.objects.count() == 1


def test_the_service_refuses_a_session_outside_the_range(seminar, editing_trainer):
    from seminars.services.events import event_save

    start = datetime(1, 1, 1, 12, tzinfo=UTC)
    data = {
        "capacity": 5,
        "sessions": [{"start": start, "finish": start + timedelta(hours=1), "time_zone": "UTC"}],
    }
    with pytest.raises(ValidationError) as caught:
        event_save(event_or_none=None, seminar=seminar, data=data, actor=editing_trainer)
    assert "sessions.0.start" in caught.value.message_dict
    assert not SeminarEvent.objects.exists()


@pytest.mark.parametrize("start", ["0001-01-01T00:00", "9999-12-31T23:00"])
@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
def test_rooms_available_refuses_extreme_dates(trainer_client, start, zone):
    response = trainer_client.get(
        reverse("seminars:rooms_available"), {"start": start, "finish": start[:-5] + "23:59", "zone": zone}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "Enter a date between the years 2000 and 2100."


# --- Time zones -------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "EST5EDT", "Etc/GMT+5", "posix/Europe/London"])
def test_non_geographic_zones_are_refused(trainer_client, add_url, zone):
    assert not is_valid_zone(zone)
    sessions = [{**ONE_SESSION[0], "zone": zone}]
    html = post_invalid(trainer_client, add_url, event_post_data(sessions=sessions))
    assert "Unknown time zone" in field_errors(html, "id_sessions-0-time_zone")
    response = trainer_client.get(
        reverse("seminars:rooms_available"), {"start": "2030-06-10T09:00", "finish": "2030-06-10T10:00", "zone": zone}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("zone", ["localtime", "Factory"])
def test_the_profile_refuses_non_geographic_zones(trainer_client, zone, editing_trainer):
    response = trainer_client.post(reverse("seminars:profile"), {"time_zone": zone})
    assert response.status_code == 200
    assert "is not a time zone we know" in field_error(response.content.decode(), "time_zone")
    assert not hasattr(type(editing_trainer).objects.get(pk=editing_trainer.pk), "seminar_profile")


def test_the_zone_list_offered_is_exactly_what_is_accepted():
    names = zone_names()
    assert {"UTC", "Europe/London", "America/Argentina/Buenos_Aires", "Pacific/Kiritimati"} <= set(names)
    assert all(is_valid_zone(name) for name in names)
    assert not {"localtime", "Factory", "posixrules", "GMT", "Etc/UTC"} & set(names)


def test_the_session_model_refuses_a_non_geographic_zone(event):
    session = event.sessions.get()
    session.time_zone = "localtime"
    with pytest.raises(ValidationError) as caught:
        session.full_clean()
    assert "time_zone" in caught.value.message_dict


# --- Text -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Spring\r\nBcc: everyone@example.com", "Tab\there", "Line\u2028separator"])
def test_control_characters_in_an_event_name_are_refused_at_the_field(trainer_client, add_url, name):
    html = post_invalid(trainer_client, add_url, event_post_data(name=name, sessions=ONE_SESSION))
    assert "Use a single line of text without control characters" in field_errors(html, "id_name")


def test_control_characters_in_seminar_and_course_names_are_refused(client, site_admin, course, seminar):
    client.force_login(site_admin)
    response = client.post(reverse("seminars:seminar_edit", args=[seminar.pk]), {"name": "Fire\nwardens"})
    assert response.status_code == 200
    assert "control characters" in field_error(response.content.decode(), "name")
    response = client.post(reverse("seminars:course_add"), {"name": "Safety\r\ntraining", "short_name": ""})
    assert response.status_code == 200
    assert "control characters" in field_error(response.content.decode(), "name")
    assert Seminar.objects.get().name == "Fire wardens"
    assert Course.objects.count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "Room\u0000one"},
        {"description": "Ground floor\u0000"},
        {"name": "Room\ud800"},
        {"virtual_kind": "custom", "virtual_url": "https://meet.example.com/a\u0000b"},
        {"name": "Room\r\none"},
    ],
)
def test_nul_and_control_characters_in_the_room_dialog_json_are_refused(trainer_client, add_url, fields):
    sessions = [{**ONE_SESSION[0], "room": new_room(**fields)}]
    data = event_post_data(sessions=sessions)
    # json.dumps escapes NUL, CR/LF and lone surrogates, as a browser's JSON.stringify does.
    assert "\\" in data["sessions-0-room"]
    html = post_invalid(trainer_client, add_url, data)
    assert field_errors(html, "id_sessions-0-room")


def test_a_site_room_name_with_a_line_break_is_refused(client, site_admin):
    client.force_login(site_admin)
    data = {"name": "Hall\r\nB", "capacity": "5", "description": "", "virtual_kind": "", "virtual_url": ""}
    response = client.post(reverse("seminars:site_room_add"), data)
    assert response.status_code == 200
    assert "control characters" in field_error(response.content.decode(), "name")
    assert not Room.objects.exists()


@pytest.mark.parametrize(
    "raw", ["[" * 100000 + "]" * 100000, '{"mode": "site", "id": "²"}', '{"mode": "new", "capacity": "²"}']
)
def test_malformed_room_json_is_refused_at_the_room(trainer_client, add_url, raw):
    data = event_post_data(sessions=ONE_SESSION)
    data["sessions-0-room"] = raw
    html = post_invalid(trainer_client, add_url, data)
    assert field_errors(html, "id_sessions-0-room")


def test_a_description_keeps_its_line_breaks(trainer_client, add_url):
    sessions = [{**ONE_SESSION[0], "room": new_room(description="Ground floor,\r\nby the lifts.\tTurn left.")}]
    response = trainer_client.post(add_url, event_post_data(details="Bring\nboots.", sessions=sessions))
    assert response.status_code == 302
    assert Room.objects.get().description == "Ground floor,\r\nby the lifts.\tTurn left."


# --- Double submit ------------------------------------------------------------------------------


def test_the_add_event_form_carries_a_one_time_token(trainer_client, add_url):
    html = trainer_client.get(add_url).content.decode()
    assert 'name="form_token"' in html
    other = trainer_client.get(add_url).content.decode()
    token = html.split('name="form_token" value="')[1].split('"')[0]
    assert token not in other, "each form gets its own token"


def test_the_same_add_event_form_sent_three_times_creates_one_event(trainer_client, add_url):
    html = trainer_client.get(add_url).content.decode()
    token = html.split('name="form_token" value="')[1].split('"')[0]
    data = {**event_post_data(name="Triple click", sessions=ONE_SESSION), "form_token": token}
    responses = [trainer_client.post(add_url, data) for _ in range(3)]
    event = SeminarEvent.objects.get()
    assert [r.status_code for r in responses] == [302, 302, 302]
    assert {r.url for r in responses} == {event.get_absolute_url()}
    assert Session.objects.count() == 1


def test_two_forms_create_two_events(trainer_client, add_url):
    for _ in range(2):
        html = trainer_client.get(add_url).content.decode()
        token = html.split('name="form_token" value="')[1].split('"')[0]
        trainer_client.post(add_url, {**event_post_data(sessions=ONE_SESSION), "form_token": token})
    assert SeminarEvent.objects.count() == 2


def test_a_refused_form_keeps_its_token_so_the_corrected_submit_creates_once(trainer_client, add_url):
    token = "8d6f0a52-3b8f-4c1e-9a57-0f1f6f0d2b11"
    html = post_invalid(trainer_client, add_url, {**event_post_data(capacity=0), "form_token": token})
    assert f'value="{token}"' in html
    for _ in range(2):
        trainer_client.post(add_url, {**event_post_data(), "form_token": token})
    assert SeminarEvent.objects.count() == 1


def test_a_tampered_token_is_refused(trainer_client, add_url):
    html = post_invalid(trainer_client, add_url, {**event_post_data(), "form_token": "not-a-uuid"})
    assert "This form is out of date" in html


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_three_racing_submits_of_one_form_create_one_event(seminar, editing_trainer):
    """The submits arrive together: the unique token makes the later ones find the first's event."""
    import threading
    import uuid

    from django.db import connections

    token = uuid.uuid4()
    barrier = threading.Barrier(3)
    results = []
    start = datetime(2030, 6, 10, 9, tzinfo=UTC)
    data = {
        "name": "Racing",
        "capacity": 5,
        "sessions": [{"start": start, "finish": start + timedelta(hours=1), "time_zone": "UTC"}],
    }

    def submit():
        try:
            barrier.wait(timeout=10)
            event, created = event_create_once(seminar=seminar, data=data, actor=editing_trainer, creation_token=token)
            results.append((event.pk, created))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    event = SeminarEvent.objects.get()
    assert sorted(results, key=lambda r: not r[1]) == [(event.pk, True), (event.pk, False), (event.pk, False)]
    assert Session.objects.count() == 1
