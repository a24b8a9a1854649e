"""Who sees which virtual room link, and when (domain.md, "Who sees what").

- The meeting owner (creator of a provider-backed room): "Host meeting" and "Join as attendee".
  A room in the site's account (`Room.in_site_account`) is hosted by a user of that account: "Host meeting"
  is also offered to the LMS user whose email is the host's, and to site admins (`may_host`).
- Site admins and the event's trainers (incl. editing trainers, who manage
  ad-hoc rooms): "Go to room" at any time.
- Booked learners: "Join now" from 15 minutes before the session starts until
  it finishes; before that "Virtual room will open 15 minutes before next
  session"; after it, or when the event is cancelled, "Virtual room is no
  longer available".
- Everyone else: "Virtual room is unavailable".

A learner's "Join now" leads to their own registrant link once it is made (the
participants the provider reports then carry their booking); a trainer or admin
is registered at their first "Go to room". The owner and staff are told whether
the learners' personal links are ready, and why not (`personal_links_notes`):
without them, attendance is matched by email.

A provider's meeting is joinable whenever it exists there (`meeting_joinable`),
whatever its sync status: while an update waits for a limit, has failed or is
held, the provider still has the meeting with its previous details, and the
owner, staff and admins are told so.

The buttons point at our own URLs, which call `session_access` again at click
time before redirecting, so a join URL never reaches a page, an API answer or
an email before the window opens.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from lms.urlcache import reverse
from seminars.meetings import BOOKING_KEY
from seminars.models import Booking, Session
from seminars.permissions import is_course_trainer, is_site_admin
from virtualmeeting.selectors import meeting_status_text

JOIN_WINDOW = timedelta(minutes=15)

OPENS_SOON = gettext_lazy("Virtual room will open 15 minutes before next session")
NO_LONGER = gettext_lazy("Virtual room is no longer available")
UNAVAILABLE = gettext_lazy("Virtual room is unavailable")
UPDATING = gettext_lazy("Updating virtual room. Please wait...")

HOST_MEETING = gettext_lazy("Host meeting")
JOIN_AS_ATTENDEE = gettext_lazy("Join as attendee")
GO_TO_ROOM = gettext_lazy("Go to room")
JOIN_NOW = gettext_lazy("Join now")


@dataclass
class Access:
    """What one user may do with one session's virtual room right now."""

    role: str  # "owner", "staff", "learner", "none"
    can_join: bool = False
    can_host: bool = False
    message: str = ""
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (label, url)
    pending: bool = False  # the meeting is being created/updated: the card refreshes itself
    problem: str = ""  # failure or wait, shown to the owner, staff and admins
    # The learners' personal join links, for the owner, staff and admins (`personal_links_notes`).
    links: list["LinksNote"] = field(default_factory=list)
    # A room in the site's account: who hosts it and who may start it, for the owner, staff and admins.
    host_note: str = ""


@dataclass
class LinksNote:
    """One line about the learners' personal join links: `kind` is "ready", "off", "registering" or "failed"."""

    kind: str
    text: str

    @property
    def failed(self) -> bool:
        return self.kind == "failed"


