"""The event page's virtual room line: it refreshes itself while the meeting is being made or changed
(one session's card, served alone), shows a failure or a wait in full, and offers "Retry now" under the
room page's rule (the room's owner and site admins)."""

import pytest
from django.urls import reverse

from seminars.meetings import meeting_reference
from seminars.models import Room
from seminars.tests.conftest import connect
from virtualmeeting.models import VirtualMeeting
from virtualmeeting.providers.testing import TestProvider

LONG_REASON = (
    "Zoom refused the meeting: the topic holds a word Zoom does not accept, and the "
    "account administrator has locked the setting that would allow it; change the topic or ask them to unlock it."
)


@pytest.fixture
def setup(test_provider, event, editing_trainer, trainer, learner, outsider, site_admin):
    connect(editing_trainer)
    room = Room.objects.create(name="Online", capacity=10, event=event, virtual_kind="test", created_by=editing_trainer)
    session = event.sessions.get()
    session.room = room
    session.save()
    meeting = VirtualMeeting.objects.create(
        reference=meeting_reference(session, room),
        provider="test",
        owner=editing_trainer,
        status="creating",
        start=session.start,
        finish=session.finish,
        time_zone=session.time_zone,
    )
    return session, meeting


def page(client, user, session):
    client.force_login(user)
    return client.get(reverse("seminars:event", args=[session.event_id])).content.decode()


def card(client, session):
    return client.get(reverse("seminars:session_card", args=[session.pk]))


def test_the_event_page_refreshes_its_virtual_room_while_the_meeting_is_made(client, setup, editing_trainer):
    session, meeting = setup
    html = page(client, editing_trainer, session)
    assert "Updating virtual room. Please wait..." in html
    assert f'data-card-url="{reverse("seminars:session_card", args=[session.pk])}"' in html
    assert 'data-pending="1"' in html
    assert "js/virtual_card.js" in html

    fragment = card(client, session).content.decode()
    assert "Updating virtual room" in fragment and 'data-pending="1"' in fragment

    VirtualMeeting.objects.filter(pk=meeting.pk).update(
        status="available", remote_id="1", join_url="https://meet.test.invalid/j/1"
    )
    fragment = card(client, session).content.decode()
    assert "Host meeting" in fragment and "data-pending" not in fragment
    assert "https://meet.test.invalid" not in fragment  # our own join URL, as on the page


def test_my_sessions_refreshes_the_same_way(client, setup, editing_trainer):
    session, meeting = setup
    client.force_login(editing_trainer)
    html = client.get(reverse("seminars:dashboard")).content.decode()
    assert 'data-pending="1"' in html and "js/virtual_card.js" in html


def test_the_session_card_is_for_the_course_only(client, setup, outsider):
    session, meeting = setup
    client.force_login(outsider)
    assert card(client, session).status_code == 404
    client.logout()
    assert card(client, session).status_code == 302  # to the login page


def test_a_failure_is_shown_in_full_with_retry_now_for_the_owner(client, setup, editing_trainer):
    session, meeting = setup
    VirtualMeeting.objects.filter(pk=meeting.pk).update(status="failed", last_error=LONG_REASON)
    html = page(client, editing_trainer, session)
    assert html.count(LONG_REASON) == 1
    assert 'class="virtual-problem notice-danger"' in html  # a block that wraps, not a one-line badge
    assert 'class="badge badge-warn">Failed' not in html
    assert reverse("seminars:session_retry", args=[session.pk]) in html
    assert "Retry now" in html


def test_a_wait_uses_the_warning_style(client, setup, editing_trainer):
    session, meeting = setup
    VirtualMeeting.objects.filter(pk=meeting.pk).update(status="waiting", waiting_daily_limit=True)
    html = page(client, editing_trainer, session)
    assert 'class="virtual-problem notice-warning"' in html
    assert '<span class="badge badge-warning">Waiting</span>' in html
    assert "badge-danger" not in html.split('class="virtual-problem')[1].split("</div>")[0]


def test_a_trainer_who_does_not_own_the_room_sees_the_reason_but_may_not_retry(client, setup, trainer):
    session, meeting = setup
    VirtualMeeting.objects.filter(pk=meeting.pk).update(status="failed", last_error=LONG_REASON)
    html = page(client, trainer, session)
    assert LONG_REASON in html
    retry = reverse("seminars:session_retry", args=[session.pk])
    assert retry not in html
    assert client.post(retry).status_code == 403
    assert VirtualMeeting.objects.get(pk=meeting.pk).status == "failed"


@pytest.mark.parametrize("who", ["editing_trainer", "site_admin"])
def test_retry_now_on_the_event_page_runs_the_meeting_again(
    client, setup, who, request, django_capture_on_commit_callbacks
):
    session, meeting = setup
    VirtualMeeting.objects.filter(pk=meeting.pk).update(status="failed", last_error=LONG_REASON)
    client.force_login(request.getfixturevalue(who))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("seminars:session_retry", args=[session.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("seminars:event", args=[session.event_id])
    assert "Retrying the virtual meeting now." in response.content.decode()
    assert TestProvider.calls("create") == 1  # the task ran (eagerly, in tests)
    assert VirtualMeeting.objects.get(pk=meeting.pk).status == "available"


def test_retry_now_needs_a_post(client, setup, editing_trainer):
    session, meeting = setup
    client.force_login(editing_trainer)
    assert client.get(reverse("seminars:session_retry", args=[session.pk])).status_code == 405


def test_a_site_admin_refused_is_not_told_to_ask_a_site_admin(client, setup, site_admin, trainer):
    session, meeting = setup
    host = reverse("seminars:virtual_host", args=[session.pk])  # only the room's owner hosts
    client.force_login(site_admin)
    response = client.get(host)
    assert response.status_code == 403
    assert "site admin" not in response.content.decode()
    client.force_login(trainer)
    assert "ask an editing trainer of the course or a site admin" in client.get(host).content.decode()


def test_a_recreated_meeting_is_a_warning_that_wraps_on_the_room_card(client, setup, editing_trainer):
    from django.utils import timezone

    session, meeting = setup
    VirtualMeeting.objects.filter(pk=meeting.pk).update(
        status="available", remote_id="2", join_url="https://meet.test.invalid/j/2", recreated_at=timezone.now()
    )
    client.force_login(editing_trainer)
    card = client.get(reverse("seminars:room_card", args=[session.room_id])).content.decode()
    assert '<p class="notice-warning">The meeting was deleted in Test outside the LMS' in card
    assert 'class="badge badge-warn">The meeting was deleted' not in card
