"""Provider settings pages (site admins) and the generic connect flow (every OAuth provider).

The connect flow: `connect` stores a single-use state bound to the user with a
PKCE verifier and sends the popup to the provider; the provider sends it back
to `auth_callback`, which checks the state, finishes the connection and tells
the opener window by postMessage (explicit target origin), then closes.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from lms.permissions import is_site_admin
from virtualmeeting import oauth
from virtualmeeting.conf import vm_settings
from virtualmeeting.errors import ConnectError
from virtualmeeting.models import OAuthState
from virtualmeeting.providers.base import Provider
from virtualmeeting.registry import enabled_providers, get_provider, provider_ids
from virtualmeeting.selectors import connection_for
from virtualmeeting.services import connection_disconnect, connection_save

log = logging.getLogger(__name__)


def _require_site_admin(user) -> None:
    if not is_site_admin(user):
        raise PermissionDenied(gettext("Only site admins may change virtual meeting providers."))


def _provider_or_404(provider_id: str) -> Provider:
    try:
        return get_provider(provider_id)
    except LookupError:
        raise Http404("No such virtual meeting provider.") from None


# --- settings pages -----------------------------------------------------------------------------
@login_required
def settings_index(request):
    _require_site_admin(request.user)
    providers = [get_provider(provider_id) for provider_id in provider_ids()]
    rows = [{"provider": p, "configured": p.is_configured(), "warnings": p.health_warnings()} for p in providers]
    return render(request, "virtualmeeting/settings_index.html", {"rows": rows})


@sensitive_post_parameters("client_secret", "webhook_secret", "account_client_secret")
@login_required
def provider_settings(request, provider_id: str):
    _require_site_admin(request.user)
    provider = _provider_or_404(provider_id)
    form_class = provider.settings_form_class
    form = None
    if form_class is not None:
        if request.method == "POST":
            form = form_class(request.POST, config=provider.config)
            if form.is_valid():
                form.save()
                messages.success(request, gettext("%(name)s settings saved.") % {"name": provider.name})
                return redirect("virtualmeeting:settings", provider_id=provider.id)
        else:
            form = form_class(config=provider.config)
    # The result of "Test connection" is shown once, on the page it redirected to.
    account_check = request.session.pop(_check_key(provider.id), None) if request.method == "GET" else None
    context = {
        "provider": provider,
        "config": provider.config,
        "form": form,
        "warnings": provider.health_warnings(),
        "account_check": account_check,
        # The Redirect URL an admin registers with the provider, with a Copy button (virtualmeeting/settings.js).
        "redirect_url": provider.redirect_uri(request) if provider.needs_connection else "",
        "copy_texts": {"copied": gettext("Copied"), "copy_by_hand": gettext("Select the URL and copy it by hand")},
        **provider.settings_context(request),
    }
    return render(request, [f"{provider.id}/settings.html", "virtualmeeting/settings.html"], context)


def _check_key(provider_id: str) -> str:
    return f"virtualmeeting:account_check:{provider_id}"


@login_required
@require_POST
def provider_settings_check(request, provider_id: str):
    """ "Test connection": check the saved site account at the provider, then show the settings page with the result."""
    _require_site_admin(request.user)
    provider = _provider_or_404(provider_id)
    if not provider.supports_account:
        raise Http404("This provider has no site account.")
    check = provider.check_account()
    request.session[_check_key(provider.id)] = {"ok": check.ok, "message": check.message, "field": check.field}
    return redirect("virtualmeeting:settings", provider_id=provider.id)


# --- connect flow ------------------------------------------------------------------------------------
def _site_origin() -> str:
    parts = urlsplit(settings.SITE_URL)
    return f"{parts.scheme}://{parts.netloc}"


def _result(request, *, provider_id: str, ok: bool, message: str, label: str = "", origin: str = "", status=200):
    """The popup's last page: tells the opener (if any) and closes, or shows the result."""
    payload = {
        "type": "virtualmeeting:connected" if ok else "virtualmeeting:error",
        "provider": provider_id,
        "label": label,
        "message": message,
    }
    context = {
        "ok": ok,
        "message": message,
        "label": label,
        "payload": payload,
        "target_origin": origin or _site_origin(),
    }
    response = render(request, "virtualmeeting/connect_result.html", context, status=status)
    # The popup came back from the provider's (cross-origin) pages: with the site's default
    # COOP (same-origin-allow-popups) the browser would put this page in a new browsing context
    # group, cutting it off from its opener, which would then never hear the result.
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response


def _connectable_provider(provider_id: str) -> Provider | None:
    return next((p for p in enabled_providers() if p.id == provider_id and p.needs_connection), None)


