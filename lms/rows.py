"""Model instances read from hand-written SQL, for the few hot paths where building the ORM's SQL costs more
than running it (the "Join now" click: see docs/benchmarks.md).

A `Columns` lists every concrete column of a model under a table alias, once; `read` turns that slice of a
row into an instance with the ORM's own converters (an encrypted field is decrypted, a JSON field decoded,
SQLite's text dates parsed), exactly as a queryset would. The SQL that uses it is written once per process,
so a request pays only the round trip and the conversion.
"""

from __future__ import annotations

import weakref
from functools import cached_property

from django.db import InterfaceError, OperationalError, connections


class Columns:
    """The columns of `model` under `alias`: all its concrete fields, or `only` these (by name)."""

    def __init__(self, model, alias: str, *, only: list[str] | None = None, using: str = "default"):
        self.model = model
        self.alias = alias
        self.using = using
        fields = list(model._meta.concrete_fields)
        self.fields = [model._meta.get_field(name) for name in only] if only else fields

    @cached_property
    def sql(self) -> str:
        """The select list: `"alias"."column", ...` in field order."""
        quote = connections[self.using].ops.quote_name
        return ", ".join(f"{quote(self.alias)}.{quote(field.column)}" for field in self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    @cached_property
    def _converters(self) -> list:
        """(index, column, converters) of the fields whose database values the ORM converts."""
        connection = connections[self.using]
        converters = []
        for index, field in enumerate(self.fields):
            column = field.get_col(self.alias)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((index, column, found))
        return converters

    @cached_property
    def _attnames(self) -> list[str]:
        return [field.attname for field in self.fields]

    @cached_property
    def _pk_index(self) -> int:
        return self.fields.index(self.model._meta.pk)

    def values(self, row, start: int = 0) -> list:
        """`row[start:start + len(self)]` converted as the ORM converts these fields' values."""
        values = list(row[start : start + len(self.fields)])
        connection = connections[self.using]
        for index, column, converters in self._converters:
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        return values

    def read(self, row, start: int = 0):
        """The instance made of `row[start:start + len(self)]` (the fields listed), or None when its primary key is
        NULL (an outer join that found nothing)."""
        if row[start + self._pk_index] is None:
            return None
        return self.model.from_db(self.using, self._attnames, self.values(row, start))


class Statement:
    """A hand-written statement that PostgreSQL plans once per connection (PREPARE, then EXECUTE with the values).

    Planning a join of many tables costs PostgreSQL more than running it (the "Join now" click's statement: about
    1.5 ms to plan, 0.4 ms to run); a prepared one is planned for its first executions and then runs a generic
    plan. Other databases run the SQL as written. A connection's prepared statements outlive its transactions
    (a rollback keeps them) and end with it: a new connection prepares again. `sql` has %s placeholders.
    """

    def __init__(self, name: str, sql: str, *, using: str = "default"):
        self.name = name
        self.sql = sql
        self.using = using
        parts = sql.split("%s")
        self._placeholders = len(parts) - 1
        self._prepare = f"PREPARE {name} AS " + "".join(
            part + (f"${index}" if index < len(parts) else "") for index, part in enumerate(parts, start=1)
        )
        values = f"({', '.join(['%s'] * self._placeholders)})" if self._placeholders else ""
        self._execute = f"EXECUTE {name}{values}"

    def fetchone(self, params: list):
        """The first row of the statement run with `params` (None when there is none); see `fetch`."""
        return self.fetch(params, lambda cursor: cursor.fetchone())

    def fetchall(self, params: list) -> list:
        """Every row of the statement run with `params`; see `fetch`."""
        return self.fetch(params, lambda cursor: cursor.fetchall())

    def fetch(self, params: list, take):
        """`take(cursor)` after the statement ran with `params`.

        A read-only statement checks its own connection: Django's health check (CONN_HEALTH_CHECKS) asks a reused
        connection `SELECT 1` before a request's first query, a round trip as long as the statement's. Outside a
        transaction the statement runs without it; when the connection turns out to be broken (the database
        restarted, or closed it) it is opened again and the statement run once more, so the request still gets
        its answer, as the health check would have given it."""
        connection = connections[self.using]
        if connection.vendor != "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(self.sql, params)
                return take(cursor)
        checks_itself = _health_check_due(connection)
        if checks_itself:
            connection.health_check_done = True
        try:
            return self._run(connection, params, take)
        except (OperationalError, InterfaceError):
            if not checks_itself or connection.is_usable():  # checks_itself: outside a transaction
                raise
            connection.close()
            return self._run(connection, params, take)

    def _run(self, connection, params: list, take):
        with connection.cursor() as cursor:
            prepared = _prepared_on(connection.connection)
            if self.name not in prepared:
                cursor.execute(self._prepare)
                prepared.add(self.name)
            cursor.execute(self._execute, params)
            return take(cursor)


def _health_check_due(connection) -> bool:
    """Whether Django would ask this connection `SELECT 1` before its next query: a reused connection, with health
    checks on, not yet checked in this request, outside a transaction."""
    return (
        connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
        and not connection.in_atomic_block
        and connection.get_autocommit()
    )


# The statements prepared on each open database connection (the driver's connection object: a new one after a
# reconnect has none).
_PREPARED: weakref.WeakKeyDictionary[object, set[str]] = weakref.WeakKeyDictionary()


def _prepared_on(raw_connection) -> set[str]:
    return _PREPARED.setdefault(raw_connection, set())
