"""The email template pages: the list, the editor with its placeholders and preview, reset, and a seminar's copies."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from seminars.email_types import EMAIL_TYPES, email_type
from seminars.models import Booking, EmailTemplate, Room, SeminarEmailOff
from seminars.services.email_templates import email_template_save


@pytest.fixture
def admin_client(client, site_admin):
    client.force_login(site_admin)
    return client


def edit_url(key="booked"):
    return reverse("seminars:email_template_edit", args=[key])


def test_the_admin_menu_links_the_list_which_names_every_email(admin_client):
    page = admin_client.get(reverse("seminars:dashboard")).content.decode()
    assert f'href="{reverse("seminars:email_templates")}"' in page
    listing = admin_client.get(reverse("seminars:email_templates")).content.decode()
    for kind in EMAIL_TYPES.values():
        assert str(kind.name) in listing


def test_the_list_asks_the_same_queries_for_one_or_every_edited_template(admin_client, site_admin):
    def count():
        admin_client.get(reverse("seminars:email_templates"))  # the steady state: header facts cached
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(reverse("seminars:email_templates")).status_code == 200
        return len(queries)

    email_template_save(kind=email_type("booked"), subject="A", body="B", actor=site_admin)
    one = count()
    for kind in EMAIL_TYPES.values():
        EmailTemplate.objects.update_or_create(
            email_type=kind.key, seminar=None, defaults={"subject": "S", "body": "B"}
        )
    assert count() == one


def test_the_editor_shows_the_default_text_and_the_placeholders(admin_client):
    page = admin_client.get(edit_url()).content.decode()
    assert "Booking confirmed: {seminar_name}, {event_name}" in page
    assert "Your booking is confirmed." in page
    assert "<code>{sessions}</code>" in page and "our join link" in page
    assert "<code>{reason}</code>" not in page  # not a placeholder of this email


def test_a_bad_template_is_shown_again_with_the_reason_next_to_the_field(admin_client):
    response = admin_client.post(
        edit_url(), {"subject": "Hi\r\nthere", "body": "Dear {learner.name} {nope}", "action": "save"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["subject"] == ["The subject must be a single line."]
    assert "is not a placeholder" in form.errors["body"][0]
    assert not EmailTemplate.objects.exists()

    response = admin_client.post(edit_url(), {"subject": "Hi", "body": "Dear {nope}", "action": "save"})
    [message] = response.context["form"].errors["body"]
    assert message.startswith("Unknown placeholder {nope}. This email can use: {learner_name}, {recipient_name}")


def test_the_preview_fills_in_a_real_event_and_learner_and_saves_nothing(admin_client, event, learner):
    room = Room.objects.create(
        name="Online room", capacity=9, virtual_kind="custom", virtual_url="https://meet.example.com/x"
    )
    event.sessions.update(room=room)
    Booking.objects.create(event=event, user=learner, state=Booking.State.BOOKED)
    response = admin_client.post(
        edit_url(),
        {
            "subject": "Hi {learner_name}: {event_name}",
            "body": "<b>{sessions}</b>",
            "event": event.pk,
            "action": "preview",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {}
    preview = response.context["preview"]
    assert preview["subject"] == "Hi Lena: Spring intake"
    session = event.sessions.get()
    assert f"http://testserver/sessions/{session.pk}/virtual/join/" in preview["body"]
    assert "meet.example.com" not in preview["body"]
    page = response.content.decode()
    assert "&lt;b&gt;Sessions:" in page
    assert not EmailTemplate.objects.exists()


def test_the_preview_asks_for_an_event(admin_client):
    response = admin_client.post(edit_url(), {"subject": "Hi", "body": "Body", "action": "preview"})
    assert response.context["form"].errors["event"] == ["Choose an event to preview with."]


@pytest.mark.parametrize("key", sorted(EMAIL_TYPES))
def test_every_email_previews_with_its_default_text(admin_client, event, key):
    kind = EMAIL_TYPES[key]
    response = admin_client.post(
        edit_url(key), {"subject": str(kind.subject), "body": str(kind.body), "event": event.pk, "action": "preview"}
    )
    preview = response.context["preview"]
    assert preview["subject"] and "{" not in preview["subject"]
    assert "{" not in preview["body"]


def test_save_then_reset_with_confirmation(admin_client):
    response = admin_client.post(edit_url(), {"subject": "Mine {event_name}", "body": "Mine", "action": "save"})
    assert response.status_code == 302
    assert EmailTemplate.objects.get(seminar=None).subject == "Mine {event_name}"

    confirm = admin_client.get(reverse("seminars:email_template_reset", args=["booked"]))
    assert "Reset “Booking confirmed”?" in confirm.content.decode()
    assert EmailTemplate.objects.exists()  # the confirmation page deletes nothing
    admin_client.post(reverse("seminars:email_template_reset", args=["booked"]))
    assert not EmailTemplate.objects.exists()
    assert "Booking confirmed: {seminar_name}, {event_name}" in admin_client.get(edit_url()).content.decode()


def test_an_editing_trainer_copies_a_template_into_the_seminar_and_switches_one_off(client, editing_trainer, seminar):
    client.force_login(editing_trainer)
    assert (
        reverse("seminars:seminar_emails", args=[seminar.pk]) in client.get(seminar.get_absolute_url()).content.decode()
    )
    listing = client.get(reverse("seminars:seminar_emails", args=[seminar.pk])).content.decode()
    assert "Copy and edit" in listing and "Switch off “Reminder to a learner”" in listing
    assert "Switch off “Event cancelled”" not in listing  # may not be switched off
    assert "Meeting account disconnected" not in listing  # site-wide only

    url = reverse("seminars:seminar_email_edit", args=[seminar.pk, "reminder"])
    assert "Saving makes this seminar's own copy" in client.get(url).content.decode()
    client.post(url, {"subject": "Soon: {event_name}", "body": "See you {first_start}", "action": "save"})
    assert EmailTemplate.objects.get(seminar=seminar).updated_by == editing_trainer

    client.post(reverse("seminars:seminar_email_switch", args=[seminar.pk, "reminder"]), {"on": "0"})
    assert SeminarEmailOff.objects.get(seminar=seminar).email_type == "reminder"
    listing = client.get(reverse("seminars:seminar_emails", args=[seminar.pk])).content.decode()
    assert "This seminar's copy" in listing and "Switch on “Reminder to a learner”" in listing


def test_a_seminar_preview_offers_only_its_own_events(client, editing_trainer, event, seminar):
    from seminars.models import Seminar, SeminarEvent

    elsewhere = Seminar.objects.create(course=seminar.course, name="Other")
    other = SeminarEvent.objects.create(seminar=elsewhere, name="Elsewhere", capacity=3)
    client.force_login(editing_trainer)
    url = reverse("seminars:seminar_email_edit", args=[seminar.pk, "booked"])
    response = client.post(url, {"subject": "S", "body": "B", "event": other.pk, "action": "preview"})
    assert "event" in response.context["form"].errors


def test_a_seminars_list_asks_the_same_queries_for_no_copies_or_many(admin_client, seminar, site_admin):
    url = reverse("seminars:seminar_emails", args=[seminar.pk])

    def count():
        admin_client.get(url)  # the steady state: header facts cached
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    none = count()
    for kind in EMAIL_TYPES.values():
        if kind.per_seminar:
            EmailTemplate.objects.create(
                email_type=kind.key, seminar=seminar, subject="S", body="B", updated_by=site_admin
            )
            EmailTemplate.objects.create(email_type=kind.key, subject="S", body="B", updated_by=site_admin)
        if kind.optional:
            SeminarEmailOff.objects.create(seminar=seminar, email_type=kind.key, switched_off_by=site_admin)
    assert count() == none