@login_required
def connect(request, provider_id: str):
    provider = _connectable_provider(provider_id)
    if provider is None:
        return _result(
            request,
            provider_id=provider_id,
            ok=False,
            status=404,
            message=gettext("This meeting provider is not available on this site. No account was connected."),
        )
    verifier, challenge = oauth.pkce_pair()
    state = OAuthState.objects.create(
        state=secrets.token_urlsafe(32),
        user=request.user,
        provider=provider.id,
        code_verifier=verifier,
        redirect_uri=provider.redirect_uri(request),
        opener_origin=_site_origin(),
    )
    try:
        url = provider.authorization_url(redirect_uri=state.redirect_uri, state=state.state, code_challenge=challenge)
    except ConnectError as exc:
        state.delete()
        return _result(
            request, provider_id=provider.id, ok=False, message=exc.message_for(site_admin=is_site_admin(request.user))
        )
    return redirect(url)


def _claim_state(request, provider_id: str, value: str) -> tuple[OAuthState | None, str]:
    """Check the state and mark it used (once). Returns (state, "") or (None, message for the person)."""
    row = OAuthState.objects.filter(state=value, provider=provider_id).first() if value else None
    if row is None:
        return None, _start_again(gettext("This sign-in link is not valid."))
    if row.user_id != request.user.pk:
        problem = gettext("This sign-in was started by another user of this site. No account was connected.")
        return None, _start_again(problem)
    if row.used_at is not None:
        return None, _start_again(gettext("This sign-in link was already used."))
    if timezone.now() - row.created_at > timedelta(seconds=vm_settings.OAUTH_STATE_SECONDS):
        return None, _start_again(gettext("This sign-in took too long and expired."))
    with transaction.atomic():
        taken = OAuthState.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now())
    if taken != 1:
        return None, _start_again(gettext("This sign-in link was already used."))
    return row, ""


def _start_again(problem: str) -> str:
    return f"{problem} {gettext('Please close this window and click Connect again.')}"


def _not_completed(request, provider: Provider) -> str:
    """The provider sent the person back without a code: say so with the provider's own reason, if it gave one."""
    # error_description is the provider's text for people (RFC 6749 4.1.2.1); kept printable and short.
    reason = "".join(c for c in request.GET.get("error_description", "") if c.isprintable()).strip()[:300]
    if reason:
        return gettext("%(service)s did not complete the sign-in: %(reason)s No account was connected.") % {
            "service": provider.service,
            "reason": reason if reason.endswith(".") else reason + ".",
        }
    return gettext("%(service)s did not complete the sign-in. No account was connected. Please try again.") % {
        "service": provider.service
    }


@login_required
def auth_callback(request, provider_id: str):
    try:
        provider = get_provider(provider_id)
    except LookupError:
        return _result(
            request,
            provider_id=provider_id,
            ok=False,
            status=404,
            message=gettext("This meeting provider is not available on this site. No account was connected."),
        )
    state, problem = _claim_state(request, provider.id, request.GET.get("state", ""))
    if state is None:
        return _result(request, provider_id=provider.id, ok=False, message=problem, status=400)
    origin = state.opener_origin
    error = request.GET.get("error", "")
    if error == "access_denied":
        return _result(
            request,
            provider_id=provider.id,
            ok=False,
            origin=origin,
            message=gettext("You declined access to your %(service)s account. No account was connected.")
            % {"service": provider.service},
        )
    if error or not request.GET.get("code"):
        return _result(
            request, provider_id=provider.id, ok=False, origin=origin, message=_not_completed(request, provider)
        )
    try:
        account = provider.complete_connection(
            code=request.GET["code"], redirect_uri=state.redirect_uri, code_verifier=state.code_verifier
        )
    except ConnectError as exc:
        message = exc.message_for(site_admin=is_site_admin(request.user))
        return _result(request, provider_id=provider.id, ok=False, origin=origin, message=message)
    connection = connection_save(user=request.user, provider=provider.id, account=account)
    label = provider.describe_account(connection)
    return _result(
        request,
        provider_id=provider.id,
        ok=True,
        origin=origin,
        label=label,
        message=gettext("Connected %(service)s account %(account)s.") % {"service": provider.service, "account": label},
    )


def connection_status(request, provider_id: str):
    """The current user's connection to the provider, for the room dialog: {connected, label, status, message, capacity}."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": gettext("Please sign in.")}, status=401)
    provider = _provider_or_404(provider_id)
    connection = connection_for(user=request.user, provider=provider.id)
    if connection is None:
        return JsonResponse({"connected": False, "label": "", "status": "", "message": ""})
    return JsonResponse(
        {
            "connected": connection.is_usable,
            "label": provider.describe_account(connection),
            "status": connection.status,
            "message": connection.status_message if not connection.is_usable else "",
            # Participants one meeting of this account holds, when the provider knows (room capacity warning).
            "capacity": provider.meeting_capacity(connection) if connection.is_usable else None,
        }
    )


@login_required
@require_POST
def disconnect(request, provider_id: str):
    provider = _provider_or_404(provider_id)
    connection = connection_for(user=request.user, provider=provider.id)
    if connection is not None:
        connection_disconnect(connection=connection)
        messages.success(request, gettext("Your %(service)s account was disconnected.") % {"service": provider.service})
    target = request.POST.get("next") or request.GET.get("next") or "/"
    # Only a path of this site (our pages send one). `redirect()` would take a bare word such as
    # "profile" for a view name and fail; a relative path would land somewhere under this URL.
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return HttpResponseRedirect(target)
