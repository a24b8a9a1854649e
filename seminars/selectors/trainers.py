"""Who the trainers of an event are: the one rule every notice, page and feed asks.

An event's trainers are the people assigned to it (EventTrainer) who are still on its course's
staff (enrolled as trainer or editing trainer), active accounts only. An event with nobody
(still) assigned falls back to all of its course's staff, as before events had trainers of
their own. Assignments never widen anyone's rights: only course staff can be assigned, and an
assigned person who leaves the course's staff stops counting here too.

The rule is written once, as `_teaches` (a condition on an event and a user, usable in any
query), and the functions below only aim it: at the people of some events, or at the events of
one person.
"""

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from seminars.models import Course, Enrolment, EventTrainer, SeminarEvent
from seminars.permissions import TRAINER_ROLES

STAFF_ROLES = sorted(TRAINER_ROLES)


def _assigned_staff(event_ref):
    """The assignments of one event whose person is (still) on the course's staff."""
    staff = Enrolment.objects.filter(
        course=OuterRef("event__seminar__course"), user=OuterRef("user"), role__in=STAFF_ROLES
    )
    return EventTrainer.objects.filter(Exists(staff), event=event_ref)


def _teaches(*, event_ref, course_ref, user_ref) -> Q:
    """The rule: `user_ref` is a trainer of `event_ref` (in course `course_ref`)."""
    on_staff = Exists(Enrolment.objects.filter(course=course_ref, user=user_ref, role__in=STAFF_ROLES))
    assigned = _assigned_staff(event_ref)
    return on_staff & (Exists(assigned.filter(user=user_ref)) | ~Exists(assigned))


def event_trainers_by_event(event_ids) -> dict[int, list]:
    """{event id: [user, ...]} for the given events, by name; each user has `trainer_role`: the assigned
    role's label, or the course role's label for a course trainer standing in. One query."""
    ids = list(event_ids)
    if not ids:
        return {}
    # Candidate pairs are the staff enrolments of each event's course; the rule picks among them.
    enrolments = (
        Enrolment.objects.filter(course__seminars__events__in=ids, role__in=STAFF_ROLES, user__is_active=True)
        .annotate(event_id=F("course__seminars__events"))
        .filter(
            _teaches(event_ref=OuterRef("event_id"), course_ref=OuterRef("course_id"), user_ref=OuterRef("user_id"))
        )
        .annotate(
            assigned_role=Subquery(
                EventTrainer.objects.filter(event=OuterRef("event_id"), user=OuterRef("user_id")).values("role")[:1]
            )
        )
        .select_related("user")
        .order_by("event_id", "user__first_name", "user__last_name", "user__username", "user_id")
    )
    found: dict[int, list] = {event_id: [] for event_id in ids}
    for enrolment in enrolments:
        user = enrolment.user
        if enrolment.assigned_role:
            user.trainer_role = EventTrainer.Role(enrolment.assigned_role).label
        else:
            user.trainer_role = enrolment.get_role_display()
        found.setdefault(enrolment.event_id, []).append(user)
    return found


def event_trainers(event: SeminarEvent) -> list:
    """The trainers of one event (see the module docstring), by name, each with `trainer_role`."""
    return event_trainers_by_event([event.pk])[event.pk]


def is_event_trainer(*, event: SeminarEvent, user) -> bool:
    return any(trainer.pk == user.pk for trainer in event_trainers(event))


def events_taught_by(user) -> QuerySet:
    """The events `user` is a trainer of."""
    if not user.is_authenticated:
        return SeminarEvent.objects.none()
    return SeminarEvent.objects.filter(
        _teaches(event_ref=OuterRef("pk"), course_ref=OuterRef("seminar__course"), user_ref=user.pk)
    )


def sessions_taught_filter(user, *, event_path: str = "event") -> Q:
    """A Session filter: the sessions of events `user` is a trainer of."""
    return Q(
        _teaches(
            event_ref=OuterRef(event_path),
            course_ref=OuterRef(f"{event_path}__seminar__course"),
            user_ref=user.pk,
        )
    )


def assigned_role_annotation(user, *, event_path: str = "event"):
    """The role `user` is assigned on each row's event ("" when standing in as a course trainer)."""
    return Subquery(EventTrainer.objects.filter(event=OuterRef(event_path), user=user.pk).values("role")[:1])


def course_staff(course: Course) -> list:
    """Who can be assigned to the course's events: its trainers and editing trainers, by name."""
    return [
        enrolment.user
        for enrolment in Enrolment.objects.filter(course=course, role__in=STAFF_ROLES, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username", "user_id")
    ]
