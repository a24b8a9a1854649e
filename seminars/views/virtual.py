"""Virtual room links: our own URLs that re-check permission and time at click, then redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from seminars.meetings import booking_key, meeting_reference, registrant_names, staff_key
from seminars.models import Booking, Enrolment, Room, Session
from seminars.permissions import TRAINER_ROLES, can_view_course, is_course_trainer, is_site_admin
from seminars.selectors.events import room_sessions_for_viewer
from seminars.selectors.joining import viewer_session
from seminars.timezones import viewer_zone
from seminars.virtual_room import (
    GO_TO_ROOM,
    UNAVAILABLE,
    Access,
    current_session,
    is_staff_card,
    may_host,
    meeting_matters,
    session_access,
)

# A meeting in one of these states can be sent again at once ("Retry now").
RETRYABLE = ("failed", "waiting")


def may_retry(user, room: Room) -> bool:
    """Who may press "Retry now" for a room's meetings: the room's owner and site admins."""
    return is_site_admin(user) or room.created_by_id == user.pk


def _session(pk):
    return get_object_or_404(Session.objects.select_related("room", "event__seminar__course"), pk=pk)


def _booking_state(user, event):
    if not user.is_authenticated:
        return None
    return Booking.objects.filter(event=event, user=user).values_list("state", flat=True).first()


def _meeting(session):
    from virtualmeeting.selectors import meetings_by_reference

    room = session.room
    if room is None or not room.is_provider_backed:
        return None
    reference = meeting_reference(session, room)
    return meetings_by_reference([reference]).get(reference)


def _access(request, session):
    if not can_view_course(request.user, session.event.seminar.course):
        raise Http404("No such session.")
    meeting = _meeting(session)
    access = session_access(
        user=request.user, session=session, booking_state=_booking_state(request.user, session.event), meeting=meeting
    )
    return access, meeting


def _viewer_session(user, pk):
    """The session with the viewer's enrolment role and booking on it, and its meeting with the viewer's own links,
    in one query (the join click's hot path).

    The role goes where `course_role` looks first, so the permission checks ask nothing more.
    """
    found = viewer_session(user_id=user.pk, session_id=pk)
    if found is None:
        raise Http404("No such session.")
    session = found.session
    session.viewer_booking_id, session.viewer_booking_state = found.booking_id, found.booking_state
    user.__dict__.setdefault("_seminar_roles", {})[session.event.seminar.course_id] = found.role
    return session, found


@login_required
def virtual_join(request, pk):
    """ "Join now": who may join, and when, decided at the click; then a redirect. One query for a learner
    (the session with their role and booking, its meeting and their own link) and no template."""
    user = request.user
    session, found = _viewer_session(user, pk)
    if not can_view_course(user, session.event.seminar.course):
        raise Http404("No such session.")
    room = session.room
    key = _personal_key(user, session)
    meeting, personal = None, ""
    if room is not None and room.is_provider_backed:
        meeting = found.meeting
        personal = _personal_link(user, key, found)
    access = session_access(user=user, session=session, booking_state=session.viewer_booking_state, meeting=meeting)
    if not access.can_join:
        messages.warning(request, access.message or UNAVAILABLE)
        return redirect("seminars:event", session.event_id)
    if meeting is None:
        return HttpResponseRedirect(room.virtual_url)
    return HttpResponseRedirect(_join_url(request, session, access, meeting, key=key, personal=personal))


def _personal_key(user, session) -> str:
    """The registrant key of this person's own link to the session's meeting: staff's (the owner's is never
    used), else their booking's, else ""; the same rule as session_access's roles."""
    room, course = session.room, session.event.seminar.course
    if room is None or not room.is_provider_backed:
        return ""
    if may_host(user, room) or is_site_admin(user) or is_course_trainer(user, course):
        return staff_key(user.pk)
    return booking_key(session.viewer_booking_id) if session.viewer_booking_id else ""


def _personal_link(user, key: str, found) -> str:
    """The link of `key` (_personal_key) among the two the query read: the viewer's own as staff, or by their
    booking; "" for no key."""
    if key == staff_key(user.pk):
        return found.staff_link
    if found.booking_id is not None and key == booking_key(found.booking_id):
        return found.booking_link
    return ""


def _join_url(request, session, access, meeting, *, key: str, personal: str) -> str:
    """Where this person joins the provider's meeting: their own registrant link when they have one.

    A learner's is made in the background from their booking; a trainer or admin who is not the
    owner has none until their first click. When the meeting requires registration, whoever has no
    link yet (staff, or a learner who booked a moment ago or whose registration failed) is
    registered now, at the click: the shared link would show them the provider's registration form.
    When that fails, the shared link with a message. The owner's "Join as attendee" is the shared link.
    The shared link is `joinable_url`: while a meeting moves to another owner or host, the old meeting's
    until the new one is made (personal links to the old meeting keep working until then too).
    """
    if access.role not in ("learner", "staff") or not key:
        return meeting.joinable_url
    if personal or not meeting.takes_registrants:
        return personal or meeting.joinable_url
    return _registered_now(request, meeting_reference(session, session.room), key) or meeting.joinable_url


def _registered_now(request, reference, key) -> str:
    """Register this person for the meeting now (one round trip to the provider); "" with a message if not."""
    from virtualmeeting.errors import MeetingUnavailable
    from virtualmeeting.registrants import registrant_now

    first_name, last_name = registrant_names(request.user)
    try:
        return registrant_now(
            reference=reference, key=key, user=request.user, first_name=first_name, last_name=last_name
        )
    except MeetingUnavailable as exc:
        messages.warning(
            request,
            _("%(reason)s You were sent to the meeting's shared link instead; it may ask you to register.")
            % {"reason": exc.message},
        )
        return ""


@login_required
def virtual_host(request, pk):
    from virtualmeeting.errors import ProviderError
    from virtualmeeting.services import meeting_host_url

    session = _session(pk)
    access, meeting = _access(request, session)
    if not access.can_host or meeting is None:
        if session.room is not None and session.room.in_site_account:
            raise PermissionDenied(_("Only the room's owner, its host or a site admin can host this meeting."))
        raise PermissionDenied(_("Only the meeting's owner can host it."))
    try:
        url = meeting_host_url(meeting=meeting, user=request.user)
    except ProviderError as exc:
        messages.error(request, exc.message)
        return redirect("seminars:room", session.room_id)
    return HttpResponseRedirect(url)


def _can_retry(user, room: Room, meeting, access: Access) -> bool:
    """ "Retry now" is offered: the meeting's operation or its learners' registrations failed or wait."""
    if meeting is None or not may_retry(user, room):
        return False
    return meeting.status in RETRYABLE or any(note.failed for note in access.links)


def sessions_attach_virtual_access(*, user, sessions, booking_state) -> None:
    """Set on each session, in at most two queries: `virtual` (an Access, or None without a virtual link),
    `virtual_waiting` (its meeting waits for the provider's limit) and `virtual_can_retry` ("Retry now").

    Meetings are read only where they change the card (virtual_room.meeting_matters: staff's cards, and a learner's
    inside the join window), and their learners' registrations only for staff's cards (the notes on personal
    links): a learner's list of upcoming sessions reads none until one of them is about to start."""
    from virtualmeeting.selectors import meetings_by_reference, registrants_status

    now = timezone.now()
    wanted, staff = {}, set()
    for session in sessions:
        if session.room is not None and meeting_matters(user, session, booking_state, now):
            wanted[session.pk] = meeting_reference(session, session.room)
            if is_staff_card(user, session):
                staff.add(wanted[session.pk])
    meetings = meetings_by_reference(wanted.values()) if wanted else {}
    registrants = registrants_status(staff) if staff else {}
    for session in sessions:
        session.virtual_can_retry = session.virtual_waiting = False
        if session.room is None or not session.room.virtual_kind:
            session.virtual = None
            continue
        reference = wanted.get(session.pk, "")
        meeting = meetings.get(reference)
        session.virtual = session_access(
            user=user,
            session=session,
            booking_state=booking_state,
            meeting=meeting,
            registrants=registrants.get(reference),
            now=now,
        )
        session.virtual_waiting = meeting is not None and meeting.status == "waiting"
        session.virtual_can_retry = _can_retry(user, session.room, meeting, session.virtual)


def _relevant_sessions(user, sessions, booking_states):
    """Of the sessions the viewer may see, their own events' first, then the rest.

    A site room can serve several events; a learner booked on a later one must
    see that session's window, not another event's.
    """
    if is_site_admin(user):
        return sessions
    trainer_courses = set(
        Enrolment.objects.filter(user=user, role__in=TRAINER_ROLES).values_list("course_id", flat=True)
    )
    mine = [
        s
        for s in sessions
        if booking_states.get(s.event_id) in Booking.SEAT_STATES
        or s.event.seminar.course_id in trainer_courses
        or s.room.created_by_id == user.pk
    ]
    return mine or sessions


def room_card_context(request, room: Room):
    """Context for the room page's "Go to room" card (also served alone for self-refresh).

    Only sessions of courses the viewer may see count: a site room shared by
    several courses tells an outsider nothing about the others' sessions.
    """
    user = request.user
    sessions = list(room_sessions_for_viewer(room=room, user=user).select_related("room"))
    booking_states = dict(
        Booking.objects.filter(user=user, event_id__in={s.event_id for s in sessions}).values_list("event_id", "state")
    )
    session = current_session(_relevant_sessions(user, sessions, booking_states))
    context = {"room": room, "access": None, "session": None, "viewer_zone": viewer_zone(user)}
    if not room.virtual_kind:
        return context
    context["reconnect_texts"] = _owner_reconnect_texts(user, room)
    if session is None:
        # A room no visible session uses yet: staff may still open a custom link; nobody else sees anything.
        staff = is_site_admin(user) or (room.event_id and is_course_trainer(user, room.event.seminar.course))
        if room.virtual_kind == Room.CUSTOM_LINK and staff:
            context["access"] = Access(role="staff", can_join=True, buttons=[(GO_TO_ROOM, room.virtual_url)])
        return context
    from virtualmeeting.selectors import registrants_status

    meeting = _meeting(session)
    reference = meeting_reference(session, room)
    access = session_access(
        user=user,
        session=session,
        booking_state=booking_states.get(session.event_id),
        meeting=meeting,
        registrants=registrants_status([reference]).get(reference) if meeting is not None else None,
    )
    can_retry = _can_retry(user, room, meeting, access)
    context.update(
        session=session,
        access=access,
        meeting=meeting,
        can_retry=can_retry,
        recreated=bool(meeting is not None and meeting.recreated_at and access.role in ("owner", "staff")),
    )
    return context


def _owner_reconnect_texts(user, room: Room) -> list[str]:
    """For the room's owner: what reconnecting their meeting account would enable (attendance, recordings)."""
    from virtualmeeting.selectors import connection_for, reconnect_texts

    if not room.is_provider_backed or room.created_by_id != user.pk or room.in_site_account:
        return []  # a room in the site's account uses no connection of its owner
    return reconnect_texts(connection_for(user=user, provider=room.virtual_kind))


def _room_for_viewer(request, pk):
    room = get_object_or_404(Room.objects.select_related("event__seminar__course"), pk=pk)
    if room.event_id and not can_view_course(request.user, room.event.seminar.course):
        raise Http404("No such room.")
    return room


@login_required
def room_card(request, pk):
    room = _room_for_viewer(request, pk)
    return render(request, "seminars/rooms/_virtual_card.html", room_card_context(request, room))


@login_required
@require_POST
def room_retry(request, pk):
    from virtualmeeting.models import VirtualMeeting
    from virtualmeeting.services import meeting_retry_now, registrants_requeue

    room = _room_for_viewer(request, pk)
    if not may_retry(request.user, room):
        raise PermissionDenied(_("Only the room's owner and site admins can retry."))
    references = [meeting_reference(s, room) for s in room.sessions.all()]
    retried = 0
    for meeting in VirtualMeeting.objects.filter(reference__in=references, status__in=RETRYABLE):
        meeting_retry_now(meeting=meeting)
        retried += 1
    retried += registrants_requeue(references=references)
    messages.success(
        request,
        ngettext(
            "Retrying %(count)d virtual meeting operation now.",
            "Retrying %(count)d virtual meeting operations now.",
            retried,
        )
        % {"count": retried},
    )
    return redirect("seminars:room", room.pk)


def _session_for_viewer(request, pk):
    session = _session(pk)
    if not can_view_course(request.user, session.event.seminar.course):
        raise Http404("No such session.")
    return session


@login_required
def session_card(request, pk):
    """One session's virtual room line (event page, My sessions), served alone so that it refreshes itself."""
    session = _session_for_viewer(request, pk)
    sessions_attach_virtual_access(
        user=request.user, sessions=[session], booking_state=_booking_state(request.user, session.event)
    )
    return render(request, "seminars/bookings/_session_virtual.html", {"session": session})


@login_required
@require_POST
def session_retry(request, pk):
    """ "Retry now" for one session's meeting, under the room page's rule (`may_retry`)."""
    from virtualmeeting.services import meeting_retry_now, registrants_requeue

    session = _session_for_viewer(request, pk)
    if session.room is None or not may_retry(request.user, session.room):
        raise PermissionDenied(_("Only the room's owner and site admins can retry."))
    meeting = _meeting(session)
    retried = meeting is not None and meeting.status in RETRYABLE
    if retried:
        meeting_retry_now(meeting=meeting)
    if meeting is not None and registrants_requeue(references=[meeting.reference]):
        retried = True
    if retried:
        messages.success(request, _("Retrying the virtual meeting now."))
    else:
        messages.info(request, _("This virtual meeting has nothing to retry."))
    return redirect("seminars:event", session.event_id)


urlpatterns = [
    path("sessions/<int:pk>/virtual/join/", virtual_join, name="virtual_join"),
    path("sessions/<int:pk>/virtual/host/", virtual_host, name="virtual_host"),
    path("rooms/<int:pk>/virtual/card/", room_card, name="room_card"),
    path("rooms/<int:pk>/virtual/retry/", room_retry, name="room_retry"),
    path("sessions/<int:pk>/virtual/card/", session_card, name="session_card"),
    path("sessions/<int:pk>/virtual/retry/", session_retry, name="session_retry"),
]
