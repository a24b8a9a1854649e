"""Requests for a place: the one list of those a user may decide (across every course), the decision
on several at once (from that list or an event's attendees page), and a learner withdrawing theirs.

Who may decide what is seminars.permissions' rule, applied again by the services under the locks.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from seminars.forms.approvals import DecideForm
from seminars.models import SeminarEvent
from seminars.permissions import is_course_trainer, require_view
from seminars.selectors.approvals import decidable_requests, requests_attach_decision
from seminars.selectors.bookings import booking_for_user
from seminars.services.approvals import Outcome, booking_request_withdraw, booking_requests_decide
from seminars.services.bookings import BookingError
from seminars.timezones import viewer_zone

PER_PAGE = 50


@login_required
@require_GET
def approvals(request):
    page = Paginator(decidable_requests(user=request.user), PER_PAGE).get_page(request.GET.get("page"))
    rows = requests_attach_decision(requests=list(page.object_list), user=request.user)
    for booking in rows:
        # A learner's manager may decide without being in the course: no link to a page they cannot open.
        booking.event_url = (
            booking.event.get_absolute_url() if is_course_trainer(request.user, booking.event.seminar.course) else ""
        )
    context = {
        "page_obj": page,
        "requests": rows,
        "decide_form": DecideForm(),
        "viewer_zone": viewer_zone(request.user),
    }
    return render(request, "seminars/approvals/list.html", context)


@login_required
@require_POST
def approvals_decide(request):
    """Approve or decline the ticked requests; back to the page they were ticked on (`event`: an
    attendees page) with what happened to each."""
    back = _back(request)
    form = DecideForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    results = booking_requests_decide(
        booking_ids=form.cleaned_data["booking"],
        actor=request.user,
        decision=form.cleaned_data["decision"],
        reason=form.cleaned_data["reason"],
    )
    _report(request, results)
    return redirect(back)


@login_required
@require_POST
def booking_withdraw(request, pk):
    booking = booking_for_user(booking_id=pk)
    require_view(request.user, booking.event.seminar.course)
    try:
        booking_request_withdraw(booking=booking, actor=request.user)
    except BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your request has been withdrawn."))
    return redirect("seminars:event", pk=booking.event_id)


def _back(request) -> str:
    value = request.POST.get("event", "")
    if value.isdigit() and len(value) < 12 and SeminarEvent.objects.filter(pk=int(value)).exists():
        return reverse("seminars:event_attendees", args=[int(value)])
    return reverse("seminars:approvals")


def _report(request, results) -> None:
    counts = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
        if result.outcome == Outcome.REFUSED:
            name = result.booking.user.get_full_name() or result.booking.user.get_username()
            messages.error(request, _("%(name)s: %(reason)s") % {"name": name, "reason": result.message})
    texts = {
        Outcome.BOOKED: lambda n: ngettext(
            "%(count)d request approved and booked.", "%(count)d requests approved and booked.", n
        ),
        Outcome.WAITLISTED: lambda n: ngettext(
            "%(count)d request approved and waitlisted (the event is full).",
            "%(count)d requests approved and waitlisted (the event is full).",
            n,
        ),
        Outcome.MANAGER_APPROVED: lambda n: ngettext(
            "%(count)d request approved; it now awaits a site admin.",
            "%(count)d requests approved; they now await a site admin.",
            n,
        ),
        Outcome.DECLINED: lambda n: ngettext(
            "%(count)d request declined; the learner is told.", "%(count)d requests declined; the learners are told.", n
        ),
    }
    for outcome, text in texts.items():
        if counts.get(outcome):
            messages.success(request, text(counts[outcome]) % {"count": counts[outcome]})
    if not results:
        messages.error(request, _("None of the ticked requests exists any more."))


urlpatterns = [
    path("approvals/", approvals, name="approvals"),
    path("approvals/decide/", approvals_decide, name="approvals_decide"),
    path("bookings/<int:pk>/withdraw/", booking_withdraw, name="booking_withdraw"),
]
