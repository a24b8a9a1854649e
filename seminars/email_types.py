"""Every email the product sends, declared once: its key, name, default subject and body, and placeholders.

Site admins edit the subject and body of each type in the browser (seminars.views.email_templates);
a seminar can keep its own copy, and switch a type off. The text is plain, with named
placeholders such as `{event_name}`; `{{` and `}}` write a literal brace. Placeholders are
substituted as plain strings: no attribute access, no format specs, no template tags, so an
admin's text can never run code or read data it was not given. `template_errors` refuses a
template that would not render; `template_render` fills one in.

This module knows no models: the models validate with it, and the renderers
(seminars.email_messages) build the values of the placeholders.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 10000


@dataclass(frozen=True)
class Placeholder:
    name: str
    description: str
    sample: str  # what the preview shows when the event has no such value (e.g. a reason)


_PLACEHOLDERS = [
    Placeholder("recipient_name", _("The name of the person the email goes to."), "Alex Example"),
    Placeholder("learner_name", _("The learner's name."), "Alex Example"),
    Placeholder("course_name", _("The course's name."), ""),
    Placeholder("seminar_name", _("The seminar's name."), ""),
    Placeholder("event_name", _("The event's title."), ""),
    Placeholder("event_url", _("The address of the event page."), ""),
    Placeholder(
        "sessions",
        _(
            "The event's sessions, each in the recipient's time zone, with its room and, for a virtual room, "
            "our join link and when it opens."
        ),
        "",
    ),
    Placeholder("first_start", _("When the first session starts, in the recipient's time zone."), ""),
    Placeholder("reason", _("The reason given (may be empty)."), _("The trainer is ill.")),
    Placeholder(
        "reason_line",
        _("“Reason: …” followed by the reason, or nothing when none was given."),
        _("Reason: The trainer is ill."),
    ),
    Placeholder("actor_name", _("The name of the staff member who made the change."), "Sam Staff"),
    Placeholder("from_event", _("The title of the event the learner was moved from."), _("Spring intake")),
    Placeholder("signups", _("How many active signups were cancelled with the event."), "3"),
    Placeholder("booked", _("How many learners hold a seat."), "1"),
    Placeholder("minimum", _("The event's minimum number of bookings."), "5"),
    Placeholder("operation", _("What the provider could not do: creation, update or deletion."), _("creation")),
    Placeholder("session", _("The session concerned, in its own time zone."), ""),
    Placeholder("room_name", _("The room's name."), _("Online room")),
    Placeholder("room_url", _("The address of the room's page."), ""),
    Placeholder("meeting_status", _("The meeting's state as the room page shows it."), _("Waiting to be created.")),
    Placeholder("provider", _("The meeting provider (e.g. zoom)."), "zoom"),
    Placeholder("account", _("The name and email of the meeting account."), "Sam Staff sam@example.com"),
    Placeholder("dashboard_url", _("The address of the recipient's dashboard."), ""),
    Placeholder("meeting_id", _("The provider's id of the meeting (Zoom: the meeting ID)."), "85746065432"),
    Placeholder(
        "meeting_account",
        _("Where the meeting is: a person's own meeting account, or a host of the site's account."),
        _("the Zoom account of Sam Staff (sam@example.com)"),
    ),
    Placeholder("manager_name", _("The learner's manager (empty when none is set)."), "Morgan Manager"),
    Placeholder("rooms", _("The names of the rooms handed over."), _("Online room")),
    Placeholder("new_host", _("Who the rooms were handed to."), "Sam Staff (sam@example.com)"),
    Placeholder("handover_url", _("The address of the page that shows the handover or the rooms to hand over."), ""),
    Placeholder("owner_name", _("The trainer whose rooms are affected."), "Taylor Trainer"),
    Placeholder("why", _("Why the rooms need a new owner."), _("deactivated in the LMS")),
    Placeholder("session_count", _("How many sessions still to start are affected."), "4"),
    Placeholder(
        "session_list",
        _("The affected sessions (at most ten), each with its room, in the recipient's time zone."),
        _("Mon 7 Dec 2026, 09:00-10:00 (UTC): Online room"),
    ),
    Placeholder("approvals_url", _("The address of the list of requests awaiting the recipient's approval."), ""),
]
PLACEHOLDERS = {p.name: p for p in _PLACEHOLDERS}

_EVENT = ("recipient_name", "course_name", "seminar_name", "event_name", "event_url", "sessions")
_BOOKING = ("learner_name", *_EVENT)
_MEETING = ("recipient_name", "course_name", "seminar_name", "event_name", "session", "room_name", "room_url")

_GREETING = _("Hello {recipient_name},")


class _Body:
    """A default body, translated when read (the registry is built at import, before any language is active)."""

    def __init__(self, *paragraphs):
        self.paragraphs = paragraphs

    def __str__(self):
        return "\n\n".join(str(p) for p in self.paragraphs)


@dataclass(frozen=True)
class EmailType:
    key: str
    name: str
    subject: str  # lazily translated, like the name
    body: _Body  # read with default_body()
    placeholders: tuple[str, ...]
    # Whether a seminar may switch this type off (see the comment above _TYPES for those that may not).
    optional: bool = True
    # Whether {sessions} lists our join links and the 15-minute rule (emails of a held seat).
    join_links: bool = False
    # Whether the email concerns a seminar (which may then keep its own copy); else site-wide only.
    per_seminar: bool = True


_EVENT_BLOCK = _("{seminar_name}: {event_name}\nCourse: {course_name}\n\n{sessions}")
_EVENT_LINK = _("Event page: {event_url}")

# Types a seminar may not switch off (optional=False), and why: each tells a person of a change someone
# else made to their seat or their meetings (a seat lost, given, moved or re-timed; a request declined or
# lapsed; a meeting that failed), and for learners it carries the calendar update; or it asks an approver
# to decide a request, which otherwise lapses unseen at the start. Without it the learner turns up at the
# wrong time or not at all, and staff never hear that a meeting is broken. Confirmations of what a learner
# did themselves, reminders and the minimum-bookings warning are courtesies a seminar may do without.
_TYPES = [
    EmailType(
        "booked",
        _("Booking confirmed"),
        _("Booking confirmed: {seminar_name}, {event_name}"),
        _Body(_GREETING, _("Your booking is confirmed. A calendar invitation is attached."), _EVENT_BLOCK, _EVENT_LINK),
        _BOOKING,
        join_links=True,
    ),
    EmailType(
        "waitlisted",
        _("On the waitlist"),
        _("You are on the waitlist: {seminar_name}, {event_name}"),
        _Body(
            _GREETING,
            _(
                "The event is full, so you are on the waitlist. If a seat frees up you will be booked "
                "automatically and we will email you."
            ),
            _EVENT_BLOCK,
            _EVENT_LINK,
        ),
        _BOOKING,
    ),
    EmailType(
        "promoted",
        _("Booked from the waitlist"),
        _("A seat freed up, you are booked: {seminar_name}, {event_name}"),
        _Body(
            _GREETING,
            _("Good news: a seat has freed up and you are now booked. A calendar invitation is attached."),
            _EVENT_BLOCK,
            _EVENT_LINK,
        ),
        _BOOKING,
        optional=False,
        join_links=True,
    ),
    EmailType(
        "cancelled",
        _("Booking cancelled"),
        _("Booking cancelled: {seminar_name}, {event_name}"),
        _Body(
            _GREETING,
            _("Your signup has been cancelled.\n{reason_line}"),
            _EVENT_BLOCK,
            _("If this was a mistake, you can book again from the event page while seats are available."),
            _EVENT_LINK,
        ),
        (*_BOOKING, "reason", "reason_line"),
        optional=False,
    ),
    EmailType(
        "event_cancelled",
        _("Event cancelled"),
        _("Event cancelled: {seminar_name}, {event_name}"),
        _Body(
            _GREETING,
            _("This event has been cancelled, and your signup with it.\n{reason_line}"),
            _EVENT_BLOCK,
            _("We are sorry for the inconvenience."),
            _EVENT_LINK,
        ),
        (*_BOOKING, "reason", "reason_line"),
        optional=False,
    ),
    EmailType(
        "times_changed",
        _("New times"),
        _("New times: {seminar_name}, {event_name}"),
        _Body(
            _GREETING,
            _(
                "The times of an event you are booked on have changed. The new times are below, and an updated "
                "calendar invitation is attached."
            ),
            _EVENT_BLOCK,
            _EVENT_LINK,
        ),
        _BOOKING,
        optional=False,
        join_links=True,
    ),
    EmailType(
        "approval_requested",
        _("Approval requested (to the approvers)"),
        _("Approval requested: {seminar_name}, {event_name}"),
        _Body(
            _GREETING,
            _("{learner_name} asks for a place on this event, which needs your approval."),
            _EVENT_BLOCK,
            _("The request lapses if nobody decides it before the event starts."),
            _("Approve or decline it: {approvals_url}"),
        ),
        (*_BOOKING, "approvals_url", "manager_name"),
        optional=False,
    ),
    EmailType(
        "declined",
        _("Request declined"),
        _("Request declined: {seminar_name}, {event_name}"),
        _Body(
            _GREETING,
            _("Your request for a place on this event has been declined.\n{reason_line}"),
            _EVENT_BLOCK,
            _EVENT_LINK,
        ),
        (*_BOOKING, "reason", "reason_line", "manager_name"),
        optional=False,
    ),
    EmailType(
        "request_expired",
        _("Request expired"),
        _("Request expired: {seminar_name}, {event_name}"),
        _Body(
            _GREETING,
            _("Your request for a place on this event expired: nobody decided it before the event started."),
            _EVENT_BLOCK,
            _EVENT_LINK,
        ),
        (*_BOOKING, "manager_name"),
        optional=False,
    ),
    EmailType(
        "reminder",
        _("Reminder to a learner"),
        _("Reminder: {seminar_name}, {event_name}"),
        _Body(
            _GREETING,
            _("A reminder of the event you are booked on. The first session starts {first_start}."),
            _EVENT_BLOCK,
            _EVENT_LINK,
        ),
        (*_BOOKING, "first_start"),
        join_links=True,
    ),
    EmailType(
        "reminder_trainer",
        _("Reminder to a trainer"),
        _("Reminder: {seminar_name}, {event_name}"),
        _Body(
            _GREETING,
            _("A reminder of an event you train on. The first session starts {first_start}."),
            _EVENT_BLOCK,
            _EVENT_LINK,
        ),
        (*_EVENT, "first_start"),
        join_links=True,
    ),
    EmailType(
        "attendee_removed",
        _("Removed by staff"),
        _("Removed from {seminar_name}, {event_name}"),
        _Body(_GREETING, _("{actor_name} removed you from this event. Reason: {reason}"), _EVENT_LINK),
        (*_BOOKING, "actor_name", "reason"),
        optional=False,
    ),
    EmailType(
        "attendee_moved",
        _("Moved by staff"),
        _("Moved to {seminar_name}, {event_name}"),
        _Body(
            _GREETING,
            _("{actor_name} moved your signup from {from_event} to {event_name}. Reason: {reason}"),
            _EVENT_LINK,
        ),
        (*_BOOKING, "actor_name", "reason", "from_event"),
        optional=False,
    ),
    EmailType(
        "event_cancelled_trainers",
        _("Event cancelled (to trainers)"),
        _("Event cancelled: {seminar_name}, {event_name}"),
        _Body(
            _GREETING,
            _("The event was cancelled; active signups cancelled with it: {signups}.\n{reason_line}"),
            _EVENT_LINK,
        ),
        (*_EVENT, "signups", "reason", "reason_line"),
        optional=False,
    ),
    EmailType(
        "minimum_warning",
        _("Few bookings (to trainers)"),
        _("Few bookings: {seminar_name}, {event_name}"),
        _Body(
            _GREETING,
            _(
                "Learners booked: {booked}; this event needs at least {minimum}. Consider cancelling it or "
                "inviting more learners."
            ),
            _EVENT_BLOCK,
            _EVENT_LINK,
        ),
        (*_EVENT, "booked", "minimum"),
    ),
    EmailType(
        "meeting_failed",
        _("Virtual meeting failure"),
        _("Virtual meeting {operation} failure"),
        _Body(
            _("A virtual meeting for this session could not be kept up to date."),
            _("Session: {session}\nRoom: {room_name}"),
            "{meeting_status}",
            "{room_url}",
        ),
        (*_MEETING, "operation", "meeting_status"),
        optional=False,
    ),
    EmailType(
        "meeting_waiting",
        _("Virtual meeting waiting for the daily limit"),
        _("Virtual meeting waiting for the provider's daily limit"),
        _Body(
            _("The meeting will be created or updated automatically when the limit resets; nothing needs re-saving."),
            _("Session: {session}\nRoom: {room_name}"),
            "{meeting_status}",
            "{room_url}",
        ),
        (*_MEETING, "meeting_status"),
        optional=False,
    ),
    EmailType(
        "meeting_recreated",
        _("Virtual meeting re-created"),
        _("Virtual meeting re-created"),
        _Body(
            _(
                "The meeting was deleted at the provider outside the LMS, so it was created again. Its join link "
                "changed."
            ),
            _("Session: {session}\nRoom: {room_name}"),
            "{meeting_status}",
            "{room_url}",
        ),
        (*_MEETING, "meeting_status"),
        optional=False,
    ),
    EmailType(
        "meeting_left_behind",
        _("Virtual meeting left behind"),
        _("Delete a virtual meeting by hand: {provider} meeting {meeting_id}"),
        _Body(
            _GREETING,
            _(
                "A session's meeting was handed to another owner or host and made again there. The old meeting could "
                "not be deleted automatically: please delete the {provider} meeting {meeting_id} in {meeting_account}. "
                "Learners already use the new meeting."
            ),
            _("Session: {session}\nRoom: {room_name}"),
            "{room_url}",
        ),
        (*_MEETING, "provider", "meeting_id", "meeting_account"),
        optional=False,
        per_seminar=False,
    ),
    EmailType(
        "connection_revoked",
        _("Meeting account disconnected"),
        _("Reconnect your meeting account"),
        _Body(
            _(
                "Your {provider} connection ({account}) no longer works: {reason}. Open a room's settings and click "
                "Connect to reconnect; your meetings will then be created and updated again."
            ),
            "{dashboard_url}",
        ),
        ("recipient_name", "provider", "account", "reason", "dashboard_url"),
        optional=False,
        per_seminar=False,
    ),
]
_TYPES += [
    EmailType(
        "rooms_handed_over",
        _("Rooms handed over"),
        _("Rooms handed over to you"),
        _Body(
            _GREETING,
            _(
                "{actor_name} handed these rooms to you: {rooms} (hosted by {new_host}). Their meetings are being "
                "moved; you will hear about them from now on."
            ),
            "{reason_line}",
            "{handover_url}",
        ),
        ("recipient_name", "actor_name", "rooms", "new_host", "reason", "reason_line", "handover_url"),
        optional=False,
        per_seminar=False,
    ),
    EmailType(
        "owner_rooms_affected",
        _("Rooms need a new owner"),
        _("Rooms of {owner_name} need a new owner"),
        _Body(
            _GREETING,
            _(
                "The virtual rooms of {owner_name} can no longer be kept up to date ({why}). {session_count} "
                "sessions still to start are affected:"
            ),
            "{session_list}",
            _("Hand the rooms to another host or owner: {handover_url}"),
        ),
        ("recipient_name", "owner_name", "why", "session_count", "session_list", "handover_url"),
        optional=False,
        per_seminar=False,
    ),
]
EMAIL_TYPES = {t.key: t for t in _TYPES}


def email_type(key: str) -> EmailType:
    """The type of `key`; KeyError for an unknown one."""
    return EMAIL_TYPES[key]


def email_type_choices() -> list[tuple[str, str]]:
    return [(t.key, t.name) for t in _TYPES]


def default_body(kind: EmailType) -> str:
    return str(kind.body)


# --- The template language: text, {name}, {{ and }} ----------------------------------------------

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")


class TemplateError(ValueError):
    pass


def _tokens(text: str):
    """(literal text, placeholder name or None) pairs; TemplateError for a brace or name we cannot read."""
    position = 0
    for match in _TOKEN.finditer(text):
        yield text[position : match.start()], None
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            yield token[0], None
        elif token in ("{", "}"):
            raise TemplateError(
                _("A “%(brace)s” is not closed or opened (character %(position)d). Write {{ or }} for a brace.")
                % {"brace": token, "position": match.start() + 1}
            )
        else:
            name = match.group(1).strip()
            if not _NAME.match(name):
                raise TemplateError(
                    _("“%(token)s” is not a placeholder: use a plain name in braces, such as {event_name}.")
                    % {"token": token[:60]}
                )
            yield "", name
    yield text[position:], None


def template_placeholders(text: str) -> list[str]:
    """The placeholder names `text` uses, in order (TemplateError if it cannot be read)."""
    return [name for _text, name in _tokens(text) if name]


def template_errors(kind: EmailType, *, subject: str, body: str) -> dict[str, list[str]]:
    """What is wrong with a subject and body for `kind`, per field ({} when they render)."""
    errors = {}
    subject = subject or ""
    if not subject.strip():
        errors["subject"] = [str(_("Enter a subject."))]
    elif "\n" in subject or "\r" in subject:
        errors["subject"] = [str(_("The subject must be a single line."))]
    elif len(subject) > SUBJECT_MAX_LENGTH:
        errors["subject"] = [
            str(_("The subject can be at most %(count)d characters long.") % {"count": SUBJECT_MAX_LENGTH})
        ]
    if not (body or "").strip():
        errors["body"] = [str(_("Enter the text of the email."))]
    elif len(body) > BODY_MAX_LENGTH:
        errors["body"] = [str(_("The text can be at most %(count)d characters long.") % {"count": BODY_MAX_LENGTH})]
    for field, text in (("subject", subject), ("body", body or "")):
        if field in errors:
            continue
        try:
            names = template_placeholders(text)
        except TemplateError as error:
            errors[field] = [str(error)]
            continue
        unknown = [name for name in dict.fromkeys(names) if name not in kind.placeholders]
        if unknown:
            errors[field] = [
                str(
                    _("Unknown placeholder %(names)s. This email can use: %(allowed)s.")
                    % {
                        "names": ", ".join("{" + name + "}" for name in unknown),
                        "allowed": ", ".join("{" + name + "}" for name in kind.placeholders),
                    }
                )
            ]
    return errors


def template_render(text: str, values: dict) -> str:
    """`text` with each placeholder replaced by its value (missing values are empty)."""
    return "".join(literal + (str(values.get(name, "")) if name else "") for literal, name in _tokens(text))
