"""The approval pages and actions by role (the permission matrix), what the event, attendees and
approvals pages say, the header's count, and a constant number of queries on the lists."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from seminars.models import Booking, Profile, Seminar, SeminarEvent
from seminars.services.bookings import booking_create
from seminars.tests.conftest import enrol, make_session, make_user

State = Booking.State
Type = Seminar.ApprovalType
ROLES = ["site_admin", "editing_trainer", "trainer", "learner2", "outsider"]


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def requested(event, seminar, learner):
    seminar.approval_type = Type.TRAINER
    seminar.save()
    return booking_create(event=event, user=learner, actor=learner)


# --- The approvals list -------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, requested):
    for url, method in [
        (reverse("seminars:approvals"), "get"),
        (reverse("seminars:approvals_decide"), "post"),
        (reverse("seminars:booking_withdraw", args=[requested.pk]), "post"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    requested.refresh_from_db()
    assert requested.state == State.REQUESTED


@pytest.mark.parametrize(
    "role, sees",
    [("site_admin", True), ("editing_trainer", True), ("trainer", True), ("learner2", False), ("outsider", False)],
)
def test_approvals_list_by_role(client, as_user, requested, role, sees):
    as_user(role)
    response = client.get(reverse("seminars:approvals"))
    assert response.status_code == 200
    html = response.content.decode()
    assert ("lena@example.com" in html) is sees
    assert ("Nothing awaits your approval." in html) is not sees
    # The header links the list, with the count, only for those with something to decide.
    assert ('href="/approvals/"' in html) is sees


def test_the_header_counts_the_requests_awaiting_the_viewer(client, as_user, requested, learner2, event):
    booking_create(event=event, user=learner2, actor=learner2)
    as_user("trainer")
    html = client.get(reverse("seminars:dashboard")).content.decode()
    assert 'Approvals <span class="nav-count">2</span>' in html


def test_a_manager_outside_the_course_sees_their_learners_request_without_a_link_to_the_event(
    client, event, seminar, learner
):
    seminar.approval_type = Type.MANAGER
    seminar.save()
    mary = make_user("mary")
    Profile.objects.create(user=learner, manager=mary)
    booking_create(event=event, user=learner, actor=learner)
    client.force_login(mary)

    html = client.get(reverse("seminars:approvals")).content.decode()

    assert "lena@example.com" in html
    assert "Fire wardens: Spring intake" in html
    assert event.get_absolute_url() not in html
    response = client.post(
        reverse("seminars:approvals_decide"), {"booking": [Booking.objects.get().pk], "decision": "approve"}
    )
    assert response.status_code == 302
    assert Booking.objects.get().state == State.BOOKED


@pytest.mark.parametrize(
    "role, decides",
    [("site_admin", True), ("editing_trainer", True), ("trainer", True), ("learner2", False), ("outsider", False)],
)
def test_deciding_by_role(client, as_user, requested, role, decides):
    as_user(role)
    response = client.post(
        reverse("seminars:approvals_decide"), {"booking": [requested.pk], "decision": "approve"}, follow=True
    )
    requested.refresh_from_db()
    assert requested.state == (State.BOOKED if decides else State.REQUESTED)
    if decides:
        assert "1 request approved and booked." in messages_of(response)
    else:
        assert "Lena: You may not decide this request." in messages_of(response)


def test_approve_two_and_decline_one_with_a_reason_from_the_list(client, as_user, requested, event, learner2, learner3):
    event.capacity = 5
    event.save()
    second = booking_create(event=event, user=learner2, actor=learner2)
    third = booking_create(event=event, user=learner3, actor=learner3)
    as_user("trainer")

    approved = client.post(
        reverse("seminars:approvals_decide"), {"booking": [requested.pk, second.pk], "decision": "approve"}, follow=True
    )
    declined = client.post(
        reverse("seminars:approvals_decide"),
        {"booking": [third.pk], "decision": "decline", "reason": "Book the autumn one."},
        follow=True,
    )

    assert "2 requests approved and booked." in messages_of(approved)
    assert "1 request declined; the learner is told." in messages_of(declined)
    states = dict(Booking.objects.values_list("user__username", "state"))
    assert states == {"lena": State.BOOKED, "leo": State.BOOKED, "lia": State.DECLINED}


@pytest.mark.parametrize(
    "data, error",
    [
        ({"decision": "approve"}, "Tick the requests to decide."),
        ({"booking": ["x"], "decision": "approve"}, "Select a valid choice. x is not one of the available choices."),
        ({"booking": ["1"], "decision": "maybe"}, "Select a valid choice. maybe is not one of the available choices."),
        (
            {"booking": ["1"], "decision": "decline", "reason": "x" * 501},
            "Ensure this value has at most 500 characters",
        ),
    ],
)
def test_bad_decisions_say_why_and_change_nothing(client, as_user, requested, data, error):
    as_user("trainer")
    response = client.post(reverse("seminars:approvals_decide"), data, follow=True)
    assert any(m.startswith(error) for m in messages_of(response)), messages_of(response)
    requested.refresh_from_db()
    assert requested.state == State.REQUESTED


def test_deciding_from_the_attendees_page_returns_there(client, as_user, requested, event):
    as_user("trainer")
    response = client.post(
        reverse("seminars:approvals_decide"), {"booking": [requested.pk], "decision": "approve", "event": event.pk}
    )
    assert response["Location"] == reverse("seminars:event_attendees", args=[event.pk])


# --- Withdrawing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, status, withdrawn",
    [
        ("learner", 302, True),
        ("learner2", 302, False),
        ("trainer", 302, False),
        ("site_admin", 302, False),
        ("outsider", 404, False),
    ],
)
def test_withdrawing_by_role(client, as_user, requested, role, status, withdrawn):
    as_user(role)
    response = client.post(reverse("seminars:booking_withdraw", args=[requested.pk]))
    assert response.status_code == status
    requested.refresh_from_db()
    assert requested.state == (State.USER_CANCELLED if withdrawn else State.REQUESTED)


def test_withdraw_is_post_only(client, as_user, requested):
    as_user("learner")
    assert client.get(reverse("seminars:booking_withdraw", args=[requested.pk])).status_code == 405


# --- The event and attendees pages ---------------------------------------------------------


def test_the_learner_requests_from_the_event_page_and_sees_whom_it_awaits(client, as_user, event, seminar):
    seminar.approval_type = Type.TRAINER
    seminar.save()
    as_user("learner")
    html = client.get(event.get_absolute_url()).content.decode()
    assert ">Request a place</button>" in html
    assert ">Book</button>" not in html
    assert "A place needs approval: your request goes to the course's trainers." in html

    response = client.post(reverse("seminars:event_book", args=[event.pk]), follow=True)

    assert "Your request has been sent. You will be emailed when it is decided." in messages_of(response)
    html = response.content.decode()
    assert "Awaiting approval" in html
    assert "Your request awaits approval by a trainer of the course." in html
    assert "2 of 2 seats left" in html


@pytest.mark.parametrize("approval, shown", [(Type.NONE, False), (Type.TRAINER, True)])
def test_the_attendees_page_has_an_approval_section_only_when_the_seminar_needs_approval(
    client, as_user, event, seminar, approval, shown
):
    seminar.approval_type = approval
    seminar.save()
    as_user("trainer")
    html = client.get(reverse("seminars:event_attendees", args=[event.pk])).content.decode()
    assert ("Approval required (0)" in html) is shown


@pytest.mark.parametrize("role, status", [("site_admin", 200), ("trainer", 200), ("learner", 403), ("outsider", 404)])
def test_the_attendees_pages_requests_by_role(client, as_user, requested, event, role, status):
    as_user(role)
    response = client.get(reverse("seminars:event_attendees", args=[event.pk]))
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert "Approval required (1)" in html
        assert f'name="booking" value="{requested.pk}"' in html


def test_a_trainer_sees_a_managers_request_on_the_attendees_page_without_a_box_to_tick(
    client, as_user, event, seminar, learner
):
    seminar.approval_type = Type.MANAGER
    seminar.save()
    Profile.objects.create(user=learner, manager=make_user("mary"))
    booking = booking_create(event=event, user=learner, actor=learner)
    as_user("trainer")
    html = client.get(reverse("seminars:event_attendees", args=[event.pk])).content.decode()
    assert "The manager, Mary" in html
    assert "Approval required (1)" in html
    assert f'name="booking" value="{booking.pk}"' not in html


def test_an_editing_trainer_sets_the_approval_of_a_seminar(client, as_user, seminar):
    as_user("editing_trainer")
    response = client.post(
        reverse("seminars:seminar_edit", args=[seminar.pk]), {"name": seminar.name, "approval_type": "manager_admin"}
    )
    assert response.status_code == 302
    seminar.refresh_from_db()
    assert seminar.approval_type == Type.MANAGER_THEN_ADMIN
    response = client.post(
        reverse("seminars:seminar_edit", args=[seminar.pk]), {"name": seminar.name, "approval_type": "bogus"}
    )
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()


# --- Constant queries -----------------------------------------------------------------------


def _fill(course, seminar, count, start, prefix):
    for n in range(count):
        event = SeminarEvent.objects.create(seminar=seminar, name=f"E{n}", capacity=3)
        make_session(event, start)
        for m in range(2):
            user = enrol(make_user(f"{prefix}r{n}-{m}"), course).user
            Profile.objects.create(user=user, manager=make_user(f"{prefix}m{n}-{m}") if m else None)
            booking_create(event=event, user=user, actor=user)


def _queries(client, url):
    client.get(url)  # counted in the steady state: the viewer's header facts cached (lms.userfacts)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("role", ["site_admin", "trainer"])
def test_the_approvals_list_runs_a_constant_number_of_queries(request, client, course, seminar, event, role):
    seminar.approval_type = Type.TRAINER
    seminar.save()
    start = event.sessions.get().start.replace(tzinfo=None)
    client.force_login(request.getfixturevalue(role))
    _fill(course, seminar, 2, start, "a")
    small = _queries(client, reverse("seminars:approvals"))
    _fill(course, seminar, 8, start, "b")
    large = _queries(client, reverse("seminars:approvals"))
    assert Booking.objects.filter(state=State.REQUESTED).count() == 20
    assert small == large


def test_the_attendees_page_runs_a_constant_number_of_queries_with_requests(client, course, seminar, event, trainer):
    seminar.approval_type = Type.MANAGER
    seminar.save()
    client.force_login(trainer)
    url = reverse("seminars:event_attendees", args=[event.pk])

    def add(count, prefix):
        for n in range(count):
            user = enrol(make_user(f"{prefix}{n}"), course).user
            Profile.objects.create(user=user, manager=make_user(f"{prefix}m{n}") if n % 2 else None)
            booking_create(event=event, user=user, actor=user)

    add(2, "a")
    small = _queries(client, url)
    add(8, "b")
    large = _queries(client, url)
    assert small == large


def test_the_event_page_tells_trainers_of_pending_requests_and_never_lists_them_as_cancelled(
    client, as_user, requested, event
):
    as_user("trainer")
    html = client.get(event.get_absolute_url()).content.decode()
    assert "1 request awaits approval: see “Approval required” on the" in html
    assert "Cancelled (0)" in html
    assert "Booked (0)" in html


def test_the_seminar_page_offers_learners_to_request_a_place(client, as_user, requested, seminar, learner2):
    as_user("learner2")
    html = client.get(seminar.get_absolute_url()).content.decode()
    assert "Request a place" in html
    assert ">Sign up<" not in html


# --- The manager, set by site admins in the Django admin ------------------------------------


def test_a_site_admin_sets_a_learners_manager_in_the_django_admin(client, learner, trainer):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    profile = Profile.objects.create(user=learner)
    url = reverse("admin:seminars_profile_change", args=[profile.pk])
    assert 'name="manager"' in client.get(url).content.decode()

    refused = client.post(url, {"user": learner.pk, "time_zone": "UTC", "manager": learner.pk})
    assert refused.status_code == 200
    assert "A user cannot be their own manager." in refused.content.decode()
    profile.refresh_from_db()
    assert profile.manager is None

    saved = client.post(url, {"user": learner.pk, "time_zone": "UTC", "manager": trainer.pk})
    assert saved.status_code == 302
    profile.refresh_from_db()
    assert profile.manager == trainer
