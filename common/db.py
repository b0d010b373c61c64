"""SQL that Django renders but does not run, for hot paths that join statements into one.

While row locks are held, every round trip to the database makes the writers queued behind
them wait longer (the licensing ledger, the audit chain). On PostgreSQL an INSERT can be a
`WITH … AS (INSERT …)` part of the statement that follows it, and several statements can go
in one message (Django's psycopg cursors bind parameters on the client, which allows it).
"""

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection, models
from django.db.models.sql import InsertQuery

ResultReader = Callable[[Any], None]


def joins_statements() -> bool:
    """Return True when statements can be joined: PostgreSQL with client-side binding."""
    return connection.vendor == "postgresql" and not connection.settings_dict.get(
        "OPTIONS", {}
    ).get("server_side_binding")


def fetch_in_order(*querysets: models.QuerySet) -> list[list[Any]]:
    """Run SELECTs of whole model rows one after another in one round trip; return their rows.

    PostgreSQL runs them in the order given, each with its own snapshot (READ COMMITTED), so a
    read placed after a `select_for_update` sees what was committed before that lock was
    granted. Each queryset must select its model's fields only (no select_related, values,
    only/defer or annotations).
    """
    for queryset in querysets:
        query = queryset.query
        deferred_names, _ = query.deferred_loading
        if (
            query.select_related
            or query.annotations
            or deferred_names
            or queryset._fields is not None
        ):
            raise ValueError("fetch_in_order reads whole model rows only")
    if not joins_statements():
        return [list(queryset) for queryset in querysets]
    statements, params = [], []
    for queryset in querysets:
        sql, statement_params = queryset.query.get_compiler(connection=connection).as_sql()
        statements.append(sql)
        params.extend(statement_params)
    results: list[list[Any]] = []
    with connection.cursor() as cursor:
        cursor.execute("; ".join(statements), params)
        for index, queryset in enumerate(querysets):
            if index:
                cursor.nextset()
            names = [field.attname for field in queryset.model._meta.concrete_fields]
            results.append(
                [queryset.model.from_db(connection.alias, names, row) for row in cursor.fetchall()]
            )
    return results


def insert_statement(obj: models.Model) -> tuple[str, list[Any]]:
    """Return the INSERT, SQL and parameters, that creating `obj` runs, without running it.

    The values are converted exactly as `save()` and `bulk_create()` convert them. A primary
    key left unset (an AutoField) is given by the database; add `RETURNING` to read it.
    """
    fields = [
        field
        for field in obj._meta.local_concrete_fields
        if not (field.primary_key and getattr(obj, field.attname) is None)
    ]
    query = InsertQuery(type(obj))
    query.insert_values(fields, [obj])
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


# The writes waiting for the end of the innermost `writes_joined` block, if one is open.
_joined: contextvars.ContextVar[list[tuple[str, list[Any], ResultReader | None]] | None] = (
    contextvars.ContextVar("common_db_joined_writes", default=None)
)


@contextlib.contextmanager
def writes_joined() -> Iterator[None]:
    """Send the writes made inside the block (`write`) together, in order, when it ends.

    For the last steps of a hot path: nothing inside may read what they write, and a database
    error they raise comes at the end of the block (inside the caller's transaction, which it
    rolls back). On an exception inside the block nothing is sent.
    """
    if not joins_statements():
        yield
        return
    pending: list[tuple[str, list[Any], ResultReader | None]] = []
    token = _joined.set(pending)
    try:
        yield
    finally:
        _joined.reset(token)
    if pending:
        _execute(pending)


def write(sql: str, params: list[Any], read_result: ResultReader | None = None) -> None:
    """Run a write now, or at the end of the open `writes_joined` block.

    `read_result` is called with the cursor on the statement's result (e.g. its RETURNING).
    """
    pending = _joined.get()
    if pending is None:
        _execute([(sql, params, read_result)])
    else:
        pending.append((sql, params, read_result))


def _execute(statements: list[tuple[str, list[Any], ResultReader | None]]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "; ".join(sql for sql, _, _ in statements),
            [param for _, params, _ in statements for param in params],
        )
        for index, (_, _, read_result) in enumerate(statements):
            if index:
                cursor.nextset()
            if read_result is not None:
                read_result(cursor)
