"""Model instances from a row read with SQL written out, as the ORM would have loaded them.

The statements a registration rush runs for every member are written out (and prepared, see
network_portal.prepared): the ORM compiles a query again on every call, which costs more than
running it. Their rows still become model instances with the ORM's conversions (SQLite's dates
arrive as text, JSON as text on PostgreSQL).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model
from django.db.models.sql import Query

# Converters by connection and row shape: finding them costs as much as converting.
_converters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def columns(model: type[Model], alias: str) -> str:
    """The select list `instances` expects for `model`, its table named `alias`."""
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


def instances(
    row: Sequence,
    models: Sequence[type[Model]],
    extra: Sequence[Field | None] = (),
    using: str = DEFAULT_DB_ALIAS,
) -> list:
    """`row` holds the `columns` of each of `models` in turn, then one value per `extra` (the
    field whose type it has, or None to leave it as read). Returns an instance of each model,
    then the extra values."""
    connection = connections[using]
    fields = [field for model in models for field in model._meta.concrete_fields]
    shape = (tuple(models), tuple(extra))
    by_shape = _converters.setdefault(connection, {})
    if shape not in by_shape:
        compiler = connection.ops.compiler("SQLCompiler")(Query(None), connection, using)
        columns_ = [f.get_col(f.model._meta.db_table) for f in fields]
        columns_ += [f.get_col(f.model._meta.db_table) if f is not None else None for f in extra]
        by_shape[shape] = (compiler, compiler.get_converters(columns_))
    compiler, converters = by_shape[shape]
    if converters:
        [row] = compiler.apply_converters([row], converters)
    loaded, start = [], 0
    for model in models:
        names = [field.attname for field in model._meta.concrete_fields]
        loaded.append(model.from_db(using, names, row[start : start + len(names)]))
        start += len(names)
    return [*loaded, *row[start:]]
