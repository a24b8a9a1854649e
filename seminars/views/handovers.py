"""Room handovers (site admins): whose rooms need a new owner, handing one room or every room of a trainer to
another host or owner, and each handover's record with how far its meetings have moved."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from seminars.forms.handovers import HOST, HandoverForm
from seminars.meetings import account_users_search
from seminars.models import RoomHandover
from seminars.permissions import require_site_admin
from seminars.selectors.events import room_with_event
from seminars.selectors.handovers import (
    Placement,
    handover_progress,
    handovers_recent,
    owner_rooms,
    owners_at_risk,
    rooms_sessions_to_start,
)
from seminars.services.handovers import HandoverError, handover_target_name, rooms_hand_over
from seminars.timezones import viewer_zone

PER_PAGE = 25
HOSTS_SHOWN = 50
# The progress page reloads itself this often while meetings are still moving.
REFRESH_SECONDS = 5


@login_required
@require_GET
def handovers(request):
    require_site_admin(request.user)
    page = Paginator(handovers_recent(), PER_PAGE).get_page(request.GET.get("page"))
    for handover in page.object_list:
        handover.target_name = handover_target_name(handover)
    context = {
        "at_risk": owners_at_risk(),
        "page_obj": page,
        "viewer_zone": viewer_zone(request.user),
    }
    return render(request, "seminars/handovers/list.html", context)


@login_required
@require_GET
def handover_detail(request, pk):
    require_site_admin(request.user)
    handover = get_object_or_404(
        RoomHandover.objects.select_related("created_by", "from_owner", "to_owner").prefetch_related(
            "rooms__from_owner"
        ),
        pk=pk,
    )
    progress = handover_progress(handover=handover)
    context = {
        "handover": handover,
        "target_name": handover_target_name(handover),
        "progress": progress,
        "Placement": Placement,
        "moved": progress.counts.get(Placement.MOVED, 0),
        "refresh_seconds": 0 if progress.done else REFRESH_SECONDS,
        "viewer_zone": viewer_zone(request.user),
    }
    return render(request, "seminars/handovers/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def owner_handover(request, user_id):
    """Every room of a trainer (with sessions still to start) of one provider, handed over at once."""
    require_site_admin(request.user)
    owner = get_object_or_404(get_user_model(), pk=user_id)
    rooms = owner_rooms(owner_id=owner.pk)
    providers = sorted({room.virtual_kind for room in rooms})
    provider_id = request.GET.get("provider") or (providers[0] if providers else "")
    if provider_id not in providers:
        provider_id = providers[0] if providers else ""
    rooms = [room for room in rooms if room.virtual_kind == provider_id]
    title = _("Hand over the rooms of %(name)s") % {"name": owner.get_full_name() or owner.get_username()}
    return _handover_page(
        request, rooms=rooms, provider_id=provider_id, title=title, from_owner=owner, providers=providers
    )


@login_required
@require_http_methods(["GET", "POST"])
def room_handover(request, pk):
    require_site_admin(request.user)
    room = room_with_event(pk)
    if not room.is_provider_backed:
        raise Http404(_("This room has no meetings of a provider to hand over."))
    title = _("Hand over %(room)s") % {"room": room.name}
    return _handover_page(request, rooms=[room], provider_id=room.virtual_kind, title=title, room=room)


def _handover_page(request, *, rooms, provider_id, title, from_owner=None, room=None, providers=()):
    from virtualmeeting.registry import get_provider

    provider = None
    if provider_id:
        try:
            provider = get_provider(provider_id)
        except LookupError:
            provider = None
    sessions = rooms_sessions_to_start(room_ids=[r.pk for r in rooms])
    form = None
    host_query = (request.GET.get("host_q") or "")[:100]
    hosts, hosts_error = None, ""
    if provider is not None and rooms:
        hosts, hosts_error = _hosts(provider, host_query)
        form = HandoverForm(
            request.POST if request.method == "POST" else None,
            # Whoever searched the account's users is choosing a host.
            initial={"target": HOST} if host_query and hosts is not None else None,
            provider_id=provider_id,
            service=provider.service,
            hosts=hosts,
            hosts_error=hosts_error,
        )
        if request.method == "POST" and form.is_valid():
            try:
                handover = rooms_hand_over(
                    by=request.user,
                    rooms=rooms,
                    reason=form.cleaned_data["reason"],
                    from_owner=from_owner,
                    **form.target_kwargs(),
                )
            except HandoverError as exc:
                for field, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                count = handover.rooms.count()
                messages.success(
                    request,
                    ngettext(
                        "%(count)d room handed over: its meetings are being moved.",
                        "%(count)d rooms handed over: their meetings are being moved.",
                        count,
                    )
                    % {"count": count},
                )
                return redirect(handover)
    elif request.method == "POST":
        messages.error(request, _("There is no room with sessions still to start to hand over."))
    context = {
        "title": title,
        "rooms": rooms,
        "room": room,
        "owner": from_owner,
        "providers": providers,
        "provider_id": provider_id,
        "service": provider.service if provider else "",
        "sessions": sessions,
        "form": form,
        "host_query": host_query,
        "hosts_error": hosts_error,
        "hosts_shown": HOSTS_SHOWN,
        "hosts_count": len(hosts or []),
        "viewer_zone": viewer_zone(request.user),
    }
    return render(request, "seminars/handovers/form.html", context)


def _hosts(provider, query: str):
    """(id, label) of the site account's active users matching `query` (None when the account is not set up),
    and why they could not be listed."""
    from virtualmeeting.errors import ProviderError

    if not provider.account_is_configured():
        return None, ""
    try:
        users = account_users_search(provider_id=provider.id, query=query, limit=HOSTS_SHOWN)
    except ProviderError as exc:
        return [], exc.message or str(exc)
    choices = []
    for user in users:
        label = f"{user.name} ({user.email})" if user.name else user.email
        if user.licence:
            label = f"{label}: {user.licence}"
        choices.append((user.remote_id, label))
    return choices, ""


urlpatterns = [
    path("handovers/", handovers, name="handovers"),
    path("handovers/<int:pk>/", handover_detail, name="handover"),
    path("handovers/owner/<int:user_id>/", owner_handover, name="owner_handover"),
    path("rooms/<int:pk>/handover/", room_handover, name="room_handover"),
]
