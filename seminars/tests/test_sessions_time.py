"""Session times: typed as local time in the session's zone, stored in UTC, DST-correct,
shown in the session's zone and the viewer's zone.

Europe/London moves its clocks on 31 March 2030 (01:00 GMT -> 02:00 BST) and
back on 27 October 2030 (02:00 BST -> 01:00 GMT).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from seminars.models import Profile, Room, SeminarEvent
from seminars.services.events import local_to_utc
from seminars.tests.conftest import event_post_data
from seminars.tests.test_events import field_errors, row_html

UTC = ZoneInfo("UTC")


@pytest.fixture
def trainer_client(client, editing_trainer):
    client.force_login(editing_trainer)
    return client


def save_event(client, seminar, name, sessions):
    response = client.post(
        reverse("seminars:event_add", args=[seminar.pk]), event_post_data(name=name, sessions=sessions)
    )
    assert response.status_code == 302, response.content.decode()
    return SeminarEvent.objects.get(name=name)


def test_nine_oclock_london_before_and_after_the_clock_change(trainer_client, seminar):
    event = save_event(
        trainer_client,
        seminar,
        "March",
        [
            {"start": "2030-03-29T09:00", "finish": "2030-03-29T10:00", "zone": "Europe/London"},
            {"start": "2030-03-31T09:00", "finish": "2030-03-31T10:00", "zone": "Europe/London"},
        ],
    )
    before, after = event.sessions.order_by("start")
    assert before.start == datetime(2030, 3, 29, 9, 0, tzinfo=UTC)  # GMT = UTC
    assert after.start == datetime(2030, 3, 31, 8, 0, tzinfo=UTC)  # BST = UTC+1
    assert after.finish == datetime(2030, 3, 31, 9, 0, tzinfo=UTC)

    html = trainer_client.get(reverse("seminars:event_edit", args=[event.pk])).content.decode()
    assert 'value="2030-03-29T09:00"' in row_html(html, 0)
    assert 'value="2030-03-31T09:00"' in row_html(html, 1)


def test_both_sessions_show_nine_oclock_local_on_the_room_page(trainer_client, seminar, editing_trainer):
    Profile.objects.create(user=editing_trainer, time_zone="Europe/London")
    room = Room.objects.create(name="Hall", capacity=50)
    save_event(
        trainer_client,
        seminar,
        "March",
        [
            {
                "start": "2030-03-29T09:00",
                "finish": "2030-03-29T10:00",
                "zone": "Europe/London",
                "room": {"mode": "site", "id": room.pk},
            },
            {
                "start": "2030-03-31T09:00",
                "finish": "2030-03-31T10:00",
                "zone": "Europe/London",
                "room": {"mode": "site", "id": room.pk},
            },
        ],
    )
    html = trainer_client.get(reverse("seminars:room", args=[room.pk])).content.decode()
    assert "Fri 29 Mar 2030, 09:00–10:00 GMT" in html
    assert "Sun 31 Mar 2030, 09:00–10:00 BST" in html
    assert "Your time" not in html  # the viewer reads London time already


def test_a_time_the_clocks_skip_is_refused(trainer_client, seminar):
    response = trainer_client.post(
        reverse("seminars:event_add", args=[seminar.pk]),
        event_post_data(
            name="Gap", sessions=[{"start": "2030-03-31T01:30", "finish": "2030-03-31T03:00", "zone": "Europe/London"}]
        ),
    )
    assert response.status_code == 200
    errors = field_errors(response.content.decode(), "id_sessions-0-start")
    assert "01:30 does not exist on 31 Mar 2030 in Europe/London: the clocks go forward then." in errors
    assert not SeminarEvent.objects.filter(name="Gap").exists()


def test_a_time_that_happens_twice_means_the_first_occurrence(trainer_client, seminar):
    event = save_event(
        trainer_client,
        seminar,
        "Fall back",
        [{"start": "2030-10-27T01:30", "finish": "2030-10-27T03:00", "zone": "Europe/London"}],
    )
    session = event.sessions.get()
    assert session.start == datetime(2030, 10, 27, 0, 30, tzinfo=UTC)  # 01:30 BST, the first 01:30
    assert session.finish == datetime(2030, 10, 27, 3, 0, tzinfo=UTC)  # 03:00 GMT


def test_the_form_says_how_repeated_times_are_read(trainer_client, seminar):
    html = trainer_client.get(reverse("seminars:event_add", args=[seminar.pk])).content.decode()
    assert "A time that happens twice when the clocks go back means its first occurrence." in html


def test_new_session_rows_default_to_the_users_zone(trainer_client, seminar, editing_trainer):
    Profile.objects.create(user=editing_trainer, time_zone="Australia/Sydney")
    html = trainer_client.get(reverse("seminars:event_add", args=[seminar.pk])).content.decode()
    template = html.split('<template id="session-template">')[1].split("</template>")[0]
    assert 'name="sessions-__prefix__-time_zone" value="Australia/Sydney"' in template


def test_times_are_shown_in_the_sessions_zone_and_the_viewers_zone(client, site_admin, seminar, editing_trainer):
    Profile.objects.create(user=site_admin, time_zone="America/New_York")
    room = Room.objects.create(name="Hall", capacity=50)
    event = SeminarEvent.objects.create(seminar=seminar, name="Tokyo", capacity=5)
    event.sessions.create(
        start=datetime(2030, 6, 10, 0, 0, tzinfo=UTC),
        finish=datetime(2030, 6, 10, 1, 30, tzinfo=UTC),
        time_zone="Asia/Tokyo",
        room=room,
    )
    client.force_login(site_admin)
    html = client.get(reverse("seminars:room", args=[room.pk])).content.decode()
    assert "Mon 10 Jun 2030, 09:00–10:30 JST" in html  # the session's own zone
    assert "(Asia/Tokyo)" in html
    assert "Your time: Sun 9 Jun 2030, 20:00–21:30 EDT" in html  # the viewer's zone


@pytest.mark.parametrize(
    "local,zone,expected",
    [
        (datetime(2030, 3, 31, 0, 59), "Europe/London", datetime(2030, 3, 31, 0, 59, tzinfo=UTC)),
        (datetime(2030, 3, 31, 2, 0), "Europe/London", datetime(2030, 3, 31, 1, 0, tzinfo=UTC)),
        (datetime(2030, 10, 27, 1, 0), "Europe/London", datetime(2030, 10, 27, 0, 0, tzinfo=UTC)),
        (datetime(2030, 4, 7, 2, 30), "Australia/Sydney", datetime(2030, 4, 6, 15, 30, tzinfo=UTC)),
        (datetime(2030, 6, 1, 12, 0), "Asia/Kolkata", datetime(2030, 6, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_local_to_utc(local, zone, expected):
    result = local_to_utc(local, zone)
    assert result == expected
    assert result.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    "local,zone",
    [
        (datetime(2030, 3, 31, 1, 0), "Europe/London"),
        (datetime(2030, 3, 31, 1, 59), "Europe/London"),
        (datetime(2030, 3, 10, 2, 30), "America/New_York"),
    ],
)
def test_local_to_utc_refuses_skipped_times(local, zone):
    with pytest.raises(ValidationError, match="does not exist"):
        local_to_utc(local, zone)
