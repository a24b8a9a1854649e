"""Emails made from the templates admins edit (seminars.email_types): text, and HTML built from the text.

The renderers of the outbox (seminars.emails, seminars.reminders, seminars.notifications) build
the values of the placeholders from the current data and call `email_message`, which takes the
template in effect when the email is sent: an edit applies to every email not sent yet. The
admin's text is never run through the Django template engine; the HTML alternative is the
rendered text, escaped, in paragraphs, with its addresses made links, in the email layout.
"""

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import urlize
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

from seminars.email_sessions import session_rows, sessions_text
from seminars.email_types import PLACEHOLDERS, EmailType, email_type, template_render
from seminars.models import SeminarEvent, Session
from seminars.outbox import absolute_url, header_text
from seminars.selectors.approvals import learner_manager_id
from seminars.selectors.email_templates import TemplateText, email_switched_off, email_template_in_effect
from seminars.timezones import time_span, to_zone, viewer_zone

_BLANK_LINES = re.compile(r"\n{3,}")
_PARAGRAPHS = re.compile(r"\n\s*\n")


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


def session_description(session) -> str:
    """`Fire wardens: Spring intake, Tue 3 Mar 2026 09:00 (Europe/London)`: a session in its own zone."""
    local = to_zone(session.start, session.time_zone)
    return f"{session.event.seminar.name}: {session.event.title}, {date_format(local, 'D j M Y H:i')} ({session.time_zone})"


def manager_name(learner) -> str:
    """{manager_name}: the learner's manager (seminars profile), or nothing."""
    manager = get_user_model().objects.filter(pk=learner_manager_id(user=learner)).first()
    return display_name(manager) if manager else ""


def event_values(*, event, recipient, sessions, join_links: bool) -> dict:
    """The placeholders every email about an event can use, for `recipient` (times in their zone).
    `sessions` are the event's, with their rooms loaded."""
    zone = viewer_zone(recipient)
    return {
        "recipient_name": display_name(recipient),
        "course_name": event.seminar.course.name,
        "seminar_name": event.seminar.name,
        "event_name": event.title,
        "event_url": absolute_url(event.get_absolute_url()),
        "sessions": sessions_text(session_rows(sessions, zone), join_links=join_links),
        "first_start": f"{time_span(sessions[0].start, sessions[0].finish, zone)} ({zone})" if sessions else "",
    }


def reason_values(reason: str) -> dict:
    """{reason}, and {reason_line}: "Reason: …" when one was given, else nothing."""
    return {"reason": reason, "reason_line": gettext("Reason: %(reason)s") % {"reason": reason} if reason else ""}


def email_text(text: TemplateText, values: dict) -> tuple[str, str]:
    """The subject (one line) and body of a template filled in with `values`."""
    subject = header_text(template_render(text.subject, values))
    lines = [line.rstrip() for line in template_render(text.body, values).replace("\r\n", "\n").split("\n")]
    body = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"
    return subject, body


def body_html(body: str) -> str:
    """The HTML of a plain-text body: escaped, one <p> per paragraph, line breaks kept, addresses as links."""
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(body) if p.strip()]
    html = "".join(
        "<p>" + "<br>".join(urlize(line, autoescape=True) for line in p.split("\n")) + "</p>\n" for p in paragraphs
    )
    return mark_safe(html)  # noqa: S308 - urlize(autoescape=True) escapes every line and adds only its links


def email_message(*, kind: str, seminar_id, values: dict, to: list[str]) -> EmailMultiAlternatives | None:
    """The email of type `kind` with `values`, from the template in effect for the seminar (None: the
    seminar switched this type off)."""
    email_kind = email_type(kind)
    if email_switched_off(kind=email_kind, seminar_id=seminar_id):
        return None
    subject, body = email_text(email_template_in_effect(kind=email_kind, seminar_id=seminar_id), values)
    message = EmailMultiAlternatives(subject=subject, body=body, to=to)
    layout = {"body_html": body_html(body), "language": get_language() or settings.LANGUAGE_CODE}
    message.attach_alternative(render_to_string("seminars/email/_base.html", layout), "text/html")
    return message


