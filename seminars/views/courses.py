"""Dashboard, courses, participants, seminar activities, profile and notifications.

Every view checks permissions on the server (seminars.permissions): outsiders get
404, learners get 403 on editing pages. Writes go through seminars.services.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lms.urlcache import reverse
from lms.userfacts import fact
from seminars import page_cache, permissions
from seminars.forms.courses import CourseForm, EnrolForm, ProfileForm, RoleForm, SeminarForm
from seminars.models import Course, Enrolment, Notification, Profile, Seminar
from seminars.selectors import courses as selectors
from seminars.selectors.approvals import learner_manager
from seminars.selectors.notifications import notification_list
from seminars.services import courses as services
from seminars.services.calendar_feeds import calendar_feed_of
from seminars.services.profiles import notifications_mark_read, profile_update
from seminars.timezones import viewer_zone, zone_names
from seminars.views.calendar import calendar_feed_url
from virtualmeeting.selectors import connect_texts


def _posted(request):
    """Form data on POST (even an empty body, so missing fields are reported), else None (unbound)."""
    return request.POST if request.method == "POST" else None


def _add_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, next to its field where it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# ---- Dashboard ------------------------------------------------------------------------------


@login_required
def dashboard(request):
    from seminars import dashboard_cache

    zone = viewer_zone(request.user)
    lists = dashboard_cache.dashboard(request, zone=zone)
    return render(
        request,
        "seminars/dashboard.html",
        {
            "booked_sessions": lists.booked,
            "booked_rows": lists.booked_html,
            "trainer_sessions": lists.running,
            "trainer_rows": lists.running_html,
            "my_attendance": lists.attendance,
            "viewer_zone": zone,
        },
    )


# ---- Courses --------------------------------------------------------------------------------


@login_required
def course_list(request):
    courses = selectors.course_list_for_user(user=request.user)
    site_admin = permissions.is_site_admin(request.user)
    return render(
        request,
        "seminars/courses/course_list.html",
        {
            "my_courses": [c for c in courses if c.my_role or site_admin],
            "open_courses": [c for c in courses if not c.my_role and not site_admin],
            "can_add_course": site_admin,
            "role_labels": dict(Enrolment.Role.choices),
        },
    )


@login_required
def course_add(request):
    permissions.require_site_admin(request.user)
    form = CourseForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            course = services.course_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Course “%(name)s” created. Enrol people from its Participants page.") % {"name": course.name},
            )
            return redirect(course)
    return render(request, "seminars/courses/course_form.html", {"form": form, "course": None})


@login_required
def course_detail(request, pk):
    course = get_object_or_404(Course, pk=pk)
    permissions.require_view(request.user, course)
    return render(
        request,
        "seminars/courses/course_detail.html",
        {
            "course": course,
            "seminars": selectors.seminar_list_for_course(course=course),
            "can_edit": permissions.can_edit_course(request.user, course),
            "is_trainer": permissions.is_course_trainer(request.user, course),
            "is_site_admin": permissions.is_site_admin(request.user),
            "my_role": permissions.course_role(request.user, course),
        },
    )


@login_required
def course_edit(request, pk):
    course = get_object_or_404(Course, pk=pk)
    permissions.require_edit(request.user, course)
    form = CourseForm(_posted(request), instance=course)
    if request.method == "POST" and form.is_valid():
        try:
            services.course_update(course=course, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Course settings saved."))
            return redirect(course)
    return render(request, "seminars/courses/course_form.html", {"form": form, "course": course})


@login_required
def course_delete(request, pk):
    course = get_object_or_404(Course, pk=pk)
    permissions.require_view(request.user, course)
    permissions.require_site_admin(request.user)
    if request.method == "POST":
        name = course.name
        services.course_delete(course=course, actor=request.user)
        messages.success(request, _("Course “%(name)s” deleted.") % {"name": name})
        return redirect("seminars:courses")
    return render(
        request,
        "seminars/courses/confirm_delete.html",
        {
            "course": course,
            "object_kind": "course",
            "object": course,
            "counts": selectors.course_content_counts(course=course),
            "cancel_url": course.get_absolute_url(),
        },
    )


@login_required
@require_POST
def self_enrol(request, pk):
    course = get_object_or_404(Course, pk=pk)
    if permissions.course_role(request.user, course) is not None:
        messages.info(request, _("You are already enrolled in “%(name)s”.") % {"name": course.name})
        return redirect(course)
    if not course.allow_self_enrolment:
        # Outsiders learn nothing about a course that is not open to them.
        permissions.require_view(request.user, course)
        raise PermissionDenied(_("This course does not allow self enrolment."))
    services.self_enrol(course=course, user=request.user)
    messages.success(request, _("You are now enrolled in “%(name)s”.") % {"name": course.name})
    return redirect(course)


# ---- Participants ---------------------------------------------------------------------------


@login_required
def participants(request, pk):
    course = get_object_or_404(Course, pk=pk)
    permissions.require_trainer(request.user, course)
    can_manage = permissions.can_edit_course(request.user, course)
    form = EnrolForm(_posted(request), course=course)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied(_("Only editing trainers and site admins may enrol people."))
        if form.is_valid():
            try:
                enrolment = services.enrolment_create(
                    course=course, user=form.cleaned_data["user"], role=form.cleaned_data["role"], actor=request.user
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Enrolled %(username)s as %(role)s.")
                    % {"username": enrolment.user.get_username(), "role": enrolment.get_role_display().lower()},
                )
                return redirect("seminars:participants", pk=course.pk)
    return render(
        request,
        "seminars/courses/participants.html",
        {
            "course": course,
            "enrolments": selectors.enrolment_list_for_course(course=course),
            "form": form,
            "can_manage": can_manage,
            "role_choices": Enrolment.Role.choices,
        },
    )


def _managed_enrolment(request, pk, enrolment_pk):
    course = get_object_or_404(Course, pk=pk)
    permissions.require_edit(request.user, course)
    enrolment = get_object_or_404(Enrolment.objects.select_related("user"), pk=enrolment_pk, course=course)
    if enrolment.user_id == request.user.pk and not permissions.is_site_admin(request.user):
        raise PermissionDenied(_("You cannot change your own enrolment; ask another editing trainer or a site admin."))
    return course, enrolment


@login_required
@require_POST
def participant_role(request, pk, enrolment_pk):
    course, enrolment = _managed_enrolment(request, pk, enrolment_pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role: learner, trainer or editing trainer."))
        return redirect("seminars:participants", pk=course.pk)
    services.enrolment_set_role(enrolment=enrolment, role=form.cleaned_data["role"], actor=request.user)
    messages.success(
        request,
        _("%(username)s is now %(role)s.")
        % {"username": enrolment.user.get_username(), "role": enrolment.get_role_display().lower()},
    )
    return redirect("seminars:participants", pk=course.pk)


@login_required
@require_POST
def participant_remove(request, pk, enrolment_pk):
    course, enrolment = _managed_enrolment(request, pk, enrolment_pk)
    username = enrolment.user.get_username()
    services.enrolment_delete(enrolment=enrolment, actor=request.user)
    messages.success(request, _("%(username)s has been unenrolled.") % {"username": username})
    return redirect("seminars:participants", pk=course.pk)


# ---- Seminars -------------------------------------------------------------------------------


def _seminar(pk):
    return get_object_or_404(Seminar.objects.select_related("course"), pk=pk)


@login_required
def seminar_add(request, course_pk):
    course = get_object_or_404(Course, pk=course_pk)
    permissions.require_edit(request.user, course)
    form = SeminarForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            seminar = services.seminar_create(course=course, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Seminar “%(name)s” added. Now add its events.") % {"name": seminar.name})
            return redirect(seminar)
    return render(request, "seminars/courses/seminar_form.html", {"form": form, "course": course, "seminar": None})


@login_required
def seminar_detail(request, pk):
    past = request.GET.get("past") == "1"
    listed = page_cache.seminar_list(pk, past=past, page=request.GET.get("page", 1))
    seminar = listed.seminar
    permissions.require_view(request.user, seminar.course)
    events = selectors.seminar_page_for_viewer(
        listed, booking_states=fact(request.user, "bookings"), now=timezone.now()
    )
    return render(
        request,
        "seminars/courses/seminar_detail.html",
        {
            "seminar": seminar,
            "course": seminar.course,
            "events": events,
            "showing_past": past,
            "past_count": None if past else listed.past_count,
            "can_edit": permissions.can_edit_course(request.user, seminar.course),
            "is_trainer": permissions.is_course_trainer(request.user, seminar.course),
            "is_learner": permissions.course_role(request.user, seminar.course) == Enrolment.Role.LEARNER,
            "viewer_zone": viewer_zone(request.user),
        },
    )


@login_required
def seminar_edit(request, pk):
    seminar = _seminar(pk)
    permissions.require_edit(request.user, seminar.course)
    form = SeminarForm(_posted(request), instance=seminar)
    if request.method == "POST" and form.is_valid():
        try:
            services.seminar_update(seminar=seminar, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Seminar saved."))
            return redirect(seminar)
    return render(
        request, "seminars/courses/seminar_form.html", {"form": form, "course": seminar.course, "seminar": seminar}
    )


@login_required
def seminar_delete(request, pk):
    seminar = _seminar(pk)
    permissions.require_edit(request.user, seminar.course)
    if request.method == "POST":
        course, name = seminar.course, seminar.name
        services.seminar_delete(seminar=seminar, actor=request.user)
        messages.success(request, _("Seminar “%(name)s” deleted.") % {"name": name})
        return redirect(course)
    return render(
        request,
        "seminars/courses/confirm_delete.html",
        {
            "course": seminar.course,
            "seminar": seminar,
            "object_kind": "seminar",
            "object": seminar,
            "counts": selectors.seminar_content_counts(seminar=seminar),
            "cancel_url": seminar.get_absolute_url(),
        },
    )


# ---- Profile and notifications --------------------------------------------------------------


@login_required
def profile(request):
    current = Profile.objects.filter(user=request.user).values_list("time_zone", flat=True).first() or "UTC"
    form = ProfileForm(_posted(request), initial={"time_zone": current})
    if request.method == "POST" and form.is_valid():
        try:
            profile_update(user=request.user, time_zone=form.cleaned_data["time_zone"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Preferences saved."))
            return redirect("seminars:profile")
    return render(
        request,
        "seminars/profile.html",
        {
            "form": form,
            "zone_names": zone_names(),
            # Set by site admins (the Django admin); the learner sees who approves their requests.
            "manager": learner_manager(user=request.user),
            # Other apps add sections (e.g. "Disconnect Zoom") by listing their templates here.
            "profile_sections": getattr(settings, "SEMINARS_PROFILE_SECTIONS", []),
            "vm_connect_texts": connect_texts(),  # the meeting accounts section's Reconnect popup
            # Read only: a GET writes nothing. A user without a link makes one with the section's button.
            "calendar_feed_url": calendar_feed_url(request, feed) if (feed := calendar_feed_of(request.user)) else "",
        },
    )


@login_required
def notifications(request):
    items = notification_list(user=request.user, limit=100)
    unread_ids = [n.pk for n in items if n.read_at is None]
    # The page shows which ones were new; opening it marks them read.
    notifications_mark_read(user=request.user, notification_ids=unread_ids)
    return render(request, "seminars/notifications.html", {"items": items})


@login_required
def notification_open(request, pk):
    """Mark one notification read and follow its link (only to this site)."""
    note = get_object_or_404(Notification, pk=pk, user=request.user)
    notifications_mark_read(user=request.user, notification_ids=[note.pk])
    target = note.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return redirect(target)
    return redirect(reverse("seminars:notifications"))


urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("courses/", course_list, name="courses"),
    path("courses/add/", course_add, name="course_add"),
    path("courses/<int:pk>/", course_detail, name="course"),
    path("courses/<int:pk>/edit/", course_edit, name="course_edit"),
    path("courses/<int:pk>/delete/", course_delete, name="course_delete"),
    path("courses/<int:pk>/enrol/", self_enrol, name="self_enrol"),
    path("courses/<int:pk>/participants/", participants, name="participants"),
    path("courses/<int:pk>/participants/<int:enrolment_pk>/role/", participant_role, name="participant_role"),
    path("courses/<int:pk>/participants/<int:enrolment_pk>/remove/", participant_remove, name="participant_remove"),
    path("courses/<int:course_pk>/seminars/add/", seminar_add, name="seminar_add"),
    path("seminars/<int:pk>/", seminar_detail, name="seminar"),
    path("seminars/<int:pk>/edit/", seminar_edit, name="seminar_edit"),
    path("seminars/<int:pk>/delete/", seminar_delete, name="seminar_delete"),
    path("profile/", profile, name="profile"),
    path("notifications/", notifications, name="notifications"),
    path("notifications/<int:pk>/open/", notification_open, name="notification_open"),
]
