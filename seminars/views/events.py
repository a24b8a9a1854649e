"""The event editor (add/edit, cancel, delete), the room page, site-room management,
and the JSON list of site rooms free at a session's time ("Select room" > "Choose")."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from seminars.forms.bookings import CancellationReasonForm
from seminars.forms.events import (
    EventForm,
    LocalDateTimeField,
    SessionFormSet,
    SiteRoomForm,
    session_initial,
)
from seminars.models import Room, Seminar
from seminars.permissions import (
    can_edit_course,
    is_site_admin,
    require_edit,
    require_event_editor,
    require_site_admin,
    require_view,
)
from seminars.selectors import events as event_selectors
from seminars.selectors.events import (
    event_booking_count,
    event_cancelled_signup_count,
    event_sessions_for_edit,
    event_with_course,
    room_sessions_for_viewer,
    room_with_event,
    site_rooms_with_use,
)
from seminars.selectors.trainers import course_staff
from seminars.services.events import (
    event_cancel,
    event_create_once,
    event_delete,
    event_save,
    event_sessions_errors,
    local_to_utc,
)
from seminars.services.rooms import (
    ALTERNATIVE_HOSTS_MAX,
    BAD_URL,
    CONNECT_FIRST,
    site_room_delete,
    site_room_save,
    site_room_upcoming_sessions,
)
from seminars.timezones import is_valid_zone, viewer_zone, zone_names
from seminars.validators import ROOM_CAPACITY_MESSAGE
from seminars.views.virtual import room_card_context
from virtualmeeting.selectors import connect_texts

SESSION_PREFIX = "sessions"


# --- Event editor ------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def event_add(request, seminar_pk):
    seminar = get_object_or_404(Seminar.objects.select_related("course"), pk=seminar_pk)
    require_edit(request.user, seminar.course)
    return _event_editor(request, seminar=seminar, event=None)


@login_required
@require_http_methods(["GET", "POST"])
def event_edit(request, pk):
    event = event_with_course(pk)
    require_edit(request.user, event.seminar.course)
    if event.cancelled:
        messages.error(request, _("This event is cancelled: it can no longer be changed."))
        return redirect(event.get_absolute_url())
    return _event_editor(request, seminar=event.seminar, event=event)


def _event_editor(request, *, seminar, event):
    zone = viewer_zone(request.user)
    form_kwargs = {"default_zone": zone}
    staff = course_staff(seminar.course)
    if request.method == "POST":
        form = EventForm(request.POST, zone=zone, staff=staff)
        formset = SessionFormSet(request.POST, prefix=SESSION_PREFIX, form_kwargs=form_kwargs)
        event_ok, sessions_ok = form.is_valid(), formset.is_valid()  # both, to show every problem
        if event_ok and sessions_ok:
            token = form.cleaned_data.pop("form_token", None)
            data = {**form.cleaned_data, "sessions": _session_rows(formset), "trainers": form.chosen_trainers()}
            try:
                if event is None and token is not None:
                    saved, created = event_create_once(
                        seminar=seminar, data=data, actor=request.user, creation_token=token
                    )
                else:
                    saved, created = (
                        event_save(event_or_none=event, seminar=seminar, data=data, actor=request.user),
                        True,
                    )
            except ValidationError as exc:
                _show_errors(exc, form, formset)
            else:
                if created:
                    messages.success(request, _("Saved %(title)s.") % {"title": saved.title})
                else:
                    messages.info(request, _("%(title)s was already saved from this form.") % {"title": saved.title})
                return redirect(saved.get_absolute_url())
        else:
            _show_row_clashes(formset)
    elif event is None:
        form = EventForm(initial={"form_token": uuid.uuid4()}, zone=zone, staff=staff)
        formset = SessionFormSet(prefix=SESSION_PREFIX, form_kwargs=form_kwargs)
    else:
        form = EventForm(initial=EventForm.initial_for(event, zone), zone=zone, staff=staff)
        initial = [session_initial(s) for s in event_sessions_for_edit(event)]
        formset = SessionFormSet(initial=initial, prefix=SESSION_PREFIX, form_kwargs=form_kwargs)
    return render(
        request,
        "seminars/events/form.html",
        {
            "seminar": seminar,
            "course": seminar.course,
            "event": event,
            "form": form,
            "formset": formset,
            "zone_names": zone_names(),
            "link_options": _link_options(request.user),
            "booked": event_booking_count(event) if event else 0,
            "vm_connect_texts": connect_texts(),
            "editor_texts": _editor_texts(),
            "room_texts": {
                "capacity": _(
                    "Room capacity %(wanted)s is more than the connected account's meeting limit (%(limit)s). "
                    "Lower the capacity or use an account with a larger meeting licence."
                ),
                "hostCapacity": _(
                    "Room capacity %(wanted)s is more than this host's meeting limit (%(limit)s). "
                    "Lower the capacity or choose a host with a larger meeting licence."
                ),
                "hostLoading": _("Looking for users…"),
                "hostNone": _("No active user of the site's account matches."),
                "hostYou": _("(you)"),
                "hostChoose": _("Choose a host for this room."),
                "hostLine": _("%(name)s (%(email)s) · %(licence)s"),
                "alternativeAdd": _("Add %(name)s as an alternative host"),
                "alternativeRemove": _("Remove %(name)s from the alternative hosts"),
                "alternativeAddButton": _("Add"),
                "alternativeRemoveButton": _("Remove"),
                "alternativeFull": _("At most %(limit)s alternative hosts: remove one to add another."),
                "alternativeNone": _("No alternative hosts."),
                "alternativeMax": ALTERNATIVE_HOSTS_MAX,
            },
            "alternative_hosts_max": ALTERNATIVE_HOSTS_MAX,
        },
    )


def _editor_texts() -> dict:
    """The words of the editor's script (static/js/event_form.js), for the page's json_script "event-form-texts"."""
    return {
        "noRoom": _("No room"),
        "newAdhocRoom": _("new ad-hoc room"),
        "adhocRoom": _("ad-hoc room"),
        "roomChoice": _("%(name)s (capacity %(capacity)s)"),
        "enterTimes": _("Enter the session's start, finish and time zone to see which rooms are free."),
        "loading": _("Loading rooms…"),
        "loadFailed": _("The rooms could not be loaded."),
        "loadFailedTryAgain": _("The rooms could not be loaded. Try again."),
        "noneFree": _("No site room is free at this time. Create an ad-hoc room instead."),
        "chooseRoom": _("Choose a room, or create one in the Create tab."),
        "enterName": _("Enter the room's name."),
        "roomCapacity": str(ROOM_CAPACITY_MESSAGE),
        "badUrl": str(BAD_URL),
        "connectFirst": str(CONNECT_FIRST),
        "connectUnavailable": _("Connecting an account is not available on this page. Reload the page and try again."),
    }


def _session_rows(formset) -> list[dict]:
    rows = []
    for index, session_form in enumerate(formset.forms):
        if _marked_deleted(session_form):
            continue
        if session_form.empty_permitted and not session_form.has_changed():
            continue  # a blank row added in the browser and never filled in
        rows.append(session_form.as_service_row(index))
    return rows


def _show_row_clashes(formset) -> None:
    """With some fields invalid, still say which of the well-formed session rows clash."""
    rows = [
        session_form.as_service_row(index)
        for index, session_form in enumerate(formset.forms)
        if not _marked_deleted(session_form) and _well_formed(session_form)
    ]
    for key, messages_ in event_sessions_errors(rows).items():
        _, row, field_name = key.split(".", 2)
        formset.forms[int(row)].add_error(None if field_name == "__all__" else field_name, messages_)


def _marked_deleted(session_form) -> bool:
    """The row's "Remove session" was clicked (its errors no longer count)."""
    return bool(getattr(session_form, "cleaned_data", {}).get("DELETE"))


def _well_formed(session_form) -> bool:
    cleaned = getattr(session_form, "cleaned_data", {})
    return not session_form.errors and "start_utc" in cleaned and "finish_utc" in cleaned


def _show_errors(exc: ValidationError, form, formset) -> None:
    """Put each message from event_save next to the field or session row it names."""
    for key, messages_ in exc.message_dict.items():
        if key.startswith(f"{SESSION_PREFIX}."):
            _, row, field_name = key.split(".", 2)
            target = formset.forms[int(row)]
            target.add_error(None if field_name == "__all__" else field_name, messages_)
        elif key.startswith("trainers."):
            name = form.trainer_field_name(int(key.split(".", 1)[1]))
            form.add_error(name if name in form.fields else None, messages_)
        else:
            form.add_error(key if key in form.fields else None, messages_)


def _link_options(user) -> list[dict]:
    """The "Add virtual room link" options, with the viewer's connection for providers that need one."""
    from seminars.meetings import virtual_link_options
    from virtualmeeting.models import ProviderConnection
    from virtualmeeting.registry import get_provider

    options = virtual_link_options()
    providers = [o["value"] for o in options if o["needs_connection"]]
    connections = {c.provider: c for c in ProviderConnection.objects.filter(user=user, provider__in=providers)}
    for option in options:
        connection = connections.get(option["value"])
        option["connected"] = bool(connection and connection.is_usable)
        option["account"] = ""
        option["capacity"] = None
        if option["connected"]:
            provider = get_provider(option["value"])
            option["account"] = provider.describe_account(connection)
            option["capacity"] = provider.meeting_capacity(connection)
        elif connection is not None:
            option["account"] = connection.status_message or _("Your connection no longer works: connect again.")
    return options


