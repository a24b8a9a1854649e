"""Email templates: the registry, the checks before saving, the rendering, and the emails sent from them."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seminars.email_messages import email_text, event_values
from seminars.email_types import (
    EMAIL_TYPES,
    PLACEHOLDERS,
    SUBJECT_MAX_LENGTH,
    default_body,
    email_type,
    template_errors,
    template_render,
)
from seminars.models import EmailTemplate, OutboundEmail, Room, SeminarEmailOff
from seminars.selectors.email_templates import Source, TemplateText, email_template_in_effect
from seminars.services.attendees import attendee_remove
from seminars.services.bookings import booking_create
from seminars.services.email_templates import email_template_reset, email_template_save, seminar_email_switch

BOOKED = email_type("booked")


def errors(subject="Booked: {event_name}", body="Hello {learner_name}"):
    return template_errors(BOOKED, subject=subject, body=body)


# --- What cannot be saved ------------------------------------------------------------------------


def test_a_valid_template_has_no_errors():
    assert errors() == {}
    assert errors(body="Literal braces {{like this}} and {sessions}") == {}


def test_an_unknown_placeholder_is_named_with_the_allowed_ones():
    [message] = errors(body="Hello {learner_name}, see {evnt_name} and {reason}")["body"]
    assert "{evnt_name}, {reason}" in message
    assert "{learner_name}" in message.split("can use:")[1] and "{sessions}" in message


@pytest.mark.parametrize("body", ["Hello {learner_name", "Hello learner_name}", "a { b", "}{", "{a{b}"])
def test_unbalanced_braces_are_refused(body):
    [message] = errors(body=body)["body"]
    assert "Write {{ or }} for a brace" in message


@pytest.mark.parametrize(
    "body", ["{event.seminar.course}", "{learner_name.__class__}", "{sessions[0]}", "{event_name:>9999}", "{0}", "{}"]
)
def test_attribute_access_indexes_and_format_specs_are_not_placeholders(body):
    [message] = errors(body=body)["body"]
    assert "is not a placeholder" in message


def test_the_subject_is_required_one_line_and_bounded():
    assert errors(subject="   ")["subject"] == ["Enter a subject."]
    assert errors(subject="Booked\nBcc: x@example.com")["subject"] == ["The subject must be a single line."]
    assert errors(subject="x" * SUBJECT_MAX_LENGTH) == {}
    assert errors(subject="x" * (SUBJECT_MAX_LENGTH + 1))["subject"] == [
        f"The subject can be at most {SUBJECT_MAX_LENGTH} characters long."
    ]


def test_the_body_is_required():
    assert errors(body="\n  \n")["body"] == ["Enter the text of the email."]


def test_every_shipped_default_is_valid_and_uses_only_its_placeholders():
    for kind in EMAIL_TYPES.values():
        assert template_errors(kind, subject=str(kind.subject), body=default_body(kind)) == {}, kind.key
        assert set(kind.placeholders) <= set(PLACEHOLDERS), kind.key


def test_the_django_admin_refuses_what_the_pages_refuse(seminar):
    row = EmailTemplate(email_type="booked", subject="Hi {event.title}", body="x")
    with pytest.raises(ValidationError) as refused:
        row.full_clean()
    assert "subject" in refused.value.message_dict
    with pytest.raises(ValidationError):
        SeminarEmailOff(seminar=seminar, email_type="cancelled").full_clean()
    with pytest.raises(ValidationError):
        EmailTemplate(email_type="connection_revoked", seminar=seminar, subject="x", body="y").full_clean()


# --- Rendering is substitution, never a template engine ----------------------------------------


def test_values_are_substituted_as_plain_text():
    text = "{{ event_name }} {event_name} {{{event_name}}}"
    value = "{learner_name} {{% now 'Y' %}} <b>"
    assert template_render(text, {"event_name": value}) == f"{{ event_name }} {value} {{{value}}}"
    assert "is not a placeholder" in errors(body="{% now 'Y' %}")["body"][0]


def test_the_html_part_is_the_escaped_text_in_paragraphs_with_links():
    subject, body = email_text(
        TemplateText("Hi\r\n{event_name}", "<script>x</script>\n{event_url}\n\n\n\nBye", ""),
        {"event_name": "A & B", "event_url": "https://lms.example.com/events/1/"},
    )
    assert subject == "Hi A & B"
    assert body == "<script>x</script>\nhttps://lms.example.com/events/1/\n\nBye\n"
    from seminars.email_messages import body_html

    html = body_html(body)
    assert "<script>" not in html and "&lt;script&gt;" in html
    hostile = body_html('https://x.example/"onmouseover="alert(1) <img src=x onerror=alert(1)>')
    assert "<img" not in hostile and '"onmouseover=' not in hostile
    assert '<a href="https://lms.example.com/events/1/"' in html
    assert html.count("<p>") == 2


# --- Every saved template renders (Hypothesis) ---------------------------------------------------

# Text near the edge: braces, names (known and not), separators, and any text at all.
PIECE = st.sampled_from([*"{}_ab\n\r\t .:![]0", *(f"{{{name}}}" for name in PLACEHOLDERS), "{{", "}}", "{x}"])
TEMPLATE_TEXT = st.lists(PIECE, max_size=30).map("".join) | st.text(max_size=80)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(sorted(EMAIL_TYPES)), subject=TEMPLATE_TEXT, body=TEMPLATE_TEXT)
def test_a_template_without_errors_renders_with_any_values(kind, subject, body):
    found = template_errors(EMAIL_TYPES[kind], subject=subject, body=body)
    if found:
        assert set(found) <= {"subject", "body"} and all(found.values())
        return
    values = {name: "v{" + name + "}" for name in PLACEHOLDERS}
    rendered_subject, rendered_body = email_text(TemplateText(subject, body, ""), values)
    assert "\n" not in rendered_subject and "\r" not in rendered_subject
    assert rendered_body.endswith("\n")


# --- Which template is in effect -------------------------------------------------------------------


@pytest.fixture
def outbox():
    mail.outbox.clear()
    return mail.outbox


pytestmark = pytest.mark.django_db(transaction=True)


def test_the_seminar_copy_beats_the_site_template_which_beats_the_default(seminar, site_admin):
    assert email_template_in_effect(kind=BOOKED, seminar_id=seminar.pk).source == Source.DEFAULT
    email_template_save(kind=BOOKED, subject="Site {event_name}", body="Site", actor=site_admin)
    assert email_template_in_effect(kind=BOOKED, seminar_id=seminar.pk) == TemplateText(
        "Site {event_name}", "Site", Source.SITE
    )
    email_template_save(kind=BOOKED, seminar=seminar, subject="Seminar", body="Seminar", actor=site_admin)
    assert email_template_in_effect(kind=BOOKED, seminar_id=seminar.pk).source == Source.SEMINAR
    assert email_template_in_effect(kind=BOOKED, seminar_id=None).source == Source.SITE

    assert email_template_reset(kind=BOOKED, seminar=seminar, actor=site_admin)
    assert email_template_in_effect(kind=BOOKED, seminar_id=seminar.pk).source == Source.SITE
    assert email_template_reset(kind=BOOKED, actor=site_admin)
    assert email_template_in_effect(kind=BOOKED, seminar_id=seminar.pk).source == Source.DEFAULT
    assert not email_template_reset(kind=BOOKED, actor=site_admin)


def test_saving_twice_keeps_one_row_and_who_saved(seminar, site_admin, editing_trainer):
    email_template_save(kind=BOOKED, subject="One", body="One", actor=site_admin)
    email_template_save(kind=BOOKED, subject="Two", body="Two", actor=editing_trainer)
    row = EmailTemplate.objects.get()
    assert (row.subject, row.updated_by) == ("Two", editing_trainer)


def test_a_template_that_would_not_render_is_not_saved(site_admin):
    with pytest.raises(ValidationError) as refused:
        email_template_save(kind=BOOKED, subject="Hi {nobody}", body="{", actor=site_admin)
    assert set(refused.value.message_dict) == {"subject", "body"}
    assert not EmailTemplate.objects.exists()


def test_a_stored_row_that_cannot_be_read_falls_back_to_the_next_in_line(seminar, site_admin):
    EmailTemplate.objects.create(email_type="booked", seminar=seminar, subject="{broken", body="x")
    assert email_template_in_effect(kind=BOOKED, seminar_id=seminar.pk).source == Source.DEFAULT


# --- The emails sent come from the templates ---------------------------------------------------


@pytest.fixture
def virtual_event(event):
    room = Room.objects.create(
        name="Online room", capacity=20, virtual_kind="custom", virtual_url="https://meet.example.com/j/1?pwd=s"
    )
    event.sessions.update(room=room)
    return event


def test_a_booking_email_uses_the_site_template_with_the_placeholders_filled(
    virtual_event, learner, site_admin, outbox
):
    email_template_save(
        kind=BOOKED,
        subject="You're in: {event_name} <{seminar_name}>",
        body="Dear {learner_name},\n\n{sessions}\n\nMore: {event_url}",
        actor=site_admin,
    )
    booking_create(event=virtual_event, user=learner, actor=learner)

    [message] = outbox
    assert message.subject == "You're in: Spring intake <Fire wardens>"
    session = virtual_event.sessions.get()
    assert message.body.startswith("Dear Lena,\n\nSessions:\n- ")
    assert f"Join online: http://testserver/sessions/{session.pk}/virtual/join/" in message.body
    assert "opens 15 minutes before the start" in message.body
    assert "meet.example.com" not in message.body
    html = message.alternatives[0][0]
    assert "&lt;Fire wardens&gt;" not in html  # the subject is not in the HTML; the body is
    assert f'<a href="http://testserver/events/{virtual_event.pk}/"' in html
    assert [a.get_content_type() for a in message.attachments] == ["text/calendar"]


def test_an_edit_applies_to_an_email_recorded_before_it(event, learner, site_admin, outbox):
    with transaction.atomic():
        booking_create(event=event, user=learner, actor=learner)
        assert OutboundEmail.objects.filter(kind="booking").count() == 1
        email_template_save(kind=BOOKED, subject="Edited {event_name}", body="Edited", actor=site_admin)
    assert [m.subject for m in outbox] == ["Edited Spring intake"]


def test_a_seminar_that_switched_off_an_email_sends_none_but_the_mandatory_ones(event, learner, site_admin, outbox):
    seminar_email_switch(kind=BOOKED, seminar=event.seminar, on=False, actor=site_admin)
    booking = booking_create(event=event, user=learner, actor=learner)
    assert outbox == []
    assert OutboundEmail.objects.get().state == OutboundEmail.State.SKIPPED

    with pytest.raises(Exception, match="cannot be switched off"):
        seminar_email_switch(kind=email_type("cancelled"), seminar=event.seminar, on=False, actor=site_admin)
    attendee_remove(booking=booking, actor=site_admin, reason="Wrong cohort")
    assert sorted(m.subject for m in outbox) == [
        "Booking cancelled: Fire wardens, Spring intake",
        "Removed from Fire wardens, Spring intake",
    ]

    seminar_email_switch(kind=BOOKED, seminar=event.seminar, on=True, actor=site_admin)
    assert not SeminarEmailOff.objects.exists()


def test_a_notice_email_comes_from_its_template_with_the_event_read_at_sending(event, learner, site_admin, outbox):
    booking = booking_create(event=event, user=learner, actor=learner)
    email_template_save(
        kind=email_type("attendee_removed"),
        seminar=event.seminar,
        subject="{actor_name} removed you",
        body="{recipient_name}: {reason} ({event_name}, {course_name})",
        actor=site_admin,
    )
    outbox.clear()
    attendee_remove(booking=booking, actor=site_admin, reason="Wrong cohort")

    removed = next(m for m in outbox if m.subject.endswith("removed you"))
    assert removed.subject == "Admin removed you"
    assert removed.body == "Lena: Wrong cohort (Spring intake, Safety training)\n"


def test_event_values_show_the_sessions_in_the_recipients_zone(event, learner):
    from seminars.models import Profile

    Profile.objects.create(user=learner, time_zone="Asia/Tokyo")
    values = event_values(event=event, recipient=learner, sessions=list(event.sessions.all()), join_links=True)
    assert "(Europe/London)" in values["sessions"] and "Your time: " in values["sessions"]
    assert "(Asia/Tokyo)" in values["first_start"]
    assert "Join online" not in values["sessions"]  # no virtual room


# --- Approval emails ---------------------------------------------------------------------------------


def test_the_approval_emails_come_from_their_templates_with_the_managers_name(event, learner, site_admin, outbox):
    from seminars.models import Profile, Seminar
    from seminars.services.approvals import booking_request_decline
    from seminars.tests.conftest import make_user

    manager = make_user("mary")
    Profile.objects.create(user=learner, manager=manager)
    event.seminar.approval_type = Seminar.ApprovalType.MANAGER
    event.seminar.save()
    email_template_save(
        kind=email_type("approval_requested"),
        subject="{learner_name} asks {recipient_name}",
        body="Manager: {manager_name}. Decide at {approvals_url}",
        actor=site_admin,
    )
    email_template_save(
        kind=email_type("declined"),
        seminar=event.seminar,
        subject="No: {event_name}",
        body="{manager_name} said no. {reason_line}",
        actor=site_admin,
    )

    booking = booking_create(event=event, user=learner, actor=learner)
    [asked] = outbox
    assert (asked.to, asked.subject) == ([manager.email], "Lena asks Mary")
    assert asked.body == "Manager: Mary. Decide at http://testserver/approvals/\n"

    booking_request_decline(booking=booking, actor=manager, reason="Busy quarter")
    declined = outbox[-1]
    assert (declined.to, declined.subject) == ([learner.email], "No: Spring intake")
    assert declined.body == "Mary said no. Reason: Busy quarter\n"


def test_a_learner_without_a_manager_leaves_the_placeholder_empty(event, learner):
    from seminars.email_messages import manager_name

    assert manager_name(learner) == ""
