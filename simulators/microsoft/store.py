"""The Microsoft simulator's state: one SQLite file, one connection, one lock (a read-check-write such as a code
redemption is atomic: the second redemption of a code sees it used)."""

from __future__ import annotations

import json
import sqlite3
import threading

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, domain TEXT NOT NULL UNIQUE, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, upn TEXT NOT NULL UNIQUE COLLATE NOCASE, mail TEXT,
    password TEXT NOT NULL, display_name TEXT NOT NULL, given_name TEXT NOT NULL, surname TEXT NOT NULL,
    licensed INTEGER NOT NULL, withheld_scopes TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS apps (
    client_id TEXT PRIMARY KEY, client_secret TEXT NOT NULL, name TEXT NOT NULL, tenant_id TEXT NOT NULL,
    redirect_uris TEXT NOT NULL, multi_tenant INTEGER NOT NULL, secret_expired INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS signins (sid TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS pending (
    txn TEXT PRIMARY KEY, tenant TEXT NOT NULL, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    state TEXT NOT NULL, scopes TEXT NOT NULL, code_challenge TEXT NOT NULL, code_challenge_method TEXT NOT NULL,
    prompt TEXT NOT NULL, user_id TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS consents (
    user_id TEXT NOT NULL, client_id TEXT NOT NULL, scopes TEXT NOT NULL, granted_at REAL NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE TABLE IF NOT EXISTS codes (
    code TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL, code_challenge TEXT NOT NULL, code_challenge_method TEXT NOT NULL,
    expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
    scopes TEXT NOT NULL, expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_grant ON tokens (client_id, user_id);
CREATE TABLE IF NOT EXISTS meetings (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, external_id TEXT, subject TEXT NOT NULL, start TEXT NOT NULL,
    end TEXT NOT NULL, thread TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS meetings_external ON meetings (user_id, external_id);
"""

TABLES = ("settings", "tenants", "users", "apps", "signins", "pending", "consents", "codes", "tokens", "meetings")


class Store:
    def __init__(self, path: str):
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")  # a simulator: speed over surviving a power cut
        self.conn.executescript(SCHEMA)

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

    def get_setting(self, key: str, default=None):
        row = self.one("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(row["value"]) if row else default

    def set_setting(self, key: str, value) -> None:
        self.run(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )
