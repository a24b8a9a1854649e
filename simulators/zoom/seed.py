"""The seeded Zoom world: two accounts, three users, five General Apps and three Server-to-Server apps."""

from __future__ import annotations

from datetime import UTC, datetime

from simulators.zoom.store import Store

PASSWORD = "zoom-password"
DEFAULT_REDIRECT_URI = "http://localhost:8000/integrations/virtualmeeting/auth_callback/zoom"
DEFAULT_WEBHOOK_URL = ""

ACCOUNTS = [
    ("acctA-zoomsim00000001", "Zoomsim Account A", "pro"),
    ("acctB-otheraccount0001", "Other Account B", "pro"),
]

USERS = [
    # id, account, email, first, last, type, timezone, pmi
    (
        "zsPROuser0000000000001",
        "acctA-zoomsim00000001",
        "pro@zoomsim.test",
        "Pat",
        "Pro",
        2,
        "Europe/London",
        8112345601,
    ),
    (
        "zsBASICuser00000000001",
        "acctA-zoomsim00000001",
        "basic@zoomsim.test",
        "Bea",
        "Basic",
        1,
        "America/New_York",
        8112345602,
    ),
    (
        "zsOTHERuser00000000001",
        "acctB-otheraccount0001",
        "other@otheraccount.test",
        "Oscar",
        "Other",
        2,
        "Asia/Tokyo",
        8112345603,
    ),
]

# Every granular scope the vendor guide's "Add Scopes" step selects.
MEETING_SCOPES = (
    "meeting:delete:meeting meeting:read:invitation meeting:read:list_meetings meeting:read:meeting "
    "meeting:read:summary meeting:update:meeting meeting:write:meeting meeting:write:open_app "
    "user:read:email user:read:pm_room user:read:settings user:read:token user:read:user user:read:zak "
    "user:read:collaboration_device"
)
# What registrants, past participants and cloud recordings need (issue 9).
ATTENDANCE_SCOPES = (
    "meeting:write:registrant meeting:write:batch_registrants meeting:read:list_registrants "
    "meeting:update:registrant_status meeting:read:list_past_participants cloud_recording:read:list_recording_files"
)
GRANULAR_SCOPES = f"{MEETING_SCOPES} {ATTENDANCE_SCOPES}"

APPS = [
    # client_id, secret, name, scope model, scopes, published, webhook secret
    (
        "zoomsim-client-id",
        "zoomsim-client-secret",
        "LMS virtual meetings (granular, private)",
        "granular",
        GRANULAR_SCOPES,
        False,
        "zoomsim-webhook-secret",
    ),
    (
        "zoomsim-classic-client-id",
        "zoomsim-classic-client-secret",
        "LMS virtual meetings (classic scopes)",
        "classic",
        "meeting:read meeting:write recording:read user:read",
        False,
        "zoomsim-classic-webhook-secret",
    ),
    (
        "zoomsim-limited-client-id",
        "zoomsim-limited-client-secret",
        "LMS virtual meetings (too few scopes)",
        "granular",
        "meeting:read:meeting user:read:user",
        False,
        "zoomsim-limited-webhook-secret",
    ),
    (
        "zoomsim-published-client-id",
        "zoomsim-published-client-secret",
        "LMS virtual meetings (published)",
        "granular",
        GRANULAR_SCOPES,
        True,
        "zoomsim-published-webhook-secret",
    ),
    (
        "zoomsim-meetings-only-client-id",
        "zoomsim-meetings-only-client-secret",
        "LMS virtual meetings (meetings only: no attendance or recording scopes)",
        "granular",
        MEETING_SCOPES,
        False,
        "zoomsim-meetings-only-webhook-secret",
    ),
]


# Server-to-Server OAuth apps of account A: admin scopes, no redirect URL, made by its Pro user.
ACCOUNT_MEETING_SCOPES = (
    "meeting:write:meeting:admin meeting:read:meeting:admin meeting:read:list_meetings:admin "
    "meeting:update:meeting:admin meeting:delete:meeting:admin user:read:user:admin user:read:list_users:admin"
)
ACCOUNT_ATTENDANCE_SCOPES = " ".join(f"{scope}:admin" for scope in ATTENDANCE_SCOPES.split())
S2S_APPS = [
    # client_id, secret, name, scope model, scopes
    (
        "zoomsim-s2s-client-id",
        "zoomsim-s2s-client-secret",
        "LMS virtual meetings (Server-to-Server, granular)",
        "granular",
        f"{ACCOUNT_MEETING_SCOPES} {ACCOUNT_ATTENDANCE_SCOPES}",
    ),
    (
        "zoomsim-s2s-classic-client-id",
        "zoomsim-s2s-classic-client-secret",
        "LMS virtual meetings (Server-to-Server, classic scopes)",
        "classic",
        "meeting:read:admin meeting:write:admin user:read:admin recording:read:admin",
    ),
    (
        "zoomsim-s2s-limited-client-id",
        "zoomsim-s2s-limited-client-secret",
        "LMS virtual meetings (Server-to-Server, no user or update scopes)",
        "granular",
        "meeting:read:meeting:admin meeting:write:meeting:admin",
    ),
]


def seed(store: Store, *, redirect_uri: str = DEFAULT_REDIRECT_URI, webhook_url: str = DEFAULT_WEBHOOK_URL) -> None:
    """Insert the seeded accounts, users and apps; re-seeding keeps other rows and updates the apps' URLs."""
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.lock:
        for account_id, name, plan in ACCOUNTS:
            store.run("INSERT OR IGNORE INTO accounts (id, name, plan) VALUES (?, ?, ?)", (account_id, name, plan))
        for user_id, account_id, email, first, last, user_type, tz, pmi in USERS:
            store.run(
                "INSERT OR IGNORE INTO users (id, account_id, email, password, first_name, last_name, type, timezone,"
                " pmi, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (user_id, account_id, email, PASSWORD, first, last, user_type, tz, pmi, created),
            )
        for client_id, secret, name, model, scopes, published, webhook_secret in APPS:
            store.run(
                "INSERT INTO apps (client_id, client_secret, name, account_id, redirect_uri, scope_model, scopes,"
                " published, webhook_url, webhook_secret) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(client_id) DO UPDATE SET redirect_uri = excluded.redirect_uri,"
                " webhook_url = excluded.webhook_url, scopes = excluded.scopes",
                (
                    client_id,
                    secret,
                    name,
                    ACCOUNTS[0][0],
                    redirect_uri,
                    model,
                    scopes,
                    int(published),
                    webhook_url,
                    webhook_secret,
                ),
            )
        for client_id, secret, name, model, scopes in S2S_APPS:
            store.run(
                "INSERT INTO apps (client_id, client_secret, name, account_id, redirect_uri, scope_model, scopes,"
                " published, kind, creator_id) VALUES (?, ?, ?, ?, '', ?, ?, 0, 's2s', ?)"
                " ON CONFLICT(client_id) DO UPDATE SET scopes = excluded.scopes",
                (client_id, secret, name, ACCOUNTS[0][0], model, scopes, USERS[0][0]),
            )
        store.set_setting("seed", {"redirect_uri": redirect_uri, "webhook_url": webhook_url})
