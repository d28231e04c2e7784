"""The reminder job in batches: a fixed number of queries per batch of registrations, as many
for 5 reminders as for 40 and whatever else the database holds, and still each reminder written
once, in its member's language, even when runs of the job overlap."""

import datetime as dt
import itertools
import threading
from collections import Counter

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events import reminders
from events.models import DayPart, Event, Occasion, Registration
from events.services import lifecycle
from mail.models import OutgoingMessage
from members.models import Organization, User
from tests import factories

pytestmark = pytest.mark.usefixtures("reference_organizations")

Status = Registration.Status
_people = iter(range(1_000_000))


def _occasion_in(days: float, *, reminder_days=None, status=Event.Status.PUBLISHED) -> Occasion:
    event = factories.event(status=status)
    if reminder_days is not None:
        event.reminder_days = reminder_days
        event.save(update_fields=["reminder_days"])
    occasion = event.occasions.get()
    start = timezone.now() + dt.timedelta(days=days)
    DayPart.objects.filter(occasion=occasion).update(starts_at=start, ends_at=start + dt.timedelta(hours=3))
    lifecycle.refresh_schedule(event)
    occasion.refresh_from_db()
    return occasion


def _participants(
    occasion: Occasion,
    count: int,
    *,
    languages=("",),
    status=Status.CONFIRMED,
    confirmed_days_ago: float = 30,
    last_reminder_days: int | None = None,
) -> list[Registration]:
    """`count` members registered for `occasion`, written as the registration service leaves
    them (the job reads only the rows)."""
    organization = Organization.objects.filter(kind="municipality").first()
    numbers = [next(_people) for _ in range(count)]
    users = User.objects.bulk_create(
        User(
            email=f"p{number}@batch.example",
            full_name=f"Person {number}",
            organization=organization,
            preferred_language=languages[index % len(languages)],
        )
        for index, number in enumerate(numbers)
    )
    confirmed_at = timezone.now() - dt.timedelta(days=confirmed_days_ago)
    return Registration.objects.bulk_create(
        Registration(
            user=user,
            event_id=occasion.event_id,
            occasion=occasion,
            organization=organization,
            status=status,
            confirmed_at=confirmed_at if status == Status.CONFIRMED else None,
            last_reminder_days=last_reminder_days,
        )
        for user in users
    )


def _run(at=None) -> tuple[int, int]:
    """The job's return value and its number of queries, the outbox's bulk INSERT counted once:
    on SQLite, Django splits it into statements of at most 999 parameters (37 messages)."""
    with CaptureQueriesContext(connection) as queries:
        sent = lifecycle.send_due_reminders(at)
    outbox_insert = [
        query["sql"].startswith("INSERT") and OutgoingMessage._meta.db_table in query["sql"].split("(")[0]
        for query in queries
    ]
    split = sum(1 for before, this in itertools.pairwise(outbox_insert) if before and this)
    assert split == 0 or connection.vendor == "sqlite"
    return sent, len(queries) - split


def _reminder_keys() -> list[str]:
    return list(OutgoingMessage.objects.filter(kind="reminder").values_list("idempotency_key", flat=True))


def test_as_many_queries_for_40_reminders_as_for_5():
    _participants(_occasion_in(6.5), 5)
    sent, few = _run()
    assert sent == 5

    # 40 more, on three occasions, in the 7-day, 1-day and a 3-day window of their events.
    _participants(_occasion_in(6.5), 15)
    _participants(_occasion_in(0.5), 15)
    _participants(_occasion_in(2.5, reminder_days=[3]), 10)
    sent, many = _run()
    assert sent == 40
    assert many == few
    assert len(_reminder_keys()) == len(set(_reminder_keys())) == 45

    assert lifecycle.send_due_reminders() == 0  # the job runs again: nothing twice
    assert len(_reminder_keys()) == 45


