"""A site room's card (and the room page it sits on) tells a viewer only about sessions of courses they may see.

Course B's event uses a site room with a virtual link. People outside course B
(an outsider, a learner of course A, a trainer of course A) open the card and
the room page: nothing of B's session may show. A learner of B and a site admin
see it.
"""

from datetime import datetime

import pytest
from django.urls import reverse

from seminars.models import Course, Enrolment, Seminar, SeminarEvent
from seminars.templatetags.seminar_time import session_when
from seminars.tests.conftest import enrol, make_session, make_user

VIEWERS_OUTSIDE_B = ["outsider", "learner of A", "trainer of A"]


@pytest.fixture
def other_course_session(site_room):
    """Course B's session in the site room (which has a custom virtual link)."""
    site_room.virtual_kind = "custom"
    site_room.virtual_url = "https://meet.example.com/room-1"
    site_room.save()
    course_b = Course.objects.create(name="Forklift licence", short_name="FORK")
    seminar_b = Seminar.objects.create(course=course_b, name="Forklift basics")
    event_b = SeminarEvent.objects.create(seminar=seminar_b, name="Night shift", capacity=5)
    return make_session(event_b, datetime(2031, 3, 4, 21, 17), zone="Asia/Tokyo", room=site_room)


@pytest.fixture
def viewers(course, other_course_session, site_admin, outsider):
    learner_a = make_user("ann")
    enrol(learner_a, course)
    trainer_a = make_user("tara")
    enrol(trainer_a, course, Enrolment.Role.TRAINER)
    learner_b = make_user("ben")
    enrol(learner_b, other_course_session.event.seminar.course)
    return {
        "outsider": outsider,
        "learner of A": learner_a,
        "trainer of A": trainer_a,
        "learner of B": learner_b,
        "admin": site_admin,
    }


def _pages(client, room):
    return [
        client.get(reverse("seminars:room_card", args=[room.pk])).content.decode(),
        client.get(reverse("seminars:room", args=[room.pk])).content.decode(),
    ]


@pytest.mark.parametrize("who", VIEWERS_OUTSIDE_B)
def test_the_card_shows_nothing_of_another_courses_session(client, viewers, other_course_session, site_room, who):
    client.force_login(viewers[who])
    when = session_when(other_course_session, "UTC")
    for html in _pages(client, site_room):
        assert "21:17" not in html and "12:17" not in html  # B's session, in its zone and in UTC
        assert str(when) not in html
        assert "Night shift" not in html and "Forklift" not in html
        assert "meet.example.com" not in html
    card = _pages(client, site_room)[0]
    assert "Virtual room is unavailable" in card


@pytest.mark.parametrize("who", ["learner of B", "admin"])
def test_those_who_may_see_course_b_see_its_session_on_the_card(client, viewers, other_course_session, site_room, who):
    client.force_login(viewers[who])
    card = _pages(client, site_room)[0]
    assert "21:17" in card
