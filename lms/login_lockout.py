"""Login throttling (django-axes): who a failure counts against, and what a locked-out person sees.

Failures count per (username, client address) pair in the database, so every web
process shares them. Keyed on the pair, an attacker cannot lock a user out from
another address; the price is that one address may try a few passwords for each
username in each cool-off period (see README, "Login lockout").
"""

import ipaddress
import math
from datetime import UTC, timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext


def client_ip(request) -> str:
    """The address a failure counts against.

    Behind the https proxy (BEHIND_HTTPS_PROXY=1) REMOTE_ADDR is the proxy's, shared by everyone;
    the client is the last X-Forwarded-For entry, the one our proxy appended (entries before it
    come from the client and can be forged).
    """
    if settings.BEHIND_HTTPS_PROXY:
        last = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(last))  # the column is an IP address: nothing else is stored
        except ValueError:
            pass  # a proxy that does not append a plain address: count against what we see
    return request.META.get("REMOTE_ADDR", "")


# The longest username a failure record holds (axes' AccessAttempt.username column).
RECORDED_USERNAME_MAX = 255


def attempted_username(request, credentials=None) -> str | None:
    """The username a failure counts against: the one typed, as axes reads it, cut to what its
    record holds. Django's login forms do not enforce the username's length, so a longer one
    reached the record and failed the login with a database error (PostgreSQL checks lengths)."""
    source = credentials if credentials else getattr(request, "data", request.POST)
    username = source.get(settings.AXES_USERNAME_FORM_FIELD)
    return username[:RECORDED_USERNAME_MAX] if isinstance(username, str) else username


def lock_ends_at(*, username: str, ip_address: str):
    """When the (username, address) pair may log in again: its last counted failure plus the cool-off.

    Failures refused during the lock are not counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off),
    so this does not move while someone keeps retrying.
    """
    last = (
        AccessAttempt.objects.filter(username=username, ip_address=ip_address)
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    return (last or timezone.now()) + settings.AXES_COOLOFF_TIME


def lockout_message(ends_at) -> str:
    """Why logging in is refused and when to try again; nothing about who could unlock it (the
    person may be that admin, and an anonymous page must not tell whose account is whose)."""
    minutes = max(1, math.ceil((ends_at - timezone.now()).total_seconds() / 60))
    # The whole minute at or after the end: trying at the time shown always works.
    at = (ends_at + timedelta(minutes=1) - timedelta(microseconds=1)).replace(second=0, microsecond=0)
    return ngettext(
        "Too many failed attempts to log in to this account from your network. "
        "Logging in is paused for %(minutes)d minute: try again at %(time)s UTC.",
        "Too many failed attempts to log in to this account from your network. "
        "Logging in is paused for %(minutes)d minutes: try again at %(time)s UTC.",
        minutes,
    ) % {"minutes": minutes, "time": at.astimezone(UTC).strftime("%H:%M")}


def lockout_response(request, original_response=None, credentials=None):
    """The login page again (HTTP 429) with the username kept and why logging in is refused."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    next_url = request.POST.get("next", request.GET.get("next", ""))
    safe = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    ends_at = lock_ends_at(
        username=attempted_username(request, credentials) or "",  # as the failures were recorded
        ip_address=getattr(request, "axes_ip_address", None) or client_ip(request),
    )
    context = {"form": form, "lockout_message": lockout_message(ends_at), "next": next_url if safe else ""}
    return render(request, "registration/login.html", context, status=429)
