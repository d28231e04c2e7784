"""Newsletter editions from draft to sent, exactly once: the status machine, the audience and its
delivery rows, test messages, progress, and the tasks that start and carry a send."""

import datetime as dt
import math
from contextlib import contextmanager

import kombu.pools
import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletters import delivery, emails, tasks
from newsletters.models import Delivery, Edition, Subscriber
from tests import factories
from tests.newsletters.editions import delivery_statuses, make_edition, make_subscriber, start_sending

ACTIVE, PENDING_SUB, UNSUBSCRIBED, BOUNCING = (
    Subscriber.Status.ACTIVE,
    Subscriber.Status.PENDING,
    Subscriber.Status.UNSUBSCRIBED,
    Subscriber.Status.BOUNCING,
)
DRAFT, SCHEDULED, SENDING, SENT = (
    Edition.Status.DRAFT,
    Edition.Status.SCHEDULED,
    Edition.Status.SENDING,
    Edition.Status.SENT,
)
Status = Delivery.Status


# ---------------------------------------------------------------------------------------------
# Status transitions


def test_schedule_needs_a_draft_and_a_time_in_the_future(db):
    edition = make_edition()
    with pytest.raises(delivery.EditionStateError) as error:
        delivery.schedule(edition, timezone.now() - dt.timedelta(minutes=1), by=None)
    assert error.value.code == "in_the_past"
    at = timezone.now() + dt.timedelta(hours=2)
    delivery.schedule(edition, at, by=None)
    edition.refresh_from_db()
    assert edition.status == SCHEDULED and edition.scheduled_at == at
    with pytest.raises(delivery.EditionStateError) as error:
        delivery.schedule(edition, at + dt.timedelta(hours=1), by=None)
    assert error.value.code == "already_scheduled"


def test_a_scheduled_edition_does_not_start_before_its_time(db):
    make_subscriber("a@example.org")
    edition = make_edition()
    now = timezone.now()
    delivery.schedule(edition, now + dt.timedelta(hours=1), by=None)
    assert delivery.start_due_editions(now + dt.timedelta(minutes=59)) == []
    assert Delivery.objects.count() == 0
    assert delivery.start_due_editions(now + dt.timedelta(hours=1)) == [edition.pk]
    edition.refresh_from_db()
    assert edition.status == SENDING and edition.started_at and Delivery.objects.count() == 1


def test_two_ticks_start_an_edition_once(db):
    make_subscriber("a@example.org")
    edition = make_edition()
    delivery.send_now(edition, by=None)
    assert delivery.start_due_editions() == [edition.pk]
    assert delivery.start_due_editions() == []
    assert Delivery.objects.count() == 1


def test_double_click_on_send_now_sends_once(db, django_capture_on_commit_callbacks):
    for number in range(3):
        make_subscriber(f"reader{number}@example.org")
    edition = make_edition()
    with django_capture_on_commit_callbacks(execute=True):
        delivery.send_now(edition, by=None)
    with pytest.raises(delivery.EditionStateError) as error:
        delivery.send_now(edition, by=None)
    assert error.value.code == "already_sent"
    assert sorted(message.to[0] for message in mail.outbox) == [f"reader{n}@example.org" for n in range(3)]
    edition.refresh_from_db()
    assert edition.status == SENT and edition.sent_at


def test_double_click_before_the_start_still_starts_once(db):
    make_subscriber("a@example.org")
    edition = make_edition()
    delivery.send_now(edition, by=None)
    delivery.send_now(edition, by=None)  # the first click's start has not run yet
    assert delivery.start_due_editions() == [edition.pk]
    assert delivery.start_due_editions() == []
    assert Delivery.objects.count() == 1


def test_an_edition_sending_or_sent_is_never_sent_again(db):
    make_subscriber("a@example.org")
    edition = start_sending(make_edition())
    for action in (
        lambda: delivery.send_now(edition, by=None),
        lambda: delivery.schedule(edition, timezone.now() + dt.timedelta(days=1), by=None),
        lambda: delivery.cancel_schedule(edition, by=None),
    ):
        with pytest.raises(delivery.EditionStateError) as error:
            action()
        assert error.value.code == "already_sent"
    Edition.objects.filter(pk=edition.pk).update(status=SENT)
    with pytest.raises(delivery.EditionStateError):
        delivery.send_now(edition, by=None)
    assert Delivery.objects.count() == 1


def test_cancel_schedule_makes_a_draft_again(db):
    edition = make_edition()
    delivery.schedule(edition, timezone.now() + dt.timedelta(hours=1), by=None)
    delivery.cancel_schedule(edition, by=None)
    edition.refresh_from_db()
    assert edition.status == DRAFT and edition.scheduled_at is None
    assert delivery.start_due_editions(timezone.now() + dt.timedelta(days=1)) == []
    with pytest.raises(delivery.EditionStateError) as error:
        delivery.cancel_schedule(edition, by=None)
    assert error.value.code == "not_scheduled"


# ---------------------------------------------------------------------------------------------
# Audience and delivery rows


