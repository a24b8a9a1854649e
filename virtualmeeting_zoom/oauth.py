"""Zoom's OAuth app, declared for the framework's OAuth (virtualmeeting.oauth), and Zoom's own token calls.

The framework runs the authorization code flow (PKCE, state, code exchange, refresh, revoke); Zoom's part is
its endpoints (ZOOM_OAUTH_BASE_URL), client authentication by HTTP Basic, no scope parameter (Zoom takes the
scopes from the app's Marketplace configuration and has rejected one), Zoom's own Retry-After and
X-RateLimit-Reset on a 429 (limits.zoom_retry_at), the words for an app private to another account, and the
Server-to-Server app's account_credentials grant, which has no user and no refresh token.
"""

from django.utils.translation import gettext_lazy

from virtualmeeting import oauth
from virtualmeeting_zoom import limits
from virtualmeeting_zoom.options import oauth_base_url

PRIVATE_APP_MESSAGE = gettext_lazy(
    "This Zoom app is private to another Zoom account: publish the app in the Zoom Marketplace, "
    "or connect with a user of the same Zoom account."
)
# Words in Zoom's token/authorize answers for a user outside a private (unpublished) app's account.
_PRIVATE_APP_HINTS = ("not belong to", "same account", "unpublished", "not been published", "private app")


def is_private_app_refusal(text: str) -> bool:
    text = (text or "").lower()
    return any(hint in text for hint in _PRIVATE_APP_HINTS)


def zoom_app() -> oauth.OAuthApp:
    """Zoom's OAuth app: HTTP Basic client auth, and no scopes asked for (Zoom takes them from the app's
    Marketplace configuration and has rejected a scope parameter)."""
    base = oauth_base_url()
    return oauth.OAuthApp(
        authorize_url=f"{base}/oauth/authorize",
        token_url=f"{base}/oauth/token",
        revoke_url=f"{base}/oauth/revoke",
        client_auth=oauth.CLIENT_AUTH_BASIC,
        service="Zoom",
        retry_at=limits.zoom_retry_at,
    )


def account_token(*, account_id: str, client_id: str, client_secret: str) -> dict:
    """A Server-to-Server app's token for its account (the account_credentials grant): acts for every user of
    the account for about an hour, with no refresh token. Raises TokenError in the token endpoint's terms.

    zoom-api.md gives the grant in the query string; the parameters go in the form body, which Zoom's token
    endpoint reads as well (and which Zoom's own guides now ask for).
    """
    return oauth.token_request(
        zoom_app(),
        client_id=client_id,
        client_secret=client_secret,
        data={"grant_type": "account_credentials", "account_id": account_id},
    )
