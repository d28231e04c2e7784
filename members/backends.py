"""The portal's authentication backends: Django's and allauth's, with the signed-in member read
by one prepared statement.

Every request of a signed-in member loads the member after the session. ModelBackend builds
that query with the ORM each time, which costs more than running it (as with the session, see
network_portal.sessions); here it is written out once and prepared (network_portal.prepared).
Signing in, permissions and everything else are the parent backends'. A session names the
backend that signed its member in: migration 0006 renamed the two that stood here before.
"""

from __future__ import annotations

import functools

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import router

from network_portal.batching import run_together
from network_portal.prepared import Prepared
from network_portal.rows import columns, instances


class _PreparedRead:
    def get_user(self, user_id):
        model = get_user_model()
        try:
            pk = model._meta.pk.to_python(user_id)
        except ValidationError:  # not an id of ours: no member, as ModelBackend's query finds none
            return None
        using = router.db_for_read(model)
        rows = run_together([(_read(model), {"pk": pk})], using)
        if not rows:
            return None
        [user] = instances(rows[0], (model,), using=using)
        return user if self.user_can_authenticate(user) else None


class MemberBackend(_PreparedRead, ModelBackend):
    """Django's ModelBackend (a password and the email address)."""


class AccountBackend(_PreparedRead, AuthenticationBackend):
    """allauth's backend (what allauth signs in itself: a code, a confirmed address)."""


@functools.cache
def _read(model) -> Prepared:
    return Prepared(
        "member_read",
        f"SELECT {columns(model, 'u')} FROM {model._meta.db_table} u "  # noqa: S608
        f'WHERE u."{model._meta.pk.column}" = %(pk)s',
    )
