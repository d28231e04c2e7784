"""The portal's authentication backends (members.backends): the signed-in member read by one
prepared statement, as Django's backend would load it, and sessions signed in before them
renamed by a migration so that no one is signed out."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.backends import AccountBackend, MemberBackend
from members.models import User
from network_portal.sessions import SessionStore
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

migration = importlib.import_module("members.migrations.0006_sessions_name_the_new_backends")
OLD_MODEL = "django.contrib.auth.backends.ModelBackend"
OLD_ALLAUTH = "allauth.account.auth_backends.AuthenticationBackend"


def test_the_portal_signs_in_with_its_own_backends_only():
    assert settings.AUTHENTICATION_BACKENDS == [
        "members.backends.MemberBackend",
        "members.backends.AccountBackend",
    ]


@pytest.mark.parametrize("backend", [MemberBackend, AccountBackend])
def test_the_member_is_read_in_one_statement_as_the_orm_loads_them(backend, member):
    with CaptureQueriesContext(connection) as queries:
        user = backend().get_user(str(member.pk))  # a session holds the id as text
    [read] = [query["sql"] for query in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert "EXECUTE member_read" in read
    expected = ModelBackend().get_user(member.pk)
    assert type(user) is User and user.pk == member.pk and user._state.db == "default"
    assert not user._state.adding
    assert model_to_dict(user) == model_to_dict(expected)
    assert (user.date_joined, user.last_login, user.password) == (
        expected.date_joined,
        expected.last_login,
        expected.password,
    )


@pytest.mark.parametrize("backend", [MemberBackend, AccountBackend])
def test_no_member_for_an_unknown_a_malformed_or_an_inactive_id(backend, member):
    assert backend().get_user(member.pk + 1000) is None
    assert backend().get_user("not-an-id") is None
    User.objects.filter(pk=member.pk).update(is_active=False)
    assert backend().get_user(member.pk) is None


def test_a_password_sign_in_is_named_after_the_portals_backend_and_reads_pages(client, member):
    response = client.post(reverse("account_login"), {"login": member.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "members.backends.MemberBackend"
    assert client.get("/").wsgi_request.user == member


def _session(member, backend: str) -> str:
    store = SessionStore()
    store.update(
        {
            SESSION_KEY: str(member.pk),
            BACKEND_SESSION_KEY: backend,
            HASH_SESSION_KEY: member.get_session_auth_hash(),
        }
    )
    store.create()
    return store.session_key


def _signed_in(client, key: str):
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client.get("/").wsgi_request.user


def _rename(renaming=migration.rename_backends) -> int:
    return renaming(apps, SimpleNamespace(connection=connection))


@pytest.mark.parametrize(("old", "new"), [(OLD_MODEL, MemberBackend), (OLD_ALLAUTH, AccountBackend)])
def test_a_session_signed_in_before_stays_signed_in_after_the_migration(client, member, old, new):
    before, other = _session(member, old), _session(member, old)
    assert not _signed_in(client, before).is_authenticated  # what the migration is for
    assert _rename() == 2
    for key in (before, other):
        data = SessionStore(key).load()
        assert data[BACKEND_SESSION_KEY] == f"{new.__module__}.{new.__name__}"
        assert data[SESSION_KEY] == str(member.pk)
    assert _signed_in(client, before) == member


def test_the_migration_leaves_other_sessions_alone_and_goes_back(member):
    current = _session(member, "members.backends.MemberBackend")
    anonymous = SessionStore()
    anonymous["language"] = "sv"
    anonymous.create()
    old = _session(member, OLD_MODEL)
    assert _rename() == 1
    assert SessionStore(current).load()[BACKEND_SESSION_KEY] == "members.backends.MemberBackend"
    assert SessionStore(anonymous.session_key).load() == {"language": "sv"}
    assert _rename(migration.restore_backends) == 2  # back to the backends named before
    assert SessionStore(old).load()[BACKEND_SESSION_KEY] == OLD_MODEL
    assert SessionStore(current).load()[BACKEND_SESSION_KEY] == OLD_MODEL


def test_a_sign_in_by_allauth_itself_is_named_after_the_portals_allauth_backend(client, member, rf):
    """allauth signs members in itself (a code, a confirmed address) with the first backend
    that is its own kind: the portal's, so those sessions read the member prepared too."""
    from allauth.account.adapter import get_adapter
    from django.contrib.messages.storage.fallback import FallbackStorage

    request = rf.get("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    member.refresh_from_db()
    get_adapter(request).login(request, member)
    request.session.save()
    assert request.session[BACKEND_SESSION_KEY] == "members.backends.AccountBackend"
    assert _signed_in(client, request.session.session_key) == member
