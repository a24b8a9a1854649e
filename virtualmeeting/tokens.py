"""Every write of a connection's tokens: stored at connect, renewed (one worker at a time), forgotten.

Refresh tokens rotate (Zoom's always, Microsoft's may): the old one dies when a new pair is issued, so two
workers refreshing at once would revoke each other. `connection_tokens_refresh` holds the connection's row
lock while it asks; whoever gets the lock second re-reads the row and, if the access token changed meanwhile,
uses the new one instead of refreshing. The new pair is saved in the same transaction. The provider names its
app (`Provider.oauth_app`, `oauth_client`) and says in its own words what a refusal means (`refresh_error`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from virtualmeeting import oauth
from virtualmeeting.errors import AuthRevoked
from virtualmeeting.models import ProviderConnection

REFRESH_MARGIN = timedelta(minutes=5)
TOKEN_FIELDS = ("access_token", "refresh_token", "expires_at", "scopes")


def needs_refresh(connection: ProviderConnection, now: datetime | None = None) -> bool:
    """No access token, no known expiry, or less than REFRESH_MARGIN left."""
    now = now or timezone.now()
    return not connection.access_token or connection.expires_at is None or connection.expires_at - now < REFRESH_MARGIN


def _copy(source: ProviderConnection, target: ProviderConnection) -> None:
    for name in (*TOKEN_FIELDS, "status", "status_message"):
        setattr(target, name, getattr(source, name))


def connection_tokens_refresh(*, provider, connection: ProviderConnection, force: bool = False) -> None:
    """Renew the connection's access token when it is about to expire (or at once: `force`, after a 401).

    Raises AuthRevoked when the connection is no longer usable, else what `provider.refresh_error` makes of
    the endpoint's refusal (RateLimited, a transient or permanent ProviderError, AuthRevoked).
    """
    stale = connection.access_token
    with transaction.atomic():
        row = ProviderConnection.objects.select_for_update().get(pk=connection.pk)
        if row.status != ProviderConnection.Status.CONNECTED:
            raise AuthRevoked(row.status_message or provider.reconnect_message())
        if row.access_token != stale or (not force and not needs_refresh(row)):
            _copy(row, connection)
            return
        if not row.refresh_token:
            raise AuthRevoked(provider.reconnect_message())
        client_id, client_secret = provider.oauth_client()
        try:
            token = oauth.refresh(
                provider.oauth_app(), client_id=client_id, client_secret=client_secret, refresh_token=row.refresh_token
            )
        except oauth.TokenError as exc:
            raise provider.refresh_error(exc) from None
        row.access_token = token.access_token
        row.refresh_token = token.refresh_token or row.refresh_token
        row.expires_at = token.expires_at
        if token.scopes:
            row.scopes = token.scopes
        row.save(update_fields=[*TOKEN_FIELDS, "updated_at"])
    _copy(row, connection)


def connection_tokens_update(
    *, connection: ProviderConnection, access_token: str, refresh_token: str, expires_at, scopes: str | None = None
) -> ProviderConnection:
    """Store tokens obtained elsewhere (atomically: a refresh token is often single-use); `scopes` None keeps them."""
    with transaction.atomic():
        locked = ProviderConnection.objects.select_for_update().get(pk=connection.pk)
        locked.access_token, locked.refresh_token, locked.expires_at = access_token, refresh_token, expires_at
        if scopes is not None:
            locked.scopes = scopes
        locked.save()
    connection.access_token, connection.refresh_token, connection.expires_at = access_token, refresh_token, expires_at
    connection.scopes = locked.scopes
    return connection


def tokens_set(row: ProviderConnection, *, access_token: str, refresh_token: str, expires_at, scopes: str) -> None:
    """A new grant's tokens on the row (a connect); the caller saves it in its transaction."""
    row.access_token, row.refresh_token, row.expires_at, row.scopes = access_token, refresh_token, expires_at, scopes


def tokens_forget(row: ProviderConnection) -> None:
    """No tokens on the row any more (the connection was revoked); the caller saves it in its transaction."""
    row.access_token = row.refresh_token = ""
    row.expires_at = None
