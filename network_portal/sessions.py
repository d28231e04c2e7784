"""Django's database sessions, read with one prepared statement.

Every request of a signed-in member reads its session first. Django's store builds that query
with the ORM on every request, which costs more than running it; here it is written out once
and prepared (network_portal.prepared). Writing, expiring and everything else is Django's.
"""

from __future__ import annotations

import functools

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from .batching import run_together
from .prepared import Prepared
from .rows import columns, instances


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        using = router.db_for_read(self.model)
        now = connections[using].ops.adapt_datetimefield_value(timezone.now())
        rows = run_together([(_read(self.model), {"key": self.session_key, "now": now})], using)
        if not rows:
            self._session_key = None  # gone or expired: as Django's store, start anew
            return None
        [session] = instances(rows[0], (self.model,), using=using)
        return session


@functools.cache
def _read(model) -> Prepared:
    key, expires = (model._meta.get_field(name).column for name in ("session_key", "expire_date"))
    return Prepared(
        "session_read",
        f"""SELECT {columns(model, "s")} FROM {model._meta.db_table} s
        WHERE s.{key} = %(key)s AND s.{expires} > %(now)s""",  # noqa: S608
    )
