"""Several statements in one round trip to the database.

A registration decides under the event's lock and then writes three rows; in a rush everyone
else waits while the lock is held, and each statement sent alone costs a round trip there. On
PostgreSQL statements can travel together in one query message (psycopg2 sends a query with
its parameters bound, so several separated by semicolons go as one): inside a `batched()` block,
INSERTs whose rows need nothing back from the database wait and go together with the next
statement that does, or at the end of the block. Elsewhere (SQLite) each runs on its own, in
the same order, with the same result.

Each statement still runs on its own snapshot and in order, as it would sent alone: a read sent
after a lock in the same message counts what was committed before the lock was granted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import AutoField, Model
from django.db.models.sql import InsertQuery

from . import prepared
from .prepared import Prepared

Statement = tuple[str | Prepared, Sequence | Mapping]

_current: ContextVar[Batch | None] = ContextVar("batch", default=None)


def together(connection) -> bool:
    """Whether this database takes several statements in one query message."""
    return connection.vendor == "postgresql"


def run_together(statements: list[Statement], using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    """Run `statements` in order, in one round trip where the database allows it, and return the
    rows of the last one (none if it returns none). A `Prepared` statement takes named
    parameters."""
    connection = connections[using]
    # Connected first: a new connection has none of the statements prepared on the one before.
    connection.ensure_connection()
    sent, preparing = [], []
    for sql, params in statements:
        if isinstance(sql, Prepared):
            expanded, name = prepared.statements(connection, sql, params)
            sent += expanded
            preparing += [name] if name else []
        else:
            sent.append((sql, params))
    try:
        with connection.cursor() as cursor:
            if together(connection) and len(sent) > 1:
                # Each bound on its own (psycopg2 binds on the client), so styles may differ.
                bound = [cursor.mogrify(sql, params or None).decode() for sql, params in sent]
                cursor.execute("; ".join(bound))
            else:
                for sql, params in sent:
                    cursor.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
    except Exception:
        prepared.ran(connection, preparing, ok=False)
        raise
    prepared.ran(connection, preparing, ok=True)
    return rows


@dataclass
class Batch:
    using: str = DEFAULT_DB_ALIAS
    waiting: list[Statement] = field(default_factory=list)

    def add(self, sql: str | Prepared, params: Sequence | Mapping = ()) -> None:
        """A statement whose result nobody reads: it waits for the next round trip."""
        self.waiting.append((sql, params))

    def fetch(self, sql: str | Prepared, params: Sequence | Mapping = ()) -> list[tuple]:
        """Run what waits and then this statement, together; its rows."""
        statements, self.waiting = [*self.waiting, (sql, params)], []
        return run_together(statements, self.using)

    def flush(self) -> None:
        statements, self.waiting = self.waiting, []
        if statements:
            run_together(statements, self.using)


def current(using: str = DEFAULT_DB_ALIAS) -> Batch | None:
    """The batch open on the database `using`, if one is."""
    batch = _current.get()
    return batch if batch is not None and batch.using == using else None


@contextmanager
def batched(using: str = DEFAULT_DB_ALIAS):
    """Inside the block, `insert` lets rows wait and sends them with the next statement that needs
    an answer, or when the block ends. Use it inside a transaction: an error in the block
    discards what waits, and the transaction rolls back what was sent."""
    batch = Batch(using)
    token = _current.set(batch)
    try:
        yield batch
        batch.flush()
    finally:
        _current.reset(token)


def insert(obj: Model, *, on_conflict=None, then: Callable[[object], None] | None = None) -> None:
    """INSERT `obj` as `Model.objects.bulk_create([obj])` would (no signals). Inside `batched()`,
    a row whose primary key is set waits for the batch's round trip; a row without one goes at
    once, with what waits, since its id comes back and what follows may need it.

    `then(pk)` receives the id of the row written, or None when `on_conflict` kept an existing
    row instead (it asks for the id back, so the row goes at once)."""
    batch = _current.get()
    using = batch.using if batch is not None else DEFAULT_DB_ALIAS
    model, meta = type(obj), obj._meta
    # As bulk_create: no generated columns, and no id column for a row that gets its id back.
    fields = [f for f in meta.concrete_fields if not f.generated]
    if obj.pk is None:
        fields = [f for f in fields if not isinstance(f, AutoField)]
    returning = meta.db_returning_fields if obj.pk is None or then is not None else None
    if batch is not None and together(connections[using]):
        sql, params = _insert_statement(connections[using], obj, fields, on_conflict, returning)
        if returning is None:
            batch.add(sql, params)
            rows = []
        else:
            rows = batch.fetch(sql, params)
    else:
        if batch is not None:
            batch.flush()
        rows = model._base_manager.using(using)._insert(
            [obj], fields=fields, returning_fields=returning, on_conflict=on_conflict
        )
    obj._state.adding, obj._state.db = False, using
    written = bool(rows and rows[0])
    if written and returning:
        for value, returned in zip(rows[0], returning, strict=True):
            setattr(obj, returned.attname, value)
    if then is not None:
        then(obj.pk if written else None)


def _insert_statement(connection, obj: Model, fields, on_conflict, returning) -> Statement:
    """The INSERT prepared for the row's shape (its table, columns and conflict clause), with
    the row's values as the ORM prepares them; the ORM's own statement when a value is an
    expression or a field places its value itself."""
    values = [field.pre_save(obj, True) for field in fields]
    if any(hasattr(value, "resolve_expression") for value in values) or any(
        hasattr(field, "get_placeholder") for field in fields
    ):
        query = InsertQuery(type(obj), on_conflict=on_conflict)
        query.insert_values(fields, [obj])
        compiler = query.get_compiler(connection=connection)
        compiler.returning_fields = returning
        [(sql, params)] = compiler.as_sql()
        return sql, params
    shape = (type(obj), tuple(field.attname for field in fields), on_conflict, bool(returning))
    statement = _inserts.get(shape)
    if statement is None:
        statement = _inserts[shape] = _prepared_insert(connection, shape, fields, on_conflict, returning)
    pairs = enumerate(zip(fields, values, strict=True))
    params = {f"v{index}": field.get_db_prep_save(value, connection) for index, (field, value) in pairs}
    return statement, params


# Prepared INSERTs by row shape.
_inserts: dict[tuple, Prepared] = {}


def _prepared_insert(connection, shape, fields, on_conflict, returning) -> Prepared:
    ops, table = connection.ops, shape[0]._meta.db_table
    sql = [
        f"{ops.insert_statement(on_conflict=on_conflict)} {ops.quote_name(table)}",
        f"({', '.join(ops.quote_name(field.column) for field in fields)})",
        f"VALUES ({', '.join(f'%(v{index})s' for index in range(len(fields)))})",
        ops.on_conflict_suffix_sql(fields, on_conflict, [], []),
    ]
    if returning:
        sql.append(ops.return_insert_columns(returning)[0])
    return Prepared(f"insert_{table}_{len(_inserts)}", " ".join(part for part in sql if part))
