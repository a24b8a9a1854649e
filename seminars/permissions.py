"""Who may do what. Every view checks these on the server; templates only hide links.

Rights follow the course role only. Being chosen as one of an event's trainers (EventTrainer) adds
none: only course staff can be chosen, and they already see links, attendees and sheets as course
trainers; someone who leaves the staff loses both (seminars.selectors.trainers).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from lms.permissions import is_site_admin
from lms.userfacts import fact
from seminars.models import Booking, Course, Enrolment, Seminar

EDITING_ROLES = {Enrolment.Role.EDITING_TRAINER}
TRAINER_ROLES = {Enrolment.Role.TRAINER, Enrolment.Role.EDITING_TRAINER}


def course_role(user, course: Course) -> str | None:
    """The user's enrolment role in the course, or None: from their cached facts (seminars.viewer_facts, read
    again after any change to their enrolments), or what this request already read with the course."""
    if not user.is_authenticated:
        return None
    known = user.__dict__.get("_seminar_roles")
    if known is not None and course.pk in known:
        return known[course.pk]
    return fact(user, "roles").get(course.pk)


def can_view_course(user, course: Course) -> bool:
    return is_site_admin(user) or course_role(user, course) is not None


def can_edit_course(user, course: Course) -> bool:
    """Add/edit seminars, events, sessions and ad-hoc rooms."""
    return is_site_admin(user) or course_role(user, course) in EDITING_ROLES


def edits_some_course(user) -> bool:
    """Site admins and the editing trainers of any course: those who schedule sessions in rooms."""
    return is_site_admin(user) or (
        user.is_authenticated and any(role in EDITING_ROLES for role in fact(user, "roles").values())
    )


def is_course_trainer(user, course: Course) -> bool:
    """Trainers see attendee lists, take attendance and see virtual room links."""
    return is_site_admin(user) or course_role(user, course) in TRAINER_ROLES


def may_watch_recordings(user, course: Course, booking_state: str | None) -> bool:
    """An event's recordings: for the learners holding a seat on it and the course's trainers and site
    admins; never for the waitlisted, the cancelled or anyone else in the course."""
    return is_course_trainer(user, course) or booking_state in Booking.SEAT_STATES


def require_view(user, course: Course) -> None:
    """A user not enrolled in a course sees none of it: 404, not a hint that it exists."""
    if not can_view_course(user, course):
        raise Http404("No such course.")


def require_edit(user, course: Course) -> None:
    require_view(user, course)
    if not can_edit_course(user, course):
        raise PermissionDenied(_("Only editing trainers and site admins may change this."))


def require_trainer(user, course: Course) -> None:
    require_view(user, course)
    if not is_course_trainer(user, course):
        raise PermissionDenied(_("Only trainers and site admins may see this."))


def require_event_editor(user) -> None:
    if not edits_some_course(user):
        raise PermissionDenied(_("Only editing trainers and site admins may see this."))


def require_site_admin(user) -> None:
    if not is_site_admin(user):
        raise PermissionDenied(_("Only site admins may do this."))


# --- Approval of requests for a place --------------------------------------------------------


class Awaits:
    """Whose decision a pending request waits for."""

    MANAGER = "manager"
    TRAINER = "trainer"
    ADMIN = "admin"


def request_awaits(*, approval_type: str, manager_id: int | None, manager_approved: bool) -> str:
    """Whose decision a request (state "requested") waits for, by its seminar's approval type.

    A learner without a manager, where the type asks for one, waits for a site admin; so does a
    request the manager approved under "manager, then a site admin", and one on a seminar whose
    approval was switched off while it was pending.
    """
    Type = Seminar.ApprovalType
    if approval_type == Type.TRAINER:
        return Awaits.TRAINER
    if approval_type in (Type.MANAGER, Type.MANAGER_THEN_ADMIN) and manager_id is not None and not manager_approved:
        return Awaits.MANAGER
    return Awaits.ADMIN


def booking_request_awaits(booking, *, manager_id: int | None) -> str:
    """request_awaits for `booking` (its event's seminar loaded); `manager_id` is the learner's manager's."""
    return request_awaits(
        approval_type=booking.event.seminar.approval_type,
        manager_id=manager_id,
        manager_approved=booking.manager_approved_at is not None,
    )


def may_decide_request(user, *, awaits: str, course: Course, manager_id: int | None) -> bool:
    """Whether `user` may approve or decline a request waiting for `awaits` (request_awaits) on `course`.

    Site admins always may; the learner's manager when it waits for the manager; the course's
    trainers and editing trainers when it waits for a trainer.
    """
    if is_site_admin(user):
        return True
    if not user.is_authenticated:
        return False
    if awaits == Awaits.MANAGER:
        return manager_id is not None and user.pk == manager_id
    if awaits == Awaits.TRAINER:
        return course_role(user, course) in TRAINER_ROLES
    return False


def teaches_somewhere(user) -> bool:
    """Whether `user` is on the staff (trainer or editing trainer) of any course (from their cached facts)."""
    return user.is_authenticated and any(role in TRAINER_ROLES for role in fact(user, "roles").values())


def may_decide_some_request(user) -> bool:
    """Whether `user` could be asked to decide any request: a site admin, a trainer of some course or someone's
    manager (from their cached facts). Whoever is none of these has nothing to count."""
    if is_site_admin(user):
        return True
    if not user.is_authenticated:
        return False
    return fact(user, "manages") or teaches_somewhere(user)


def decidable_requests_q(user) -> Q:
    """The Booking filter of the requests `user` may decide: may_decide_request as a query (for the
    approvals list and its count), kept beside it and checked against it by the tests."""
    pending = Q(state=Booking.State.REQUESTED)
    if is_site_admin(user):
        return pending
    if not user.is_authenticated:
        return Q(pk__in=[])
    Type = Seminar.ApprovalType
    trained = Enrolment.objects.filter(user=user, role__in=TRAINER_ROLES).values("course_id")
    return pending & (
        Q(event__seminar__approval_type=Type.TRAINER, event__seminar__course_id__in=trained)
        | Q(
            event__seminar__approval_type__in=[Type.MANAGER, Type.MANAGER_THEN_ADMIN],
            user__seminar_profile__manager=user,
            manager_approved_at__isnull=True,
        )
    )