def test_registrations_that_are_not_due_add_no_queries():
    _participants(_occasion_in(6.5), 5)
    _sent, before = _run()

    due = _occasion_in(6.5)
    _participants(due, 5)
    _participants(due, 40, last_reminder_days=7)  # reminded already
    _participants(due, 40, confirmed_days_ago=0.25)  # seat taken after the 7-day point
    _participants(due, 30, status=Status.WAITLISTED)
    _participants(due, 30, status=Status.CANCELLED)
    _participants(_occasion_in(120), 200)  # months away
    _participants(_occasion_in(6.5, status=Event.Status.CANCELLED), 30)
    _participants(_occasion_in(-1), 30)  # over already
    sent, after = _run()

    assert sent == 5
    assert after == before
    assert OutgoingMessage.objects.filter(kind="reminder").count() == 10


def test_each_reminder_is_written_as_before_in_its_members_language(django_capture_on_commit_callbacks):
    occasion = _occasion_in(0.5)
    registered = _participants(occasion, 6, languages=("sv", "da", ""))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.send_due_reminders() == 6

    starts = int(occasion.starts_at.timestamp())
    written = OutgoingMessage.objects.filter(kind="reminder")
    messages = {message.idempotency_key: message for message in written}
    assert set(messages) == {f"reminder:{registration.pk}:1d:{starts}" for registration in registered}
    for registration in registered:
        message = messages[f"reminder:{registration.pk}:1d:{starts}"]
        user = registration.user
        assert message.recipient == user.email
        assert message.user_id == user.pk
        assert message.language == (user.preferred_language or settings.LANGUAGE_CODE)
        assert message.team_id == occasion.event.team_id
        assert message.about == {"registration": registration.pk, "days": 1}
    # Published after the commit and rendered by the worker, as before.
    assert len(mail.outbox) == 6
    swedish = next(m for m in mail.outbox if m.to == [registered[0].user.email])
    assert swedish.subject.startswith("I morgon")


def test_more_reminders_than_a_batch_are_all_written_once(monkeypatch):
    monkeypatch.setattr(reminders, "BATCH", 4)
    monkeypatch.setattr(reminders, "WINDOWS_PER_READ", 2)
    _participants(_occasion_in(6.5), 7)
    _participants(_occasion_in(0.5), 4)
    _participants(_occasion_in(2.5, reminder_days=[3]), 1)
    assert lifecycle.send_due_reminders() == 12
    assert lifecycle.send_due_reminders() == 0
    keys = _reminder_keys()
    assert len(keys) == len(set(keys)) == 12


def test_a_batch_another_run_claimed_part_of_is_read_again(monkeypatch):
    """Between reading a batch and claiming it, an overlapping run may claim some of its
    registrations (without row locks, as on SQLite): the claim then sees that it did not get
    all of them, and the batch is read again instead of reminding anyone twice."""
    occasion = _occasion_in(6.5)
    _participants(occasion, 3)
    (taken,) = _participants(occasion, 1, last_reminder_days=7)  # the other run's claim
    real = reminders.due_batch
    reads = []

    def read_before_the_other_run_claimed(*args, **kwargs):
        batch = real(*args, **kwargs)
        if not reads:
            read_earlier = reminders.Due(
                registration_id=taken.pk,
                occasion_id=occasion.pk,
                days=7,
                starts_at=occasion.starts_at,
                user_id=taken.user_id,
                email=taken.user.email,
                language="",
                team_id=occasion.event.team_id,
            )
            batch = [*batch, read_earlier]
        reads.append(batch)
        return batch

    monkeypatch.setattr(reminders, "due_batch", read_before_the_other_run_claimed)
    assert lifecycle.send_due_reminders() == 3
    assert len(reads) == 2
    keys = _reminder_keys()
    assert len(keys) == 3 and not any(key.startswith(f"reminder:{taken.pk}:") for key in keys)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_overlapping_runs_write_each_reminder_once():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serializes all writers")
    registered = _participants(_occasion_in(6.5), 150) + _participants(_occasion_in(0.5), 150)
    start = threading.Event()
    results = []

    def run():
        start.wait()
        try:
            results.append(lifecycle.send_due_reminders())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join()

    assert sum(results) == len(registered) == 300
    counts = Counter(key.split(":")[1] for key in _reminder_keys())
    assert set(counts.values()) == {1}
    assert set(counts) == {str(registration.pk) for registration in registered}
