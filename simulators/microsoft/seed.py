"""The seeded world: two tenants, their people and the site's app registration (multi-tenant)."""

from __future__ import annotations

from simulators.microsoft.store import Store

PASSWORD = "teams-password"
CLIENT_ID = "mssim-client-id"
CLIENT_SECRET = "mssim-client-secret"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8000/integrations/virtualmeeting/auth_callback/teams"
CONTOSO = "11111111-1111-4111-8111-111111111111"
FABRIKAM = "22222222-2222-4222-8222-222222222222"
TENANTS = ((CONTOSO, "contoso.test", "Contoso"), (FABRIKAM, "fabrikam.test", "Fabrikam"))
# (id, tenant, userPrincipalName, displayName, given name, surname, Teams licence, permissions never granted)
USERS = (
    (
        "a1b2c3d4-0000-4000-8000-000000000001",
        CONTOSO,
        "trainer@contoso.test",
        "Taylor Trainer",
        "Taylor",
        "Trainer",
        1,
        "",
    ),
    (
        "a1b2c3d4-0000-4000-8000-000000000002",
        CONTOSO,
        "nolicence@contoso.test",
        "Noel Licence",
        "Noel",
        "Licence",
        0,
        "",
    ),
    (
        "a1b2c3d4-0000-4000-8000-000000000003",
        CONTOSO,
        "noperm@contoso.test",
        "Nora Permission",
        "Nora",
        "Permission",
        1,
        "OnlineMeetings.ReadWrite",
    ),
    (
        "b1b2c3d4-0000-4000-8000-000000000001",
        FABRIKAM,
        "trainer@fabrikam.test",
        "Frank Fabrikam",
        "Frank",
        "Fabrikam",
        1,
        "",
    ),
)
SIGN_IN_ACCOUNTS = (
    ("trainer@contoso.test", "a Teams organiser"),
    ("nolicence@contoso.test", "no Teams licence"),
    ("noperm@contoso.test", "the grant lacks OnlineMeetings.ReadWrite"),
    ("trainer@fabrikam.test", "a Teams organiser of another tenant"),
)


def seed(store: Store, *, redirect_uris: tuple[str, ...] = (DEFAULT_REDIRECT_URI,)) -> None:
    """(Re)insert the seeded tenants, users and app; meetings, tokens and consents are kept."""
    with store.lock:
        for tenant in TENANTS:
            store.run("INSERT OR REPLACE INTO tenants (id, domain, name) VALUES (?, ?, ?)", tenant)
        for user_id, tenant, upn, name, given, surname, licensed, withheld in USERS:
            store.run(
                "INSERT OR REPLACE INTO users (id, tenant_id, upn, mail, password, display_name, given_name, "
                "surname, licensed, withheld_scopes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (user_id, tenant, upn, upn, PASSWORD, name, given, surname, licensed, withheld),
            )
        store.run(
            "INSERT OR REPLACE INTO apps (client_id, client_secret, name, tenant_id, redirect_uris, multi_tenant, "
            "secret_expired) VALUES (?, ?, ?, ?, ?, 1, 0)",
            (CLIENT_ID, CLIENT_SECRET, "LMS (simulated)", CONTOSO, " ".join(redirect_uris)),
        )
