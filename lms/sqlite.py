"""SQL functions PostgreSQL has and SQLite lacks, given to every SQLite connection (the `make run` default).

The queries are written for PostgreSQL, which production runs; a few use a function SQLite does not have. Each is
defined here with PostgreSQL's meaning, so the same query runs on both.
"""

from django.db.backends.signals import connection_created
from django.dispatch import receiver


def split_part(text, delimiter, index):
    """PostgreSQL's split_part(text, delimiter, n): the n-th field (from 1), "" past the last; NULL in, NULL out."""
    if text is None or delimiter is None or index is None:
        return None
    if delimiter == "":
        return text if index in (1, -1) else ""
    fields = text.split(delimiter)
    if index > 0:
        return fields[index - 1] if index <= len(fields) else ""
    if index < 0:
        return fields[index] if -index <= len(fields) else ""
    raise ValueError("field position must not be zero")


@receiver(connection_created, dispatch_uid="lms.sqlite.functions")
def _functions(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function("split_part", 3, split_part, deterministic=True)
