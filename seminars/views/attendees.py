"""The attendees page of an event (trainers and site admins): add one, add a list after a preview,
remove and move with a reason. The rules are the services' (seminars.services.attendees)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from lms.permissions import is_site_admin
from seminars.forms.approvals import DecideForm
from seminars.forms.attendees import BulkAddForm, MoveForm, ReasonForm
from seminars.models import Booking, SeminarEvent
from seminars.permissions import can_edit_course, require_trainer
from seminars.selectors.approvals import event_requests
from seminars.selectors.bookings import booking_for_user, event_for_page
from seminars.services.attendees import (
    Outcome,
    attendee_candidates,
    attendee_move,
    attendee_remove,
    attendees_add,
    attendees_preview,
    identifiers_parse,
)
from seminars.services.bookings import ACTIVE_STATES, BookingError


@login_required
@require_GET
def event_attendees(request, pk):
    event = event_for_page(event_id=pk)
    require_trainer(request.user, event.seminar.course)
    return render(request, "seminars/attendees/page.html", _page_context(request, event, _bulk_form(request, event)))


@login_required
@require_POST
def attendees_preview_view(request, pk):
    event = event_for_page(event_id=pk)
    require_trainer(request.user, event.seminar.course)
    form = _bulk_form(request, event, data=request.POST, files=request.FILES)
    if form.is_valid():
        options = {
            "enrol": form.cleaned_data.get("enrol", False),
            "over_capacity": form.cleaned_data.get("over_capacity", False),
        }
        try:
            lines = identifiers_parse(form.cleaned_data["content"])
            preview = attendees_preview(event=event, lines=lines, actor=request.user, **options)
        except BookingError as error:
            form.add_error(None, str(error))
        else:
            context = {**_frame(event), "preview": preview, "options": options}
            return render(request, "seminars/attendees/preview.html", context)
    return render(request, "seminars/attendees/page.html", _page_context(request, event, form), status=400)


@login_required
@require_POST
def attendees_add_view(request, pk):
    """Add the people the preview (or the add-one search) named: `add` is "user id:outcome" or "user id"."""
    event = event_for_page(event_id=pk)
    require_trainer(request.user, event.seminar.course)
    expected = {}
    for value in request.POST.getlist("add")[:500]:
        user_id, _sep, outcome = value.partition(":")
        if not user_id.isdigit() or len(user_id) > 12 or outcome not in ("", Outcome.BOOK, Outcome.WAITLIST):
            messages.error(request, _("The list to add was not understood; nothing was added."))
            return redirect("seminars:event_attendees", pk=event.pk)
        expected[int(user_id)] = outcome
    users = list(get_user_model().objects.filter(pk__in=expected).order_by("pk"))
    if not users or len(users) != len(expected):
        messages.error(request, _("Choose who to add; nothing was added."))
        return redirect("seminars:event_attendees", pk=event.pk)
    try:
        preview = attendees_add(
            event=event,
            users=users,
            actor=request.user,
            expected=expected if all(expected.values()) else None,
            enrol=request.POST.get("enrol") == "on",
            over_capacity=request.POST.get("over_capacity") == "on",
        )
    except BookingError as error:
        messages.error(request, str(error))
    else:
        booked, waitlisted = len(preview.of(Outcome.BOOK)), len(preview.of(Outcome.WAITLIST))
        if booked:
            messages.success(
                request,
                ngettext("%(count)d learner booked.", "%(count)d learners booked.", booked) % {"count": booked},
            )
        if waitlisted:
            messages.success(
                request,
                ngettext("%(count)d learner waitlisted.", "%(count)d learners waitlisted.", waitlisted)
                % {"count": waitlisted},
            )
    return redirect("seminars:event_attendees", pk=event.pk)


@login_required
@require_POST
def attendee_remove_view(request, pk):
    booking = booking_for_user(booking_id=pk)
    require_trainer(request.user, booking.event.seminar.course)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for removing %(name)s; the learner is told.") % _name(booking))
        return redirect("seminars:event_attendees", pk=booking.event_id)
    try:
        attendee_remove(booking=booking, actor=request.user, reason=form.cleaned_data["reason"])
    except BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(name)s was removed and is told why.") % _name(booking))
    return redirect("seminars:event_attendees", pk=booking.event_id)


@login_required
@require_POST
def attendee_move_view(request, pk):
    booking = booking_for_user(booking_id=pk)
    require_trainer(request.user, booking.event.seminar.course)
    form = MoveForm(request.POST, events=_other_events(booking.event), may_overbook=is_site_admin(request.user))
    if not form.is_valid():
        messages.error(request, _("Choose another event of this seminar and give a reason; nothing was moved."))
        return redirect("seminars:event_attendees", pk=booking.event_id)
    target = form.cleaned_data["to_event"]
    try:
        attendee_move(
            booking=booking,
            to_event=target,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            over_capacity=form.cleaned_data.get("over_capacity", False),
        )
    except BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("%(name)s was moved to %(event)s and is told why.") % {**_name(booking), "event": target.title}
        )
    return redirect("seminars:event_attendees", pk=booking.event_id)


def _bulk_form(request, event, **kwargs):
    course = event.seminar.course
    return BulkAddForm(
        **kwargs, may_enrol=can_edit_course(request.user, course), may_overbook=is_site_admin(request.user)
    )


def _frame(event):
    return {"event": event, "seminar": event.seminar, "course": event.seminar.course}


def _page_context(request, event, form):
    query = request.GET.get("q", "")[:100]
    bookings = list(
        Booking.objects.filter(event=event, state__in=ACTIVE_STATES).select_related("user").order_by("created_at", "pk")
    )
    return {
        **_frame(event),
        "form": form,
        "query": query,
        "candidates": attendee_candidates(
            event=event, query=query, with_unenrolled=can_edit_course(request.user, event.seminar.course)
        ),
        "booked": [b for b in bookings if b.state == Booking.State.BOOKED],
        "waitlisted": [b for b in bookings if b.state == Booking.State.WAITLISTED],
        "other_events": list(_other_events(event)),
        "may_overbook": is_site_admin(request.user),
        "requests": event_requests(event=event, user=request.user),
        "decide_form": DecideForm(),
    }


def _other_events(event):
    return SeminarEvent.objects.filter(seminar_id=event.seminar_id, cancelled=False).exclude(pk=event.pk).order_by("pk")


def _name(booking):
    return {"name": booking.user.get_full_name() or booking.user.get_username()}


urlpatterns = [
    path("events/<int:pk>/attendees/", event_attendees, name="event_attendees"),
    path("events/<int:pk>/attendees/preview/", attendees_preview_view, name="attendees_preview"),
    path("events/<int:pk>/attendees/add/", attendees_add_view, name="attendees_add"),
    path("bookings/<int:pk>/remove/", attendee_remove_view, name="attendee_remove"),
    path("bookings/<int:pk>/move/", attendee_move_view, name="attendee_move"),
]
