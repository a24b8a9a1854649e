"""The simulator's state: one SQLite file, one connection, one lock.

Every handler works inside `with store.lock:` so a read-check-write (a code
exchange, a refresh rotation, a quota increment) is atomic: two clients
refreshing the same token at once get one winner and one `invalid_grant`.
"""

from __future__ import annotations

import json
import sqlite3
import threading

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL, plan TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, email TEXT NOT NULL UNIQUE, password TEXT NOT NULL,
    first_name TEXT NOT NULL, last_name TEXT NOT NULL, type INTEGER NOT NULL, timezone TEXT NOT NULL,
    pmi INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'active', created_at TEXT NOT NULL,
    can_host INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS apps (
    client_id TEXT PRIMARY KEY, client_secret TEXT NOT NULL, name TEXT NOT NULL, account_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL, scope_model TEXT NOT NULL, scopes TEXT NOT NULL, published INTEGER NOT NULL,
    webhook_url TEXT NOT NULL DEFAULT '', webhook_secret TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'general', creator_id TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS signins (sid TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS consents (
    txn TEXT PRIMARY KEY, user_id TEXT NOT NULL, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    state TEXT NOT NULL, code_challenge TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS codes (
    code TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
    scopes TEXT NOT NULL, expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL,
    account_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS tokens_grant ON tokens (client_id, user_id);
CREATE TABLE IF NOT EXISTS meetings (
    id INTEGER PRIMARY KEY, uuid TEXT NOT NULL, host_id TEXT NOT NULL, client_id TEXT NOT NULL,
    topic TEXT NOT NULL, type INTEGER NOT NULL, start_time TEXT NOT NULL, duration INTEGER NOT NULL,
    timezone TEXT NOT NULL, agenda TEXT NOT NULL, password TEXT NOT NULL, encrypted_password TEXT NOT NULL,
    settings TEXT NOT NULL, created_at TEXT NOT NULL, phase TEXT NOT NULL DEFAULT 'waiting',
    deleted INTEGER NOT NULL DEFAULT 0, deleted_at TEXT
);
CREATE TABLE IF NOT EXISTS zaks (
    token TEXT PRIMARY KEY, meeting_id INTEGER NOT NULL, user_id TEXT NOT NULL, expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS daily_counts (
    user_id TEXT NOT NULL, day TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (user_id, day)
);
CREATE TABLE IF NOT EXISTS registrants (
    id TEXT PRIMARY KEY, meeting_id INTEGER NOT NULL, email TEXT NOT NULL, first_name TEXT NOT NULL,
    last_name TEXT NOT NULL, status TEXT NOT NULL, token TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
    details TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS registrants_email ON registrants (meeting_id, email COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS occurrences (
    uuid TEXT PRIMARY KEY, meeting_id INTEGER NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, ready_at REAL
);
CREATE TABLE IF NOT EXISTS participants (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, occurrence_uuid TEXT NOT NULL, participant_uuid TEXT NOT NULL,
    user_id TEXT NOT NULL, zoom_user_id TEXT NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL,
    in_account INTEGER NOT NULL, registrant_id TEXT NOT NULL, join_time TEXT NOT NULL, leave_time TEXT,
    leave_reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS recordings (
    uuid TEXT PRIMARY KEY, meeting_id INTEGER NOT NULL, status TEXT NOT NULL, share_token TEXT NOT NULL UNIQUE,
    password TEXT NOT NULL, play_passcode TEXT NOT NULL, files TEXT NOT NULL, download_token TEXT NOT NULL,
    download_token_expires_at REAL NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS registrant_emails (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, meeting_id INTEGER NOT NULL, registrant_id TEXT NOT NULL,
    email TEXT NOT NULL, kind TEXT NOT NULL, sent_at TEXT NOT NULL
);
"""

TABLES = (
    "settings",
    "accounts",
    "users",
    "apps",
    "signins",
    "consents",
    "codes",
    "tokens",
    "meetings",
    "zaks",
    "daily_counts",
    "registrants",
    "registrant_emails",
    "occurrences",
    "participants",
    "recordings",
)


class Store:
    def __init__(self, path: str):
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")  # a simulator: speed over surviving a power cut
        self.conn.executescript(SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        # A state file from an older simulator keeps working.
        for table, column, definition in (
            ("users", "can_host", "INTEGER NOT NULL DEFAULT 1"),
            ("apps", "kind", "TEXT NOT NULL DEFAULT 'general'"),
            ("apps", "creator_id", "TEXT NOT NULL DEFAULT ''"),
            ("tokens", "account_id", "TEXT NOT NULL DEFAULT ''"),
        ):
            columns = {row["name"] for row in self.conn.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def all(self, sql: str, params=()) -> list[dict]:
        with self.lock:
            return [dict(row) for row in self.conn.execute(sql, params).fetchall()]

    def one(self, sql: str, params=()) -> dict | None:
        with self.lock:
            row = self.conn.execute(sql, params).fetchone()
            return dict(row) if row else None

    def run(self, sql: str, params=()) -> int:
        with self.lock:
            return self.conn.execute(sql, params).rowcount

    def wipe(self) -> None:
        with self.lock:
            for table in TABLES:
                self.conn.execute(f"DELETE FROM {table}")

    # settings: small JSON values that must survive a restart (clock offset, modes)
    def get_setting(self, key: str, default=None):
        row = self.one("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(row["value"]) if row else default

    def set_setting(self, key: str, value) -> None:
        self.run(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )
