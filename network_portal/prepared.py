"""Statements PostgreSQL plans once per connection.

psycopg2 sends each statement as text, which PostgreSQL plans anew every time. For the few that
every member of a registration rush runs, planning costs more than running them (the read under
the event's lock: about 0.5 ms to plan, 0.2 ms to run). On PostgreSQL such a statement is
prepared on a connection the first time it runs there (PREPARE, sent in the same round trip)
and run by its name after (EXECUTE); elsewhere it runs as written.

A prepared statement lives as long as its connection, whatever becomes of the transaction it
was made in. One that names its columns keeps working when a migration adds columns. Behind a
pooler that hands one client's statements to different server connections (PgBouncer in
transaction mode) the names would not be found: the portal connects to PostgreSQL directly.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from django.db.backends.signals import connection_created

_NAMED = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Prepared:
    """`sql` with named parameters, %(name)s; `name` is unique among prepared statements."""

    name: str
    sql: str

    @cached_property
    def parameters(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_NAMED.findall(self.sql)))

    @cached_property
    def positional(self) -> str:
        number = {name: index for index, name in enumerate(self.parameters, start=1)}
        return _NAMED.sub(lambda match: f"${number[match.group(1)]}", self.sql)


@dataclass
class _Connection:
    ready: set[str] = field(default_factory=set)
    # After a failed round trip that held a PREPARE, whether it ran is unknown: names change.
    generation: int = 0


_connections: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _on(connection) -> _Connection:
    state = _connections.get(connection)
    if state is None:
        state = _connections[connection] = _Connection()
    return state


def _new_connection(sender, connection, **kwargs) -> None:
    _connections.pop(connection, None)


connection_created.connect(_new_connection, dispatch_uid="network_portal.prepared")


def statements(connection, prepared: Prepared, params: Mapping) -> tuple[list[tuple[str, Mapping]], str]:
    """What to send for `prepared` on `connection`, and the name to mark ready once it ran
    ("" when there is nothing to mark)."""
    if connection.vendor != "postgresql":
        return [(prepared.sql, params)], ""
    state = _on(connection)
    name = f"{prepared.name}_{state.generation}"
    arguments = ", ".join(f"%({parameter})s" for parameter in prepared.parameters)
    execute = (f"EXECUTE {name}({arguments})", params)
    if name in state.ready:
        return [execute], ""
    return [(f"PREPARE {name} AS {prepared.positional}", {}), execute], name


def ran(connection, names: list[str], ok: bool) -> None:
    """Record what a round trip holding `names`' PREPAREs did."""
    if not names:
        return
    state = _on(connection)
    if ok:
        state.ready.update(names)
    else:
        state.ready.clear()
        state.generation += 1
