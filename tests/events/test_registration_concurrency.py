"""Hundreds of people press the button in the same second: on PostgreSQL, with real parallel
transactions, seats and organization quotas are never exceeded and no registration is lost."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction

from events.errors import RegistrationError
from events.models import Registration
from events.services import registrations
from members.models import Organization
from tests import factories
from tests.conftest import make_member

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_organizations"),
]

WORKERS = 32


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip(
            "row locks need PostgreSQL; SQLite serializes all writers (set DATABASE_URL=postgres://...)"
        )


def _in_parallel(calls):
    """Run the calls in WORKERS threads released together; return results or exceptions."""
    start = threading.Event()

    def run(call):
        start.wait()
        try:
            return call()
        except RegistrationError as error:
            return error
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = [pool.submit(run, call) for call in calls]
        start.set()
        return [future.result() for future in futures]


def _members(count_per_org: int, organizations):
    people = []
    for organization in organizations:
        domain = organization.domains.first().domain
        people += [make_member(f"p{i}@{domain}", organization) for i in range(count_per_org)]
    return people


def _assert_invariants(event, quota):
    confirmed = Registration.objects.confirmed().filter(event=event)
    by_occasion = Counter(confirmed.values_list("occasion_id", flat=True))
    for occasion in event.occasions.all():
        assert by_occasion[occasion.pk] <= occasion.capacity, occasion
    by_organization = Counter(confirmed.values_list("organization_id", flat=True))
    assert max(by_organization.values()) <= quota
    active = Counter(Registration.objects.active().filter(event=event).values_list("user_id", flat=True))
    assert set(active.values()) <= {1}
    # Nobody waiting could have a seat: the promotion after each cancel was not lost.
    assert registrations.promote_waitlist(event) == []
    return by_occasion, by_organization


def test_parallel_registrations_never_overbook_and_lose_nothing():
    organizations = list(Organization.objects.filter(kind="municipality", country="SE")[:25])
    event = factories.event(capacities=(28, 28, 28), quota=4)
    occasions = list(event.occasions.all())
    people = _members(8, organizations)  # 200 people, 100 quota places, 84 seats

    calls = [lambda p=p, i=i: registrations.register(p, occasions[i % 3]) for i, p in enumerate(people)]
    # Impatient people press twice.
    calls += [lambda p=p: registrations.register(p, occasions[0]) for p in people[:20]]
    results = _in_parallel(calls)

    assert Registration.objects.filter(event=event).count() == len(people)
    by_occasion, by_organization = _assert_invariants(event, quota=4)
    assert sum(by_occasion.values()) == 84  # demand exceeds supply: every seat is used
    errors = [r for r in results if isinstance(r, RegistrationError)]
    assert all(error.code == "already_registered" for error in errors)


def test_parallel_cancellations_moves_and_registrations_keep_every_invariant():
    organizations = list(Organization.objects.filter(kind="municipality", country="DK")[:12])
    event = factories.event(capacities=(10, 10), quota=3)
    first, second = event.occasions.all()
    people = _members(5, organizations)  # 60 people, 36 quota places, 20 seats
    for index, person in enumerate(people[:40]):
        registrations.register(person, (first, second)[index % 2])

    confirmed = list(Registration.objects.confirmed().filter(event=event).select_related("user"))
    waiting = list(Registration.objects.waitlisted().filter(event=event).select_related("user"))
    calls = [lambda r=r: registrations.cancel(r, actor=r.user) for r in confirmed[:8]]
    calls += [
        lambda r=r: registrations.move(r, second if r.occasion_id == first.pk else first, actor=r.user)
        for r in confirmed[8:14] + waiting[:6]
    ]
    calls += [
        lambda p=p, i=i: registrations.register(p, (first, second)[i % 2]) for i, p in enumerate(people[40:])
    ]
    _in_parallel(calls)

    _assert_invariants(event, quota=3)
    assert Registration.objects.filter(event=event).count() == 60
    assert Registration.objects.confirmed().filter(event=event).count() == 20


def _wait_until_someone_waits_for_a_lock() -> None:
    for _ in range(200):
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("nobody waited for the event's lock")


def test_the_read_sent_with_the_lock_counts_the_seat_taken_while_it_waited():
    """The lock and the read under it travel in one round trip (snapshot.lock_and_read), yet
    the read runs once the lock is granted: it counts the last seat, taken by the member who
    held the lock meanwhile."""
    event = factories.event(capacities=(1,))
    occasion = event.occasions.get()
    first, second = _members(1, Organization.objects.filter(kind="municipality", country="SE")[:2])
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                registrations.register(first, occasion)
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def register_second():
        try:
            return registrations.register(second, occasion)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        held = pool.submit(hold)
        assert holding.wait(timeout=30)
        waiting = pool.submit(register_second)
        _wait_until_someone_waits_for_a_lock()
        release.set()
        held.result(timeout=30)
        registration = waiting.result(timeout=30)
    assert registration.status == Registration.Status.WAITLISTED
    assert registration.wait_reason == Registration.WaitReason.FULL
    assert Registration.objects.confirmed().get(occasion=occasion).user == first
