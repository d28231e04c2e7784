"""Django's database cache with `set` as one statement.

Django's `set` counts the table's rows (to cull past MAX_ENTRIES), then reads the key, writes it
and commits: five round trips, and the count reads the whole table (up to 10,000 stored pages).
Every registration sets a key (the version of the public pages), so in a rush those round trips
were a large part of each registration.
Here `set` is one INSERT ... ON CONFLICT DO UPDATE (PostgreSQL and SQLite), and the rows are
counted on a cache's first set and then every CULL_CHECK_EVERY sets: a table may outgrow
MAX_ENTRIES by that many per process until the next count culls it. `set_in_batch` writes the
key as a statement of an open batch (network_portal.batching), in the batch's transaction.
Everything else (`add`, `touch`, reading, culling itself) is Django's.
"""

import base64
import functools
import itertools
import pickle
import re
from datetime import UTC, datetime

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router
from django.utils.timezone import now as tz_now

from . import batching
from .batching import Statement, run_together
from .prepared import Prepared

CULL_CHECK_EVERY = 20


class DatabaseCache(DjangoDatabaseCache):
    def __init__(self, table, params):
        super().__init__(table, params)
        self._sets = itertools.count()

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        if connection.vendor not in ("postgresql", "sqlite"):
            return super().set(key, value, timeout, version)
        if next(self._sets) % CULL_CHECK_EVERY == 0:
            with connection.cursor() as cursor:
                self._cull_if_full(db, cursor)
        run_together([self._upsert(connection, key, value, timeout, version)], db)

    def set_in_batch(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        """`set` as a statement of the batch open on this cache's database: it goes with the
        batch's rows and belongs to their transaction (kept if it commits, gone if it rolls
        back); the row stays locked until the end of that transaction. Returns False, doing
        nothing, when no batch is open there. Culls nothing: a batch is a short locked section."""
        db = router.db_for_write(self.cache_model_class)
        batch = batching.current(db)
        if batch is None or connections[db].vendor not in ("postgresql", "sqlite"):
            return False
        batch.add(*self._upsert(connections[db], key, value, timeout, version))
        return True

    def _upsert(self, connection, key, value, timeout, version) -> Statement:
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        expires = datetime.max if timeout is None else datetime.fromtimestamp(timeout, tz=UTC)
        encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        expires = connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0))
        return _upsert(self._table), {"key": key, "value": encoded, "expires": expires}

    def _cull_if_full(self, db, cursor) -> None:
        cursor.execute(f"SELECT COUNT(*) FROM {connections[db].ops.quote_name(self._table)}")  # noqa: S608
        rows = cursor.fetchone()[0]
        if rows > self._max_entries:
            self._cull(db, cursor, tz_now().replace(microsecond=0), rows)


@functools.cache
def _upsert(table: str) -> Prepared:
    # Prepared (network_portal.prepared): every registration sets the public pages' version.
    # Quoted as both PostgreSQL and SQLite quote names.
    quote = '"{}"'.format
    key, value, expires = quote("cache_key"), quote("value"), quote("expires")
    return Prepared(
        "cache_set_" + re.sub(r"\W", "_", table),
        f"INSERT INTO {quote(table)} ({key}, {value}, {expires}) VALUES (%(key)s, %(value)s, %(expires)s)"  # noqa: S608
        f" ON CONFLICT ({key}) DO UPDATE SET {value} = EXCLUDED.{value}, {expires} = EXCLUDED.{expires}",
    )
