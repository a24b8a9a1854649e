"""Courses, enrolments and seminar activities: every write goes through here."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from seminars.meetings import course_meetings_remove, seminar_meetings_remove
from seminars.models import Course, Enrolment, Seminar

COURSE_FIELDS = ("name", "short_name", "summary", "allow_self_enrolment")
SEMINAR_FIELDS = ("name", "description", "attended_percent", "reminder_offsets", "approval_type")


@transaction.atomic
def course_create(
    *, actor, name: str, short_name: str = "", summary: str = "", allow_self_enrolment: bool = False
) -> Course:
    """Create a course ("Add a new course"). The caller has checked that `actor` is a site admin."""
    course = Course(name=name, short_name=short_name, summary=summary, allow_self_enrolment=allow_self_enrolment)
    course.full_clean()
    course.save()
    return course


def _fields_update(instance, allowed: tuple[str, ...], fields: dict):
    """Set the given editable fields, validate, and save only them."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown fields for {type(instance).__name__}: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save(update_fields=list(fields) or None)
    return instance


@transaction.atomic
def course_update(*, course: Course, actor, **fields) -> Course:
    return _fields_update(course, COURSE_FIELDS, fields)


@transaction.atomic
def course_delete(*, course: Course, actor) -> None:
    """Delete a course with its enrolments, seminars, events, sessions, ad-hoc rooms and bookings.

    Its virtual meetings are marked for deletion in the same transaction; the
    remote deletes run after commit.
    """
    course_meetings_remove(course=course)
    course.delete()


@transaction.atomic
def enrolment_create(*, course: Course, user, role: str, actor) -> Enrolment:
    """Enrol `user` in `course` with `role`. Raises ValidationError if they already are."""
    if role not in Enrolment.Role.values:
        raise ValidationError({"role": _unknown_role(role)})
    already = _("%(username)s is already enrolled in this course.") % {"username": user.get_username()}
    if Enrolment.objects.filter(course=course, user=user).exists():
        raise ValidationError(already)
    try:
        with transaction.atomic():
            return Enrolment.objects.create(course=course, user=user, role=role)
    except IntegrityError as exc:  # a concurrent enrolment of the same person won the race
        raise ValidationError(already) from exc


def _unknown_role(role) -> str:
    return _("Unknown role %(role)s.") % {"role": repr(role)}


@transaction.atomic
def enrolment_set_role(*, enrolment: Enrolment, role: str, actor) -> Enrolment:
    if role not in Enrolment.Role.values:
        raise ValidationError({"role": _unknown_role(role)})
    enrolment.role = role
    enrolment.save(update_fields=["role"])
    return enrolment


@transaction.atomic
def enrolment_delete(*, enrolment: Enrolment, actor) -> None:
    """Unenrol. Bookings stay (their history is kept); the person no longer sees the course."""
    enrolment.delete()


@transaction.atomic
def self_enrol(*, course: Course, user) -> Enrolment:
    """A learner enrols themselves in a course that allows it."""
    if not course.allow_self_enrolment:
        raise PermissionDenied(_("This course does not allow self enrolment."))
    enrolment, _created = Enrolment.objects.get_or_create(
        course=course, user=user, defaults={"role": Enrolment.Role.LEARNER}
    )
    return enrolment


@transaction.atomic
def seminar_create(
    *,
    course: Course,
    actor,
    name: str,
    description: str = "",
    attended_percent: int | None = None,
    reminder_offsets: str = "",
    approval_type: str = Seminar.ApprovalType.NONE,
) -> Seminar:
    """Add a seminar activity to a course."""
    seminar = Seminar(
        course=course,
        name=name,
        description=description,
        attended_percent=attended_percent,
        reminder_offsets=reminder_offsets,
        approval_type=approval_type,
    )
    seminar.full_clean()
    seminar.save()
    return seminar


@transaction.atomic
def seminar_update(*, seminar: Seminar, actor, **fields) -> Seminar:
    return _fields_update(seminar, SEMINAR_FIELDS, fields)


@transaction.atomic
def seminar_delete(*, seminar: Seminar, actor) -> None:
    """Delete a seminar activity with its events, sessions, ad-hoc rooms and bookings (and their meetings)."""
    seminar_meetings_remove(seminar=seminar)
    seminar.delete()
