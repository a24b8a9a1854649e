"""Model instances read from hand-written SQL, for the few hot paths where building the ORM's SQL costs more
than running it (the "Join now" click: see docs/benchmarks.md).

A `Columns` lists every concrete column of a model under a table alias, once; `read` turns that slice of a
row into an instance with the ORM's own converters (an encrypted field is decrypted, a JSON field decoded,
SQLite's text dates parsed), exactly as a queryset would. The SQL that uses it is written once per process,
so a request pays only the round trip and the conversion.
"""

from __future__ import annotations

from functools import cached_property

from django.db import connections


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
        connection = connections[self.using]
        converters = []
        for field in self.fields:
            column = field.get_col(self.alias)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            converters.append((column, found))
        return converters

    def values(self, row, start: int = 0) -> list:
        """`row[start:start + len(self)]` converted as the ORM converts these fields' values."""
        values = list(row[start : start + len(self.fields)])
        connection = connections[self.using]
        for index, (column, converters) in enumerate(self._converters):
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        return values

    def read(self, row, start: int = 0):
        """The instance made of `row[start:start + len(self)]` (all the model's fields), or None when its primary
        key is NULL (an outer join that found nothing)."""
        if row[start + self.fields.index(self.model._meta.pk)] is None:
            return None
        return self.model.from_db(self.using, [field.attname for field in self.fields], self.values(row, start))