def personal_links_notes(meeting, registrants: dict[str, tuple[str, str]]) -> list[LinksNote]:
    """What the owner and staff are told about the learners' personal links of one meeting.

    `registrants` is the meeting's {key: (status, last_error)} (virtualmeeting.selectors.registrants_status).
    Without a personal link a learner joins with the shared link, and their attendance is matched by
    email (less exactly: the provider often gives no address for people outside the host's account).
    """
    if meeting is None or not meeting.present or not meeting.personal_links:
        return []
    by_status: dict[str, list[str]] = {}
    for key, (status, last_error) in registrants.items():
        if key.startswith(BOOKING_KEY):
            by_status.setdefault(status, []).append(last_error)
    notes = []
    if off := by_status.get("unsupported"):
        reason = next((error for error in off if error), "")
        text = gettext("Personal join links are off: %(reason)s Attendance will be matched by email.")
        notes.append(LinksNote("off", text % {"reason": _sentence(reason)}))
    if failed := by_status.get("failed"):
        reason = next((error for error in failed if error), "")
        text = ngettext(
            "%(count)d learner has no personal link: %(reason)s Their attendance will be matched by email.",
            "%(count)d learners have no personal link: %(reason)s Their attendance will be matched by email.",
            len(failed),
        )
        notes.append(LinksNote("failed", text % {"count": len(failed), "reason": _sentence(reason)}))
    if pending := by_status.get("pending"):
        text = ngettext(
            "%(count)d learner has no personal link yet: registering…",
            "%(count)d learners have no personal link yet: registering…",
            len(pending),
        ) % {"count": len(pending)}
        wait = next((error for error in pending if error), "")
        notes.append(LinksNote("registering", f"{text} {_sentence(wait)}" if wait else text))
    if not notes and (ready := by_status.get("registered")):
        text = ngettext(
            "%(count)d learner has a personal join link: attendance will be matched exactly.",
            "All %(count)d learners have a personal join link: attendance will be matched exactly.",
            len(ready),
        )
        notes.append(LinksNote("ready", text % {"count": len(ready)}))
    return notes


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?", "…")) else f"{text}."


def meeting_joinable(meeting) -> bool:
    """The meeting exists at the provider and is wanted: its link works, whatever its sync status.

    An update waiting for a limit, failed or held leaves the provider's meeting
    in place with its previous details; people still join it.
    """
    return bool(meeting is not None and meeting.present and meeting.has_remote)


def _meeting_problem(meeting) -> str:
    """What the owner, staff and admins are told about a failure, a wait or a hold (or "")."""
    if meeting is None or not meeting.has_problem:
        return ""
    status = meeting_status_text(meeting)
    stale = _stale_remote_text(meeting)
    return f"{status} {stale}" if stale else status


def _stale_remote_text(meeting) -> str:
    """Said when the provider still has details older than the session's: the link works meanwhile."""
    from virtualmeeting.selectors import service_name

    if not meeting_joinable(meeting) or meeting.synced_version == meeting.desired_version:
        return ""
    values = {"service": service_name(meeting.provider)}
    old_start = (meeting.synced_spec or {}).get("start")
    if old_start and meeting.start and datetime.fromisoformat(old_start) != meeting.start:
        zone = meeting.time_zone or "UTC"
        local = datetime.fromisoformat(old_start).astimezone(ZoneInfo(zone))
        values["when"] = f"{date_format(local, 'D j M Y, H:i')} ({zone})"
        return (
            gettext(
                "%(service)s still has the previous time, %(when)s, until the update goes through; "
                "the link works meanwhile."
            )
            % values
        )
    return (
        gettext("%(service)s still has the previous details until the update goes through; the link works meanwhile.")
        % values
    )


def session_access(
    *,
    user,
    session: Session,
    booking_state: str | None,
    meeting=None,
    registrants: dict | None = None,
    now: datetime | None = None,
) -> Access:
    """Decide the card for `user` and `session` (its room must have a virtual link).

    `booking_state` is the user's booking state on the session's event (or
    None); `meeting` the VirtualMeeting of a provider-backed room (or None);
    `registrants` its registrants' {key: (status, last_error)}, for the notes
    on personal links the owner and staff see.
    """
    now = now or timezone.now()
    room = session.room
    event = session.event
    course = event.seminar.course
    if room is None or not room.virtual_kind:
        return Access(role="none", message=UNAVAILABLE)

    provider_backed = room.is_provider_backed
    ready = (not provider_backed) or meeting_joinable(meeting)
    pending = (
        provider_backed and not ready and meeting is not None and meeting.status in ("pending", "creating", "updating")
    )
    join_url = reverse("seminars:virtual_join", args=[session.pk])
    host_url = reverse("seminars:virtual_host", args=[session.pk])

    is_owner = provider_backed and user.is_authenticated and room.created_by_id == user.pk
    hosts = provider_backed and may_host(user, room)
    if hosts or is_site_admin(user) or is_course_trainer(user, course):
        role = "owner" if is_owner else "staff"
        access = Access(role=role, pending=pending, problem=_meeting_problem(meeting) if provider_backed else "")
        if event.cancelled:
            access.message = NO_LONGER
            return access
        if provider_backed:
            access.links = personal_links_notes(meeting, registrants or {})
            access.host_note = host_note(room)
        if not ready:
            # A failure or wait is shown once, as the card's problem (with "Retry now" where allowed).
            if pending or meeting is None:
                access.message = UPDATING
            elif not access.problem:
                access.message = UNAVAILABLE
            return access
        access.can_join = True
        if hosts:
            access.can_host = True
            access.buttons = [(HOST_MEETING, host_url), (JOIN_AS_ATTENDEE, join_url)]
        else:
            access.buttons = [(GO_TO_ROOM, join_url)]
        return access

    if booking_state not in Booking.SEAT_STATES:
        return Access(role="none", message=UNAVAILABLE)
    if event.cancelled or now >= session.finish:
        return Access(role="learner", message=NO_LONGER)
    if now < session.start - JOIN_WINDOW:
        return Access(role="learner", message=OPENS_SOON)
    if not ready:
        return Access(role="learner", message=UPDATING, pending=pending)
    return Access(role="learner", can_join=True, buttons=[(JOIN_NOW, join_url)])


def is_staff_card(user, session: Session) -> bool:
    """Whether `user` gets the owner's or staff's card for `session` (its room provider-backed): session_access's
    first rule."""
    room = session.room
    return may_host(user, room) or is_site_admin(user) or is_course_trainer(user, session.event.seminar.course)


def meeting_matters(user, session: Session, booking_state: str | None, now: datetime) -> bool:
    """Whether session_access would give `user` a different card for `session` depending on its meeting: staff's
    cards always (links, problems, readiness); a learner's only inside the join window of an event they hold a
    seat on (before it, "opens soon"; after it, "no longer": whatever the meeting). Lists read meetings only for
    these (seminars/tests/test_virtual_card_memo.py checks the rule against session_access)."""
    room = session.room
    if room is None or not room.is_provider_backed:
        return False
    if is_staff_card(user, session):
        return True
    if booking_state not in Booking.SEAT_STATES or session.event.cancelled:
        return False
    return session.start - JOIN_WINDOW <= now < session.finish


def host_note(room) -> str:
    """Said on the card of a room in the site's account: its host, and who may start its meetings."""
    from virtualmeeting.selectors import service_name

    if not room.in_site_account:
        return ""
    values = {"host": room.virtual_host_email or room.virtual_host, "service": service_name(room.virtual_kind)}
    alternatives = list(room.virtual_alternative_hosts or [])
    if not alternatives:
        return (
            gettext(
                "Hosted by %(host)s in the site's %(service)s account. Host meeting is offered to the room's owner, "
                "the person whose email this is, and site admins."
            )
            % values
        )
    return ngettext(
        "Hosted by %(host)s in the site's %(service)s account, with %(alternatives)s as alternative host. Host "
        "meeting is offered to the room's owner, the people whose emails these are, and site admins.",
        "Hosted by %(host)s in the site's %(service)s account, with %(alternatives)s as alternative hosts. Host "
        "meeting is offered to the room's owner, the people whose emails these are, and site admins.",
        len(alternatives),
    ) % {**values, "alternatives": ", ".join(alternatives)}


def may_host(user, room) -> bool:
    """ "Host meeting" (a fresh start URL at click): the room's owner; for a room in the site's account, also the
    LMS user whose email is the host's or one of its alternative hosts', and site admins."""
    if not user.is_authenticated or not room.is_provider_backed:
        return False
    if room.created_by_id == user.pk:
        return True
    if not room.in_site_account:
        return False
    hosts = {(email or "").strip().lower() for email in [room.virtual_host_email, *room.virtual_alternative_hosts]}
    hosts.discard("")
    return is_site_admin(user) or (user.email or "").strip().lower() in hosts


def current_session(sessions, now: datetime | None = None):
    """The session a room card is about: the one running or next, else the last one."""
    now = now or timezone.now()
    sessions = sorted(sessions, key=lambda s: s.start)
    for session in sessions:
        if session.finish > now:
            return session
    return sessions[-1] if sessions else None
