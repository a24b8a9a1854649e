"""Site admins edit the email templates; staff who may edit a seminar keep its own copies and switches.

The views check who may (seminars.permissions); these check what may be saved: a template that would
not render is refused (seminars.email_types.template_errors), with a message per field.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from seminars.email_types import EmailType, template_errors
from seminars.models import EmailTemplate, SeminarEmailOff


def email_template_save(*, kind: EmailType, seminar=None, subject: str, body: str, actor) -> EmailTemplate:
    """Save the site's template of `kind` (or `seminar`'s own copy). ValidationError if it would not render."""
    if seminar is not None and not kind.per_seminar:
        raise PermissionDenied(_("This email is site-wide: a seminar cannot have its own."))
    errors = template_errors(kind, subject=subject, body=body)
    if errors:
        raise ValidationError(errors)
    values = {"subject": subject, "body": body, "updated_by": actor, "updated_at": timezone.now()}
    # Two first saves at once: update_or_create's insert of the second fails on the unique
    # constraint, and it then updates the row the first made (test_email_templates_race).
    row, _created = EmailTemplate.objects.update_or_create(email_type=kind.key, seminar=seminar, defaults=values)
    return row


def email_template_reset(*, kind: EmailType, seminar=None, actor) -> bool:
    """Back to the shipped default (site) or to the site's template (seminar): delete the own text.
    Returns whether there was one."""
    deleted, _rows = EmailTemplate.objects.filter(email_type=kind.key, seminar=seminar).delete()
    return bool(deleted)


def seminar_email_switch(*, kind: EmailType, seminar, on: bool, actor) -> None:
    """Switch `kind` on or off for `seminar`; only the types a seminar may do without can be switched off."""
    if not on and not (kind.optional and kind.per_seminar):
        raise PermissionDenied(_("This email cannot be switched off."))
    if on:
        SeminarEmailOff.objects.filter(seminar=seminar, email_type=kind.key).delete()
        return
    SeminarEmailOff.objects.get_or_create(
        seminar=seminar, email_type=kind.key, defaults={"switched_off_by": actor, "switched_off_at": timezone.now()}
    )
