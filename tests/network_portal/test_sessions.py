"""Sessions read with one prepared statement (network_portal.sessions): what Django's database
store loads, and nothing for a session expired or unknown."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from network_portal.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _saved(data: dict) -> str:
    store = SessionStore()
    store.update(data)
    store.save()
    return store.session_key


def test_the_portal_uses_it():
    assert settings.SESSION_ENGINE == "network_portal.sessions"


def test_a_session_loads_what_was_saved_in_one_statement():
    key = _saved({"language": "sv", "count": 3})
    with CaptureQueriesContext(connection) as queries:
        store = SessionStore(key)
        assert store["language"] == "sv" and store["count"] == 3
    [read] = [query["sql"] for query in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert "EXECUTE session_read" in read
    assert store.session_key == key


@pytest.mark.parametrize("how", ["expired", "unknown"])
def test_an_expired_or_unknown_session_loads_nothing_and_gets_a_new_key(how):
    key = _saved({"language": "da"})
    if how == "expired":
        Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    else:
        key = "x" * 32
    store = SessionStore(key)
    assert store.load() == {}
    assert store.session_key is None  # as Django's store: a request with it starts a new session


def test_signing_in_and_reading_a_page_goes_through_it(client, member):
    client.force_login(member)
    assert client.session.session_key
    response = client.get("/")
    assert response.status_code == 200 and response.wsgi_request.user == member