# --- Preview -------------------------------------------------------------------------------------


def preview_values(*, kind: EmailType, event, recipient, actor) -> dict:
    """The values an email of `kind` about `event` would have for `recipient`: the event's own data,
    and a sample where only the moment of sending knows (a reason, a meeting's state)."""
    sessions = list(event.sessions.select_related("room", "event__seminar").order_by("start"))
    values = {name: str(placeholder.sample) for name, placeholder in PLACEHOLDERS.items()}
    values.update(event_values(event=event, recipient=recipient, sessions=sessions, join_links=kind.join_links))
    values["learner_name"] = display_name(recipient)
    values["actor_name"] = display_name(actor)
    values["minimum"] = str(event.minimum_bookings or values["minimum"])
    values["dashboard_url"] = absolute_url(reverse("seminars:dashboard"))
    values["approvals_url"] = absolute_url(reverse("seminars:approvals"))
    values["room_url"] = values["event_url"]
    if "manager_name" in kind.placeholders:
        values["manager_name"] = manager_name(recipient) or values["manager_name"]
    if sessions:
        values["session"] = session_description(sessions[0])
        if sessions[0].room is not None:
            values["room_name"] = sessions[0].room.name
            values["room_url"] = absolute_url(reverse("seminars:room", args=[sessions[0].room_id]))
    return {name: values[name] for name in kind.placeholders}


def email_preview(*, kind: EmailType, subject: str, body: str, event, recipient, actor) -> dict:
    """What an email of `kind` with this subject and body would say about `event` (nothing is sent)."""
    values = preview_values(kind=kind, event=event, recipient=recipient, actor=actor)
    subject, text = email_text(TemplateText(subject, body, ""), values)
    return {"subject": subject, "body": text, "html": body_html(text), "recipient": recipient}


# --- Emails of in-app notifications ---------------------------------------------------------------


@dataclass(frozen=True)
class NoticeEmail:
    """The email that goes with an in-app notification: its type and what fills its placeholders.

    `values` are known when the notice is made (a reason, who did it); the event's placeholders
    ({event_name}, {sessions}, ...) are filled in when the email is sent, in the recipient's zone.
    `seminar_id` says whose copy and switch apply (the event's seminar when `event_id` is given).
    """

    kind: str
    values: dict = field(default_factory=dict)
    event_id: int | None = None
    seminar_id: int | None = None

    def params(self) -> dict:
        email_type(self.kind)  # an unknown type fails here, in the caller, not in the worker
        return {"kind": self.kind, "values": self.values, "event_id": self.event_id, "seminar_id": self.seminar_id}


def notice_email_message(*, spec: dict, user) -> EmailMultiAlternatives | None:
    """The email of a notification for `user` from its NoticeEmail params (None: nothing to send)."""
    values = {}
    seminar_id = spec.get("seminar_id")
    if spec.get("event_id") is not None:
        event = (
            SeminarEvent.objects.select_related("seminar__course")
            .prefetch_related(Prefetch("sessions", queryset=Session.objects.select_related("room").order_by("start")))
            .filter(pk=spec["event_id"])
            .first()
        )
        if event is None:
            return None  # the event was deleted: the notice stays in the app
        kind = email_type(spec["kind"])
        values = event_values(
            event=event, recipient=user, sessions=list(event.sessions.all()), join_links=kind.join_links
        )
        seminar_id = event.seminar_id
    values.update(spec.get("values") or {})
    values["recipient_name"] = display_name(user)
    values.setdefault("learner_name", values["recipient_name"])
    return email_message(kind=spec["kind"], seminar_id=seminar_id, values=values, to=[user.email])
