"""virtualmeeting.tokens: every write of a connection's tokens."""

from datetime import timedelta

from django.utils import timezone

from virtualmeeting.models import ProviderConnection
from virtualmeeting.tokens import connection_tokens_update


def test_tokens_update(owner):
    connection = ProviderConnection.objects.get(user=owner)
    expires = timezone.now() + timedelta(hours=1)

    returned = connection_tokens_update(
        connection=connection,
        access_token="new-access",
        refresh_token="new-refresh",
        expires_at=expires,
        scopes="meeting:write",
    )

    stored = ProviderConnection.objects.get(pk=connection.pk)
    assert (stored.access_token, stored.refresh_token, stored.expires_at, stored.scopes) == (
        "new-access",
        "new-refresh",
        expires,
        "meeting:write",
    )
    assert returned.access_token == "new-access"
    connection_tokens_update(connection=connection, access_token="a2", refresh_token="r2", expires_at=expires)
    assert ProviderConnection.objects.get(pk=connection.pk).scopes == "meeting:write"  # unchanged when not given
