"""Several statements in one round trip (network_portal.batching) and statements planned once
per connection (network_portal.prepared): the same rows as the ORM writes, on PostgreSQL in
fewer round trips, elsewhere one statement at a time, each as it comes."""

import time
import uuid

import pytest
from django.contrib.sites.models import Site
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models.constants import OnConflict
from django.test.utils import CaptureQueriesContext

from network_portal import batching
from network_portal.prepared import Prepared


def _on_postgres() -> bool:
    # Read when called: the suite runs on whichever database DATABASE_URL names.
    return connection.vendor == "postgresql"


def _next_site_id() -> int:
    """An id drawn ahead, as the register service draws its rows' ids (PostgreSQL)."""
    if not _on_postgres():
        return 1000 + Site.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('django_site', 'id'))")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_rows_with_their_ids_wait_for_the_next_statement_that_needs_an_answer():
    first = Site(pk=_next_site_id(), domain="first.example", name="First")
    second = Site(domain="second.example", name="Second")
    with transaction.atomic(), CaptureQueriesContext(connection) as queries, batching.batched():
        batching.insert(first)
        assert len(queries) == (0 if _on_postgres() else 1)  # nothing comes back from it: it waits
        batching.insert(second)  # its id comes back: it goes, with what waits
    sent = [query["sql"] for query in queries.captured_queries]
    assert second.pk is not None and not first._state.adding and not second._state.adding
    assert set(Site.objects.filter(pk__in=[first.pk, second.pk]).values_list("domain", flat=True)) == {
        "first.example",
        "second.example",
    }
    if _on_postgres():
        [together] = sent
        assert together.count("INSERT INTO") == 2 and together.index("first.example") < together.index(
            "second.example"
        )
    else:
        assert len(sent) == 2 and "first.example" in sent[0]


@pytest.mark.django_db
def test_what_waits_at_the_end_of_the_block_goes_then():
    rows = [Site(pk=_next_site_id() + offset, domain=f"s{offset}.example", name="S") for offset in range(3)]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        with batching.batched():
            for row in rows:
                batching.insert(row)
            assert len(queries) == (0 if _on_postgres() else 3)
        assert len(queries) == (1 if _on_postgres() else 3)
    assert Site.objects.filter(domain__endswith=".example", name="S").count() == 3


@pytest.mark.django_db
def test_an_error_in_the_block_sends_nothing_that_waits():
    row = Site(pk=_next_site_id(), domain="never.example", name="Never")
    with (
        CaptureQueriesContext(connection) as queries,
        pytest.raises(ZeroDivisionError),
        transaction.atomic(),
        batching.batched(),
    ):
        batching.insert(row)
        1 / 0  # noqa: B018
    sent = [query for query in queries.captured_queries if "never.example" in query["sql"]]
    assert not sent or not _on_postgres()  # elsewhere it went, and the rollback took it back
    assert not Site.objects.filter(domain="never.example").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("in_a_batch", [False, True])
def test_then_learns_whether_the_row_was_written_or_an_existing_one_kept(in_a_batch):
    learned = []
    with transaction.atomic(), batching.batched() if in_a_batch else transaction.atomic():
        for name in ("First", "Again"):
            batching.insert(
                Site(domain="twice.example", name=name), on_conflict=OnConflict.IGNORE, then=learned.append
            )
    site = Site.objects.get(domain="twice.example")
    assert learned == [site.pk, None] and site.name == "First"


# -- prepared statements (PostgreSQL) ---------------------------------------------------------


def _add() -> Prepared:
    # A name of its own in each test: the connection outlives a test, and so do its statements.
    return Prepared(f"test_add_{uuid.uuid4().hex[:8]}", "SELECT %(a)s::int + %(b)s::int")


def _postgres_only():
    if not _on_postgres():
        pytest.skip("prepared statements are PostgreSQL's; elsewhere the statement runs as written")


@pytest.mark.django_db
def test_a_statement_is_prepared_on_its_first_run_and_run_by_name_after():
    _postgres_only()
    add = _add()
    with CaptureQueriesContext(connection) as queries:
        first = batching.run_together([(add, {"a": 2, "b": 3})])
        second = batching.run_together([(add, {"a": 4, "b": 5})])
    assert first == [(5,)] and second == [(9,)]
    sent = [query["sql"] for query in queries.captured_queries]
    assert len(sent) == 2  # PREPARE travels with the first EXECUTE
    assert sent[0].startswith(f"PREPARE {add.name}_") and f"EXECUTE {add.name}_" in sent[0]
    assert sent[1].startswith(f"EXECUTE {add.name}_") and "PREPARE" not in sent[1]


@pytest.mark.django_db
def test_after_a_failed_round_trip_the_statement_is_prepared_again_under_another_name():
    _postgres_only()
    divide = Prepared(f"test_divide_{uuid.uuid4().hex[:8]}", "SELECT %(a)s::int / %(b)s::int")
    with pytest.raises(DatabaseError), transaction.atomic():
        # PREPARE runs, then EXECUTE fails: whether the name exists is not known from here.
        batching.run_together([(divide, {"a": 1, "b": 0})])
    with CaptureQueriesContext(connection) as queries:
        assert batching.run_together([(divide, {"a": 6, "b": 3})]) == [(2,)]
    assert queries.captured_queries[0]["sql"].startswith(f"PREPARE {divide.name}_")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["closed", "too old"])
def test_a_new_connection_prepares_again(how):
    """The connection is replaced as the request begins (CONN_MAX_AGE) or by a later statement:
    either way the new one is told the statement before it runs it."""
    _postgres_only()
    add = _add()
    assert batching.run_together([(add, {"a": 1, "b": 1})]) == [(2,)]
    if how == "closed":
        connection.close()  # the server forgets its prepared statements with the connection
    else:
        connection.close_at = time.monotonic() - 1
        close_old_connections()
    sent = []

    def record(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    # Not CaptureQueriesContext: it connects as it begins, before the statement is looked at.
    with connection.execute_wrapper(record):
        assert batching.run_together([(add, {"a": 2, "b": 2})]) == [(4,)]
    assert sent[0].startswith(f"PREPARE {add.name}_")