def test_audience_is_active_subscribers_of_the_topics_or_of_everything(db):
    charging = factories.theme("charging", "Charging")
    cycling = factories.theme("cycling", "Cycling")
    make_subscriber("everything@example.org")
    make_subscriber("charging@example.org", topics=[charging])
    make_subscriber("both@example.org", topics=[charging, cycling])
    make_subscriber("cycling@example.org", topics=[cycling])
    make_subscriber("left@example.org", status=UNSUBSCRIBED, topics=[charging])
    make_subscriber("bouncing@example.org", status=BOUNCING)
    make_subscriber("unconfirmed@example.org", status=PENDING_SUB)
    edition = make_edition()
    edition.topics.set([charging])
    start_sending(edition)
    assert sorted(delivery_statuses(edition)) == [
        "both@example.org",
        "charging@example.org",
        "everything@example.org",
    ]
    assert set(delivery_statuses(edition).values()) == {Status.PENDING}

    for_everyone = start_sending(make_edition(subject="For everyone"))
    assert len(delivery_statuses(for_everyone)) == 4


def test_writing_the_audience_again_adds_no_row(db):
    for number in range(5):
        make_subscriber(f"reader{number}@example.org")
    edition = start_sending(make_edition())
    assert delivery._write_deliveries(edition, chunk_size=2) == 5  # ignore_conflicts keeps the rows
    assert edition.deliveries.count() == 5


def test_an_edition_for_nobody_is_sent_at_once(db):
    edition = start_sending(make_edition())
    assert edition.status == SENT and edition.deliveries.count() == 0


def test_starting_reads_the_audience_in_chunks_whatever_its_size(db, published):
    """A bounded number of queries however many subscribers: one read of the audience and one
    INSERT per chunk, nothing per subscriber (the memory proxy)."""

    def start_for(count: int) -> list[str]:
        Subscriber.objects.all().delete()
        Subscriber.objects.bulk_create(
            Subscriber(email=f"r{count}-{n}@example.org", status=ACTIVE, language="en") for n in range(count)
        )
        edition = make_edition()
        delivery.send_now(edition, by=None)
        with CaptureQueriesContext(connection) as queries:
            delivery.start_due_editions(chunk_size=50)
        assert edition.deliveries.count() == count
        return [query["sql"] for query in queries.captured_queries]

    small, large = start_for(10), start_for(200)
    inserts = [sql for sql in large if sql.startswith("INSERT")]
    assert len(inserts) == math.ceil(200 / 50)
    assert len([sql for sql in small if sql.startswith("INSERT")]) == 1
    assert len(large) - len(small) == len(inserts) - 1


# ---------------------------------------------------------------------------------------------
# Tests to the organizer, progress


def test_a_test_message_is_not_a_delivery(db):
    make_subscriber("reader@example.org")
    edition = make_edition()
    emails.send_test(edition, "organizer@kl.dk", language="en")
    [message] = mail.outbox
    assert message.to == ["organizer@kl.dk"] and message.subject == "[TEST] Spring on two wheels"
    assert "List-Unsubscribe" in message.extra_headers
    assert Delivery.objects.count() == 0
    edition.refresh_from_db()
    assert edition.status == DRAFT


def test_progress_counts_in_one_query(db, django_assert_num_queries):
    for number in range(4):
        make_subscriber(f"reader{number}@example.org")
    edition = start_sending(make_edition())
    records = list(edition.deliveries.order_by("pk"))
    Delivery.objects.filter(pk=records[0].pk).update(status=Status.SENT)
    Delivery.objects.filter(pk=records[1].pk).update(status=Status.FAILED)
    Delivery.objects.filter(pk=records[2].pk).update(status=Status.SKIPPED)
    with django_assert_num_queries(1):
        counts = delivery.progress(edition)
    assert counts == {"sent": 1, "failed": 1, "skipped": 1, "remaining": 1, "total": 4}


# ---------------------------------------------------------------------------------------------
# Tasks


def test_the_tick_starts_a_due_edition_and_sends_it_batch_by_batch(
    db, settings, django_capture_on_commit_callbacks
):
    settings.NEWSLETTER_BATCH_SIZE = 2
    for number in range(5):
        make_subscriber(f"reader{number}@example.org")
    edition = make_edition()
    delivery.schedule(edition, timezone.now() + dt.timedelta(minutes=1), by=None)
    Edition.objects.filter(pk=edition.pk).update(scheduled_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.newsletter_tick()["started"] == 1  # inline, the chain loops instead of nesting
    assert sorted(m.to[0] for m in mail.outbox) == [f"reader{n}@example.org" for n in range(5)]
    edition.refresh_from_db()
    assert edition.status == SENT
    assert tasks.newsletter_tick() == {"started": 0, "recovered": 0, "failed": 0, "republished": 0}


def test_housekeeping_runs_the_subscription_rules(db):
    assert tasks.newsletter_housekeeping() == {"removed": 0, "alerts": 0}


@contextmanager
def _broker_down():
    """Publishing goes to a Redis where nothing listens."""
    from network_portal.celery import app

    def reset_pools():
        kombu.pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    reset_pools()
    try:
        yield
    finally:
        app.conf.task_always_eager = previous
        app.conf.broker_url = "memory://localhost/"
        reset_pools()


def test_with_the_broker_down_send_now_leaves_the_start_to_the_tick(db, django_capture_on_commit_callbacks):
    make_subscriber("reader@example.org")
    edition = make_edition()
    with _broker_down(), django_capture_on_commit_callbacks(execute=True):
        delivery.send_now(edition, by=None)  # no error for the organizer
        assert delivery.publish_batch(edition.pk) is False
    edition.refresh_from_db()
    assert edition.status == SCHEDULED and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        tasks.newsletter_tick()  # the broker is back
    assert [m.to[0] for m in mail.outbox] == ["reader@example.org"]
    edition.refresh_from_db()
    assert edition.status == SENT
