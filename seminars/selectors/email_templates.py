"""The email templates in effect: a seminar's copy, else the site's, else the shipped default."""

import logging
from dataclasses import dataclass

from django.db.models import Q

from seminars.email_types import EMAIL_TYPES, EmailType, TemplateError, default_body, template_placeholders
from seminars.models import EmailTemplate, SeminarEmailOff, SeminarEvent

log = logging.getLogger(__name__)


class Source:
    SEMINAR = "seminar"
    SITE = "site"
    DEFAULT = "default"


@dataclass(frozen=True)
class TemplateText:
    subject: str
    body: str
    source: str  # Source.*


def _readable(row: EmailTemplate) -> bool:
    # A row written around the validation (a data migration, raw SQL) must not stop the email.
    try:
        template_placeholders(row.subject)
        template_placeholders(row.body)
    except TemplateError:
        log.error("Email template %s cannot be read; the next one in line is used.", row.pk)
        return False
    return True


def email_template_in_effect(*, kind: EmailType, seminar_id=None) -> TemplateText:
    """The subject and body `kind` is sent with for a seminar (None: site-wide). One query."""
    wanted = Q(seminar__isnull=True)
    if seminar_id is not None and kind.per_seminar:
        wanted |= Q(seminar_id=seminar_id)
    rows = {row.seminar_id: row for row in EmailTemplate.objects.filter(wanted, email_type=kind.key)}
    in_line = [(rows.get(None), Source.SITE)]
    if seminar_id is not None and kind.per_seminar:
        in_line.insert(0, (rows.get(seminar_id), Source.SEMINAR))
    for row, source in in_line:
        if row is not None and _readable(row):
            return TemplateText(row.subject, row.body, source)
    return TemplateText(str(kind.subject), default_body(kind), Source.DEFAULT)


def email_switched_off(*, kind: EmailType, seminar_id) -> bool:
    """Whether the seminar does not send `kind` (only types that may be switched off ever are)."""
    if seminar_id is None or not (kind.optional and kind.per_seminar):
        return False
    return SeminarEmailOff.objects.filter(seminar_id=seminar_id, email_type=kind.key).exists()


@dataclass(frozen=True)
class TemplateLine:
    kind: EmailType
    row: EmailTemplate | None  # the site's (site list) or the seminar's (seminar list) own text
    site_customised: bool
    switched_off: bool


def site_email_templates() -> list[TemplateLine]:
    """Every email type with the site's own text where it has one. One query."""
    rows = {row.email_type: row for row in EmailTemplate.objects.filter(seminar=None).select_related("updated_by")}
    return [TemplateLine(kind, rows.get(key), key in rows, False) for key, kind in EMAIL_TYPES.items()]


def seminar_email_templates(*, seminar) -> list[TemplateLine]:
    """The email types a seminar may have its own copy of, with its copies and the types it switched off.
    Three queries, whatever the number of types."""
    own = {row.email_type: row for row in EmailTemplate.objects.filter(seminar=seminar).select_related("updated_by")}
    site = set(EmailTemplate.objects.filter(seminar=None).values_list("email_type", flat=True))
    off = set(SeminarEmailOff.objects.filter(seminar=seminar).values_list("email_type", flat=True))
    return [
        TemplateLine(kind, own.get(key), key in site, key in off and kind.optional)
        for key, kind in EMAIL_TYPES.items()
        if kind.per_seminar
    ]


PREVIEW_EVENTS = 100


def preview_events(*, seminar=None):
    """Events to preview an email with: the newest first (of one seminar, or of the site)."""
    events = SeminarEvent.objects.order_by("-pk")
    if seminar is not None:
        events = events.filter(seminar=seminar)
    # Not sliced itself: the form's choice field looks the chosen event up in it.
    newest = events.values("pk")[:PREVIEW_EVENTS]
    return SeminarEvent.objects.filter(pk__in=newest).select_related("seminar").order_by("-pk")
