"""The queries a registration makes while it holds the event's lock, pinned: in a rush every
other member of the event waits for them, so they must not creep back up (the rush of
bench/run.py). Counted from the SELECT ... FOR UPDATE to the end of the transaction."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events.models import Registration
from events.services import registrations
from tests import factories
from tests.conftest import make_member

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("reference_organizations")]

# Round trips while the lock is held: the lock with one read of everything the decision needs
# (the event, the member, the occasion, both seat counts, an earlier registration, ids for the
# rows), the registration with its log and its outbox row (INSERTs that wait for no id back),
# and the end of the transaction (COMMIT; RELEASE SAVEPOINT inside a test's transaction).
UNDER_LOCK = 3
DATABASE_CACHE = {
    "default": {"BACKEND": "network_portal.cache.DatabaseCache", "LOCATION": "lock_cache"},
    # The public pages' version goes with the registration's rows (network_portal.cache).
    "pages": {"BACKEND": "network_portal.cache.DatabaseCache", "LOCATION": "pages_version"},
}


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the lock is a SELECT ... FOR UPDATE on PostgreSQL (set DATABASE_URL=postgres://...)")


def _under_lock(queries) -> list[str]:
    sql = [query["sql"] for query in queries.captured_queries]
    # The lock is prepared on the connection's first registration and run by name after.
    start = next(
        index
        for index, statement in enumerate(sql)
        if "FOR UPDATE" in statement or "EXECUTE event_lock" in statement
    )
    return sql[start:]


def _register(member, occasion) -> tuple[Registration, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        registration = registrations.register(member, occasion)
    return registration, _under_lock(queries)


def _crowded_event(aarhus, odense):
    """Three seats per organization; the first occasion full with Aarhus, two of Odense on
    the second."""
    event = factories.event(capacities=(3, 5), quota=3)
    first, second = event.occasions.order_by("pk")
    for index in range(3):
        registrations.register(make_member(f"a{index}@aarhus.dk", aarhus), first)
    for index in range(2):
        registrations.register(make_member(f"o{index}@odense.dk", odense), second)
    return first, second


def test_every_outcome_holds_the_lock_for_the_same_few_queries(member, aarhus, odense):
    first, second = _crowded_event(aarhus, odense)
    outcomes = {
        "quota": _register(member, second),
        "full": _register(make_member("late@odense.dk", odense), first),
        "seat": _register(make_member("last@odense.dk", odense), second),
    }
    assert {
        name: registration.wait_reason or registration.status for name, (registration, _) in outcomes.items()
    } == {
        "quota": Registration.WaitReason.QUOTA,
        "full": Registration.WaitReason.FULL,
        "seat": Registration.Status.CONFIRMED,
    }
    for _, locked in outcomes.values():
        assert len(locked) == UNDER_LOCK, "\n".join(locked)


def test_the_count_does_not_grow_with_the_registrations(member, colleague, aarhus):
    event = factories.event(capacities=(40,))
    occasion = event.occasions.get()
    registration, few = _register(member, occasion)
    assert registration.status == Registration.Status.CONFIRMED
    for index in range(12):
        registrations.register(make_member(f"p{index}@aarhus.dk", aarhus), occasion)
    registration, many = _register(colleague, occasion)
    assert registration.status == Registration.Status.CONFIRMED
    assert len(few) == len(many) == UNDER_LOCK, "\n".join(many)


def test_a_second_press_returns_the_first_registration_within_the_count(member):
    occasion = factories.event().occasions.get()
    first = registrations.register(member, occasion)
    again, locked = _register(member, occasion)
    assert again == first and Registration.objects.filter(user=member).count() == 1
    # The lock with the read, the registration it found, the end of the transaction.
    assert len(locked) == 3, "\n".join(locked)


def test_the_rate_limit_reads_once_before_the_lock_and_writes_nothing_of_its_own(member, settings):
    """The limit is one read before the lock (a refused flood never waits for it) and is
    counted in the log entry the change writes anyway: nothing in the cache, no statement of
    its own under the lock or after the commit."""
    settings.CACHES = DATABASE_CACHE
    call_command("createcachetable", verbosity=0)
    occasion = factories.event().occasions.get()
    with CaptureQueriesContext(connection) as queries:
        registration = registrations.register(member, occasion)
    assert registration.status == Registration.Status.CONFIRMED
    sql = [query["sql"] for query in queries.captured_queries]
    locked = _under_lock(queries)
    before = sql[: len(sql) - len(locked)]
    assert len(locked) == UNDER_LOCK, "\n".join(locked)
    # The count, prepared on the connection's first registration and run by name after.
    counts = [s for s in before if "events_registrationlog" in s or "EXECUTE counted_changes" in s]
    assert len(counts) == 1, before
    assert not [statement for statement in sql if "lock_cache" in statement]
    # The pages' new version is the one cache write, in the message with the rows.
    [version] = [statement for statement in sql if "pages_version" in statement]
    assert version in locked and "events_registration" in version


def test_the_posted_form_reads_the_occasion_with_its_event_in_one_query(client, member):
    """Before the lock a POST reads the session, the member, the chosen occasion with its event
    (one query: the form validates the choice against it) and the limit on changes."""
    occasion = factories.event().occasions.get()
    client.force_login(member)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("events:register", args=[occasion.event.slug]), {"occasion": occasion.pk}
        )
    assert response.status_code == 302
    assert Registration.objects.get(user=member).occasion == occasion
    sql = [query["sql"] for query in queries.captured_queries]
    before = sql[: len(sql) - len(_under_lock(queries))]
    # Prepared on the connection's first POST (PREPARE names the tables), run by name after.
    reads = [s for s in before if "events_event" in s or "events_occasion" in s or "posted_occasion" in s]
    assert len(reads) == 1, before
    assert "EXECUTE posted_occasion" in reads[0], reads[0]
