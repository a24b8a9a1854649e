"""Email templates: site admins edit the site's, staff who may edit a seminar keep its own copies and switches.

Each editor previews the text being edited with a real event (nothing is sent or saved) and
resets to what applies without it (the shipped default, or the site's template for a seminar).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from seminars import permissions
from seminars.email_messages import email_preview
from seminars.email_types import EMAIL_TYPES, PLACEHOLDERS, EmailType
from seminars.forms.email_templates import EmailTemplateForm
from seminars.models import Booking, EmailTemplate, Seminar
from seminars.selectors.email_templates import (
    email_template_in_effect,
    preview_events,
    seminar_email_templates,
    site_email_templates,
)
from seminars.services.email_templates import email_template_reset, email_template_save, seminar_email_switch


def _kind(key, *, seminar=None) -> EmailType:
    kind = EMAIL_TYPES.get(key)
    if kind is None or (seminar is not None and not kind.per_seminar):
        raise Http404("No such email.")
    return kind


def _seminar(request, pk) -> Seminar:
    seminar = get_object_or_404(Seminar.objects.select_related("course"), pk=pk)
    permissions.require_edit(request.user, seminar.course)
    return seminar


def _preview_recipient(event, viewer):
    """One of the event's learners holding a seat, else the viewer: someone real to fill in the names."""
    booking = (
        Booking.objects.filter(event=event, state__in=Booking.SEAT_STATES).select_related("user").order_by("pk").first()
    )
    return booking.user if booking else viewer


def _editor(request, *, kind, seminar, done_url):
    """The edit page (site or seminar): save, or preview the text as typed (never saved, never sent)."""
    in_effect = email_template_in_effect(kind=kind, seminar_id=seminar.pk if seminar else None)
    own = EmailTemplate.objects.filter(email_type=kind.key, seminar=seminar).first()
    form = EmailTemplateForm(
        request.POST if request.method == "POST" else None,
        kind=kind,
        events=preview_events(seminar=seminar),
        initial={"subject": in_effect.subject, "body": in_effect.body},
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("action") == "save":
            try:
                email_template_save(
                    kind=kind, seminar=seminar, subject=data["subject"], body=data["body"], actor=request.user
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("“%(name)s” saved.") % {"name": kind.name})
                return redirect(done_url)
        elif data["event"] is None:
            form.add_error("event", _("Choose an event to preview with."))
        else:
            event = data["event"]
            preview = email_preview(
                kind=kind,
                subject=data["subject"],
                body=data["body"],
                event=event,
                recipient=_preview_recipient(event, request.user),
                actor=request.user,
            )
    return render(
        request,
        "seminars/email_templates/edit.html",
        {
            "kind": kind,
            "seminar": seminar,
            "form": form,
            "preview": preview,
            "own": own,
            "in_effect": in_effect,
            "placeholders": [PLACEHOLDERS[name] for name in kind.placeholders],
            "done_url": done_url,
            "reset_url": reverse("seminars:seminar_email_reset", args=[seminar.pk, kind.key])
            if seminar
            else reverse("seminars:email_template_reset", args=[kind.key]),
        },
    )


def _reset(request, *, kind, seminar, done_url):
    if request.method == "POST":
        if email_template_reset(kind=kind, seminar=seminar, actor=request.user):
            messages.success(request, _("“%(name)s” is back to its default.") % {"name": kind.name})
        return redirect(done_url)
    own = EmailTemplate.objects.filter(email_type=kind.key, seminar=seminar).first()
    return render(
        request,
        "seminars/email_templates/confirm_reset.html",
        {"kind": kind, "seminar": seminar, "own": own, "done_url": done_url},
    )


# ---- The site's templates (site admins) -------------------------------------------------------


@login_required
def email_templates(request):
    permissions.require_site_admin(request.user)
    return render(request, "seminars/email_templates/list.html", {"lines": site_email_templates()})


@login_required
def email_template_edit(request, key):
    permissions.require_site_admin(request.user)
    return _editor(request, kind=_kind(key), seminar=None, done_url=reverse("seminars:email_templates"))


@login_required
def email_template_reset_view(request, key):
    permissions.require_site_admin(request.user)
    return _reset(request, kind=_kind(key), seminar=None, done_url=reverse("seminars:email_templates"))


# ---- A seminar's copies and switches (staff who may edit the seminar) ---------------------------


@login_required
def seminar_emails(request, pk):
    seminar = _seminar(request, pk)
    return render(
        request,
        "seminars/email_templates/seminar_list.html",
        {"seminar": seminar, "course": seminar.course, "lines": seminar_email_templates(seminar=seminar)},
    )


@login_required
def seminar_email_edit(request, pk, key):
    seminar = _seminar(request, pk)
    kind = _kind(key, seminar=seminar)
    return _editor(request, kind=kind, seminar=seminar, done_url=reverse("seminars:seminar_emails", args=[seminar.pk]))


@login_required
def seminar_email_reset(request, pk, key):
    seminar = _seminar(request, pk)
    kind = _kind(key, seminar=seminar)
    return _reset(request, kind=kind, seminar=seminar, done_url=reverse("seminars:seminar_emails", args=[seminar.pk]))


@login_required
@require_POST
def seminar_email_switch_view(request, pk, key):
    seminar = _seminar(request, pk)
    kind = _kind(key, seminar=seminar)
    if not kind.optional:
        messages.error(request, _("“%(name)s” cannot be switched off.") % {"name": kind.name})
    else:
        on = request.POST.get("on") == "1"
        seminar_email_switch(kind=kind, seminar=seminar, on=on, actor=request.user)
        if on:
            messages.success(request, _("“%(name)s” is sent again in this seminar.") % {"name": kind.name})
        else:
            messages.success(request, _("“%(name)s” is no longer sent in this seminar.") % {"name": kind.name})
    return redirect("seminars:seminar_emails", pk=seminar.pk)


urlpatterns = [
    path("email-templates/", email_templates, name="email_templates"),
    path("email-templates/<slug:key>/", email_template_edit, name="email_template_edit"),
    path("email-templates/<slug:key>/reset/", email_template_reset_view, name="email_template_reset"),
    path("seminars/<int:pk>/emails/", seminar_emails, name="seminar_emails"),
    path("seminars/<int:pk>/emails/<slug:key>/", seminar_email_edit, name="seminar_email_edit"),
    path("seminars/<int:pk>/emails/<slug:key>/reset/", seminar_email_reset, name="seminar_email_reset"),
    path("seminars/<int:pk>/emails/<slug:key>/switch/", seminar_email_switch_view, name="seminar_email_switch"),
]
