"""The database cache production uses (CACHE_URL=dbcache://): Django's, with `set` as one
statement. Every registration writes a key after its commit (the version of the public pages);
Django's `set` counted the table's rows and then read, wrote and committed, five round trips."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "network_portal.cache.DatabaseCache", "LOCATION": "test_cache"},
        "small": {
            "BACKEND": "network_portal.cache.DatabaseCache",
            "LOCATION": "test_cache_small",
            "OPTIONS": {"MAX_ENTRIES": 30, "CULL_FREQUENCY": 2},
        },
    }
    call_command("createcachetable", verbosity=0)
    yield caches["default"]
    caches["default"].clear()
    caches["small"].clear()


def _production_caches() -> dict:
    """CACHES as the production settings make them from CACHE_URL=dbcache://portal_cache."""
    env = {"PATH": os.environ["PATH"], "DEBUG": "true", "CACHE_URL": "dbcache://portal_cache"}
    code = "import json; from django.conf import settings as s; print(json.dumps(s.CACHES))"
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, check=True,
        env={**env, "DJANGO_SETTINGS_MODULE": "network_portal.settings"},
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def test_production_settings_choose_it():
    production = _production_caches()
    assert [production[alias]["BACKEND"] for alias in ("default", "pages")] == [
        "network_portal.cache.DatabaseCache"
    ] * 2


def test_set_is_one_statement_outside_a_transaction(cache):
    cache.set("warm", 1)  # the first set of a cache counts its rows (see culling below)
    for value in ([1.5], [1.5, 2.5]):  # a new key, then the same key again
        with CaptureQueriesContext(connection) as queries:
            cache.set("counter:7", value, 60)
        assert len(queries.captured_queries) == 1, [query["sql"] for query in queries.captured_queries]
        assert cache.get("counter:7") == value


def test_it_keeps_what_djangos_database_cache_promises(cache):
    cache.set("forever", "kept", None)
    cache.set("gone", "soon", -1)  # a timeout in the past: expired at once
    assert cache.get("forever") == "kept" and cache.get("gone") is None
    assert cache.add("forever", "other") is False and cache.get("forever") == "kept"
    assert cache.add("gone", "back") is True and cache.get("gone") == "back"
    cache.set_many({"a": {"nested": [1]}, "b": b"bytes"}, 60)
    assert cache.get_many(["a", "b", "c"]) == {"a": {"nested": [1]}, "b": b"bytes"}
    assert cache.touch("a", 120) is True and cache.touch("never-set", 120) is False
    cache.delete("a")
    assert cache.get("a") is None


def test_it_still_culls_past_max_entries(cache):
    """Counting the rows on every set was the cost: it counts on its first set and then every
    CULL_CHECK_EVERY sets of the process, so the table may outgrow MAX_ENTRIES by that many."""
    from network_portal.cache import CULL_CHECK_EVERY

    small = caches["small"]
    for index in range(200):
        small.set(f"page:{index}", index, 300)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM test_cache_small")
        rows = cursor.fetchone()[0]
    assert rows <= 30 + CULL_CHECK_EVERY
    assert small.get("page:199") == 199


def test_a_counter_survives_a_busy_hour_with_the_production_settings(settings):
    """Sign-in's rate limits (allauth) count in the default cache; with Django's MAX_ENTRIES of
    300 a few hundred other keys culled a third of the counters."""
    production = _production_caches()["default"]
    settings.CACHES = {"default": {**production, "LOCATION": "test_cache_busy"}}
    call_command("createcachetable", verbosity=0)
    counter = caches["default"]
    try:
        counter.set("allauth:login_failed:someone", [1, 2, 3], 600)
        for index in range(1_000):
            counter.set(f"other:{index}", index, 600)
        assert counter.get("allauth:login_failed:someone") == [1, 2, 3]
    finally:
        counter.clear()


def test_set_in_a_batch_goes_with_the_rows_and_their_transaction(cache):
    from django.db import transaction

    from network_portal import batching

    assert cache.set_in_batch("outside", 1, None) is False  # no batch open: nothing done
    assert cache.get("outside") is None
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries, batching.batched():
            assert cache.set_in_batch("version", "a", None) is True
            assert queries.captured_queries == []  # it waits for the batch's round trip
        assert len(queries.captured_queries) == 1
    assert cache.get("version") == "a"

    with pytest.raises(RuntimeError), transaction.atomic():
        with batching.batched():
            cache.set_in_batch("version", "b", None)
        raise RuntimeError("rolled back")
    assert cache.get("version") == "a"  # gone with the transaction


def test_a_registration_writes_the_pages_version_with_its_rows(settings, member):
    """The public pages' new version travels with the registration's rows, in its transaction:
    no statement of its own and no commit of its own after (an upsert and a commit each time,
    in a rush)."""
    from events.services import registrations
    from network_portal import page_cache
    from tests import factories

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {"BACKEND": "network_portal.cache.DatabaseCache", "LOCATION": "test_cache_pages"},
    }
    call_command("createcachetable", verbosity=0)
    pages = caches["pages"]
    occasion = factories.event().occasions.get()
    pages.set(page_cache.VERSION_KEY, "before", None)
    with CaptureQueriesContext(connection) as queries:
        registrations.register(member, occasion)
    sql = [query["sql"] for query in queries.captured_queries]
    [write] = [index for index, statement in enumerate(sql) if "test_cache_pages" in statement]
    [row] = [index for index, statement in enumerate(sql) if _writes_a_registration(statement)]
    # Before the commit, with the rows: in their message on PostgreSQL, just before them elsewhere.
    assert write == row if connection.vendor == "postgresql" else write == row - 1, sql
    assert pages.get(page_cache.VERSION_KEY) not in (None, "before")
    pages.clear()


def _writes_a_registration(statement: str) -> bool:
    return (
        'INSERT INTO "events_registration" ' in statement
        or "EXECUTE insert_events_registration_" in statement
    )