@login_required
@require_http_methods(["GET", "POST"])
def event_cancel_view(request, pk):
    event = event_with_course(pk)
    require_edit(request.user, event.seminar.course)
    if event.cancelled:
        messages.info(request, _("This event is already cancelled."))
        return redirect(event.get_absolute_url())
    form = CancellationReasonForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        event_cancel(event=event, actor=request.user, reason=form.cleaned_data["reason"])
        told = event_cancelled_signup_count(event)
        if told:
            text = ngettext(
                "Cancelled %(title)s. The %(count)d learner who had signed up has been told.",
                "Cancelled %(title)s. The %(count)d learners who had signed up have been told.",
                told,
            )
        else:
            text = _("Cancelled %(title)s. Nobody had signed up, so nobody needed to be told.")
        messages.success(request, text % {"title": event.title, "count": told})
        return redirect(event.get_absolute_url())
    return render(
        request,
        "seminars/events/confirm_cancel.html",
        {
            "event": event,
            "seminar": event.seminar,
            "course": event.seminar.course,
            "booked": event_booking_count(event),
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def event_delete_view(request, pk):
    event = event_with_course(pk)
    require_edit(request.user, event.seminar.course)
    seminar = event.seminar
    if request.method == "POST":
        title = event.title
        event_delete(event=event, actor=request.user)
        messages.success(request, _("Deleted %(name)s.") % {"name": title})
        return redirect(seminar.get_absolute_url())
    return render(
        request,
        "seminars/events/confirm_delete.html",
        {
            "event": event,
            "seminar": seminar,
            "course": seminar.course,
            "booked": event_booking_count(event),
            "bookings": event.bookings.count(),
        },
    )


# --- "Select room" > "Choose" ---------------------------------------------------


@login_required
@require_GET
def rooms_available(request):
    """Site rooms free at a session's time, as JSON; with `event`, that event's ad-hoc rooms too.

    Query: start, finish (local "YYYY-MM-DDTHH:MM"), zone (IANA), event (optional id). For those
    who schedule sessions only: whether a room is busy says that something happens there.
    """
    event = None
    if request.GET.get("event"):
        try:
            event = event_with_course(int(request.GET["event"]))
        except ValueError:
            raise Http404("No such event.") from None
        require_edit(request.user, event.seminar.course)
    else:
        require_event_editor(request.user)
    try:
        start, finish = _period_from_query(request.GET)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    rooms = [
        _room_json(room) for room in event_selectors.rooms_available(start=start, finish=finish, exclude_event=event)
    ]
    adhoc = [_room_json(room, full=True) for room in event.adhoc_rooms.order_by("name", "pk")] if event else []
    return JsonResponse({"rooms": rooms, "adhoc": adhoc})


# --- "Create" > a room in the site's account: its host --------------------------------------------------------


@login_required
@require_GET
def account_users(request):
    """The active users of the site's account of `provider` whose name or email holds `q`, as JSON, with the
    viewer's own user of the account (the default host) when there is one; `error` when the provider cannot be
    asked now. For those who make rooms only."""
    from seminars.meetings import account_host_for, account_users_search, provider_hosting
    from virtualmeeting.errors import ProviderError

    require_event_editor(request.user)
    provider_id = request.GET.get("provider") or ""
    if not provider_id or provider_hosting(provider_id) != Room.HOSTING_ACCOUNT:
        raise Http404("No site account for this provider.")
    query = (request.GET.get("q") or "")[:100]
    try:
        users = account_users_search(provider_id=provider_id, query=query)
    except ProviderError as exc:
        # Said in the dialog, where the search is; the page itself works (so no 5xx).
        return JsonResponse({"error": exc.message or str(exc), "users": [], "default": None})
    own = account_host_for(provider_id=provider_id, user=request.user).host
    return JsonResponse({"users": [_account_user_json(u) for u in users], "default": own and _account_user_json(own)})


def _account_user_json(user) -> dict:
    return {
        "id": user.remote_id,
        "name": user.name,
        "email": user.email,
        "licence": user.licence,
        "capacity": user.capacity,
        "licensed": user.licensed,
    }


def _period_from_query(query):
    zone = (query.get("zone") or "").strip()
    if not is_valid_zone(zone):
        raise ValidationError(_("Unknown time zone."))
    field = LocalDateTimeField()
    start_local, finish_local = field.clean(query.get("start")), field.clean(query.get("finish"))
    start, finish = local_to_utc(start_local, zone), local_to_utc(finish_local, zone)
    if finish <= start:
        raise ValidationError(_("The finish must be after the start."))
    return start, finish


def _room_json(room, *, full=False) -> dict:
    data = {
        "id": room.pk,
        "name": room.name,
        "capacity": room.capacity,
        "description": room.description,
        "url": reverse("seminars:room", args=[room.pk]),
    }
    if full:
        data.update(
            virtual_kind=room.virtual_kind,
            virtual_url=room.virtual_url,
            in_site_account=room.in_site_account,
            virtual_alternative_hosts=list(room.virtual_alternative_hosts),
        )
    return data


# --- Room page ----------------------------------------------------------------------


@login_required
def room_detail(request, pk):
    room = room_with_event(pk)
    course = room.event.seminar.course if room.event_id else None
    if course is not None:
        require_view(request.user, course)
    sessions = list(room_sessions_for_viewer(room=room, user=request.user))
    can_edit = is_site_admin(request.user) if course is None else can_edit_course(request.user, course)
    return render(
        request,
        "seminars/rooms/detail.html",
        {
            "room": room,
            "course": course,
            "sessions": sessions,
            "viewer_zone": viewer_zone(request.user),
            "can_edit": can_edit,
            "can_hand_over": room.is_provider_backed and is_site_admin(request.user),
            **room_card_context(request, room),
        },
    )


# --- Site rooms (site admins) -------------------------------------------------------


@login_required
def site_rooms(request):
    require_site_admin(request.user)
    return render(
        request,
        "seminars/rooms/site_list.html",
        {"rooms": list(site_rooms_with_use()), "viewer_zone": viewer_zone(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def site_room_add(request):
    require_site_admin(request.user)
    return _site_room_editor(request, room=None)


@login_required
@require_http_methods(["GET", "POST"])
def site_room_edit(request, pk):
    require_site_admin(request.user)
    room = room_with_event(pk)
    if not room.is_site_room:
        raise Http404("Ad-hoc rooms are edited in their event.")
    return _site_room_editor(request, room=room)


def _site_room_editor(request, *, room):
    if request.method == "POST":
        form = SiteRoomForm(request.POST)
        if form.is_valid():
            try:
                saved = site_room_save(room=room, fields=form.cleaned_data, actor=request.user)
            except ValidationError as exc:
                for key, messages_ in exc.message_dict.items():
                    form.add_error(key if key in form.fields else None, messages_)
            else:
                messages.success(request, _("Saved %(name)s.") % {"name": saved.name})
                return redirect("seminars:site_rooms")
    else:
        form = SiteRoomForm(initial=SiteRoomForm.initial_for(room) if room else None)
    return render(request, "seminars/rooms/site_form.html", {"form": form, "room": room})


@login_required
@require_http_methods(["GET", "POST"])
def site_room_delete_view(request, pk):
    require_site_admin(request.user)
    room = room_with_event(pk)
    if not room.is_site_room:
        raise Http404("Ad-hoc rooms are removed in their event.")
    error = ""
    if request.method == "POST":
        try:
            site_room_delete(room=room, actor=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Deleted %(name)s.") % {"name": room.name})
            return redirect("seminars:site_rooms")
    upcoming = site_room_upcoming_sessions(room=room).count()
    return render(
        request,
        "seminars/rooms/confirm_delete.html",
        {"room": room, "upcoming": upcoming, "error": error},
        status=400 if error else 200,
    )


urlpatterns = [
    path("seminars/<int:seminar_pk>/events/add/", event_add, name="event_add"),
    path("events/<int:pk>/edit/", event_edit, name="event_edit"),
    path("events/<int:pk>/cancel/", event_cancel_view, name="event_cancel"),
    path("events/<int:pk>/delete/", event_delete_view, name="event_delete"),
    path("rooms/", site_rooms, name="site_rooms"),
    path("rooms/add/", site_room_add, name="site_room_add"),
    path("rooms/available/", rooms_available, name="rooms_available"),
    path("rooms/account-users/", account_users, name="account_users"),
    path("rooms/<int:pk>/", room_detail, name="room"),
    path("rooms/<int:pk>/edit/", site_room_edit, name="site_room_edit"),
    path("rooms/<int:pk>/delete/", site_room_delete_view, name="site_room_delete"),
]
