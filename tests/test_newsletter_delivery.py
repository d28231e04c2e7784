"""Newsletter editions from draft to sent, exactly once per subscriber: the status machine, the
audience, batches over one SMTP connection, bounces and retries, recovery after a dead worker,
the pace under a rate limit, rendering, the public archive and the organizers' admin."""

import datetime as dt
import math
import re
import smtplib
from contextlib import contextmanager

import kombu.pools
import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation

from events.models import Document
from newsletters import delivery, emails, rendering, tasks, tokens
from newsletters.models import Delivery, Edition, Subscriber
from tests import factories

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


def _subscriber(email: str, *, status=ACTIVE, topics=(), language="en", bounce_count=0) -> Subscriber:
    subscriber = Subscriber.objects.create(
        email=email, status=status, all_topics=not topics, language=language, bounce_count=bounce_count
    )
    subscriber.topics.set(topics)
    return subscriber


def _edition(**fields) -> Edition:
    defaults = {
        "subject": "Spring on two wheels",
        "preheader": "Cargo bikes, charging and a new handbook",
        "body": "Dear reader,\n\nThe **cycling** season opens.\n\n<script>alert(1)</script>",
        "include_upcoming_events": False,
        "include_recent_materials": False,
    }
    return Edition.objects.create(**{**defaults, **fields})


def _started(edition: Edition) -> Edition:
    delivery.send_now(edition, by=None)
    assert delivery.start_due_editions() == [edition.pk]
    edition.refresh_from_db()
    return edition


def _statuses(edition: Edition) -> dict[str, str]:
    return dict(edition.deliveries.values_list("subscriber__email", "status"))


class RecordingBackend(locmem.EmailBackend):
    """The test outbox, counting connections, and refusing the addresses a test names."""

    created = 0
    opened = 0
    failures: dict[str, Exception] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        type(self).created += 1

    def open(self):
        type(self).opened += 1
        return True

    def send_messages(self, messages):
        for message in messages:
            if message.to[0] in self.failures:
                raise self.failures[message.to[0]]
        return super().send_messages(messages)


@pytest.fixture
def backend(settings):
    settings.EMAIL_BACKEND = "tests.test_newsletter_delivery.RecordingBackend"
    RecordingBackend.created = RecordingBackend.opened = 0
    RecordingBackend.failures = {}
    yield RecordingBackend
    RecordingBackend.failures = {}


@pytest.fixture
def published(monkeypatch):
    """Batch tasks published, recorded instead of run."""
    calls = []
    monkeypatch.setattr(
        delivery, "publish_batch", lambda edition_id, size=None: calls.append(edition_id) or True
    )
    return calls


# ---------------------------------------------------------------------------------------------
# Status transitions


def test_schedule_needs_a_draft_and_a_time_in_the_future(db):
    edition = _edition()
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
    _subscriber("a@example.org")
    edition = _edition()
    now = timezone.now()
    delivery.schedule(edition, now + dt.timedelta(hours=1), by=None)
    assert delivery.start_due_editions(now + dt.timedelta(minutes=59)) == []
    assert Delivery.objects.count() == 0
    assert delivery.start_due_editions(now + dt.timedelta(hours=1)) == [edition.pk]
    edition.refresh_from_db()
    assert edition.status == SENDING and edition.started_at and Delivery.objects.count() == 1


def test_two_ticks_start_an_edition_once(db):
    _subscriber("a@example.org")
    edition = _edition()
    delivery.send_now(edition, by=None)
    assert delivery.start_due_editions() == [edition.pk]
    assert delivery.start_due_editions() == []
    assert Delivery.objects.count() == 1


def test_double_click_on_send_now_sends_once(db, django_capture_on_commit_callbacks):
    for number in range(3):
        _subscriber(f"reader{number}@example.org")
    edition = _edition()
    with django_capture_on_commit_callbacks(execute=True):
        delivery.send_now(edition, by=None)
    with pytest.raises(delivery.EditionStateError) as error:
        delivery.send_now(edition, by=None)
    assert error.value.code == "already_sent"
    assert sorted(message.to[0] for message in mail.outbox) == [f"reader{n}@example.org" for n in range(3)]
    edition.refresh_from_db()
    assert edition.status == SENT and edition.sent_at


def test_double_click_before_the_start_still_starts_once(db):
    _subscriber("a@example.org")
    edition = _edition()
    delivery.send_now(edition, by=None)
    delivery.send_now(edition, by=None)  # the first click's start has not run yet
    assert delivery.start_due_editions() == [edition.pk]
    assert delivery.start_due_editions() == []
    assert Delivery.objects.count() == 1


def test_an_edition_sending_or_sent_is_never_sent_again(db):
    _subscriber("a@example.org")
    edition = _started(_edition())
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
    edition = _edition()
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
    _subscriber("everything@example.org")
    _subscriber("charging@example.org", topics=[charging])
    _subscriber("both@example.org", topics=[charging, cycling])
    _subscriber("cycling@example.org", topics=[cycling])
    _subscriber("left@example.org", status=UNSUBSCRIBED, topics=[charging])
    _subscriber("bouncing@example.org", status=BOUNCING)
    _subscriber("unconfirmed@example.org", status=PENDING_SUB)
    edition = _edition()
    edition.topics.set([charging])
    _started(edition)
    assert sorted(_statuses(edition)) == [
        "both@example.org",
        "charging@example.org",
        "everything@example.org",
    ]
    assert set(_statuses(edition).values()) == {Status.PENDING}

    for_everyone = _started(_edition(subject="For everyone"))
    assert len(_statuses(for_everyone)) == 4


def test_writing_the_audience_again_adds_no_row(db):
    for number in range(5):
        _subscriber(f"reader{number}@example.org")
    edition = _started(_edition())
    assert delivery._write_deliveries(edition, chunk_size=2) == 5  # ignore_conflicts keeps the rows
    assert edition.deliveries.count() == 5


def test_an_edition_for_nobody_is_sent_at_once(db):
    edition = _started(_edition())
    assert edition.status == SENT and edition.deliveries.count() == 0


def test_starting_reads_the_audience_in_chunks_whatever_its_size(db, published):
    """A bounded number of queries however many subscribers: one read of the audience and one
    INSERT per chunk, nothing per subscriber (the memory proxy)."""

    def start_for(count: int) -> list[str]:
        Subscriber.objects.all().delete()
        Subscriber.objects.bulk_create(
            Subscriber(email=f"r{count}-{n}@example.org", status=ACTIVE, language="en") for n in range(count)
        )
        edition = _edition()
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
# Sending a batch


def test_a_batch_sends_over_one_connection(db, backend):
    for number in range(5):
        _subscriber(f"reader{number}@example.org")
    edition = _started(_edition())
    result = delivery.send_batch(edition.pk, 10)
    assert (result.claimed, result.sent, result.more) == (5, 5, False)
    assert backend.created == 1 and backend.opened == 1
    assert len(mail.outbox) == 5
    assert set(_statuses(edition).values()) == {Status.SENT}
    edition.refresh_from_db()
    assert edition.status == SENT and edition.sent_at


def test_batches_take_turns_until_the_edition_is_sent(db, backend):
    for number in range(5):
        _subscriber(f"reader{number}@example.org")
    edition = _started(_edition())
    first = delivery.send_batch(edition.pk, 2)
    assert (first.sent, first.pending, first.more) == (2, 3, True)
    delivery.send_batch(edition.pk, 2)
    last = delivery.send_batch(edition.pk, 2)
    assert (last.sent, last.pending, last.more) == (1, 0, False)
    assert len(mail.outbox) == 5 and len({m.to[0] for m in mail.outbox}) == 5
    assert delivery.send_batch(edition.pk, 2).claimed == 0


def test_every_message_carries_the_unsubscribe_headers_and_both_parts(db, settings):
    settings.SITE_URL = "https://portal.example.org"
    settings.NETWORK_NAME = "Green Mobility Network"
    subscriber = _subscriber("reader@example.org")
    edition = _started(_edition())
    delivery.send_batch(edition.pk, 10)
    [message] = mail.outbox
    headers = message.extra_headers
    match = re.fullmatch(
        r"<(https://portal\.example\.org/newsletter/unsubscribe/[^>]+/)>, <mailto:([^>]+)>",
        headers["List-Unsubscribe"],
    )
    assert match, headers["List-Unsubscribe"]
    assert match.group(2) == f"{settings.DEFAULT_FROM_EMAIL}?subject=unsubscribe"
    token = match.group(1).rstrip("/").rsplit("/", 1)[1]
    assert tokens.read(token, tokens.UNSUBSCRIBE) == subscriber
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    record = edition.deliveries.get()
    assert headers["Message-ID"] == f"<newsletter.{edition.pk}.{record.pk}@portal.example.org>"
    assert "Green Mobility Network" in message.from_email
    parsed = message.message()
    assert {part.get_content_type() for part in parsed.walk()} >= {"text/plain", "text/html"}
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.subject == "Spring on two wheels"
    assert "The **cycling** season opens." in message.body
    html = message.alternatives[0][0]
    assert "<strong>cycling</strong>" in html and "<script>" not in html


def test_a_subscriber_who_left_meanwhile_is_skipped(db, backend):
    staying = _subscriber("staying@example.org")
    leaving = _subscriber("leaving@example.org")
    edition = _started(_edition())
    Subscriber.objects.filter(pk=leaving.pk).update(status=UNSUBSCRIBED)
    result = delivery.send_batch(edition.pk, 10)
    assert (result.sent, result.skipped) == (1, 1)
    assert _statuses(edition) == {staying.email: Status.SENT, leaving.email: Status.SKIPPED}
    assert [m.to[0] for m in mail.outbox] == [staying.email]
    edition.refresh_from_db()
    assert edition.status == SENT


def test_permanent_refusals_count_bounces_and_stop_mail_at_the_limit(db, backend, settings):
    settings.NEWSLETTER_BOUNCE_LIMIT = 2
    first_bounce = _subscriber("first@example.org")
    second_bounce = _subscriber("second@example.org", bounce_count=1)
    fine = _subscriber("fine@example.org")
    backend.failures = {
        first_bounce.email: smtplib.SMTPRecipientsRefused({first_bounce.email: (550, b"5.1.1 No such user")}),
        second_bounce.email: smtplib.SMTPDataError(550, b"5.2.1 Mailbox disabled"),
    }
    edition = _started(_edition())
    result = delivery.send_batch(edition.pk, 10)
    assert (result.sent, result.failed, result.interrupted) == (1, 2, False)
    assert backend.opened == 1  # the connection carried on after the refusals
    first_bounce.refresh_from_db()
    second_bounce.refresh_from_db()
    assert (first_bounce.bounce_count, first_bounce.status) == (1, ACTIVE)
    assert (second_bounce.bounce_count, second_bounce.status) == (2, BOUNCING)
    record = edition.deliveries.get(subscriber=first_bounce)
    assert record.status == Status.FAILED and "No such user" in record.error
    edition.refresh_from_db()
    assert edition.status == SENT
    assert sorted(_statuses(_started(_edition(subject="Next")))) == sorted([first_bounce.email, fine.email])


def test_a_content_rejection_fails_the_message_but_is_no_bounce_of_the_address(db, backend):
    reader = _subscriber("reader@example.org")
    backend.failures = {reader.email: smtplib.SMTPDataError(554, b"5.7.1 Message looks like spam")}
    edition = _started(_edition())
    result = delivery.send_batch(edition.pk, 10)
    assert result.failed == 1
    reader.refresh_from_db()
    assert (reader.bounce_count, reader.status) == (0, ACTIVE)
    assert edition.deliveries.get().status == Status.FAILED


def test_a_long_smtp_outage_uses_up_nobodys_attempts(db, backend, settings):
    subscribers = [_subscriber(f"p{n}@example.org") for n in range(3)]
    edition = _started(_edition())
    backend.failures = {s.email: ConnectionRefusedError("SMTP server down") for s in subscribers}
    for _ in range(settings.NEWSLETTER_MAX_ATTEMPTS + 3):
        delivery.send_batch(edition.pk, 10)
        Delivery.objects.update(next_attempt_at=None)  # as after the back-off
    assert set(edition.deliveries.values_list("status", flat=True)) == {Status.PENDING}
    assert set(edition.deliveries.values_list("attempts", flat=True)) == {0}
    backend.failures = {}
    delivery.send_batch(edition.pk, 10)
    assert set(edition.deliveries.values_list("status", flat=True)) == {Status.SENT}


def test_temporary_refusals_go_back_to_pending_for_a_later_batch(db, backend):
    greylisted = _subscriber("greylisted@example.org")
    _subscriber("fine@example.org")
    backend.failures = {
        greylisted.email: smtplib.SMTPRecipientsRefused({greylisted.email: (450, b"Try later")})
    }
    edition = _started(_edition())
    result = delivery.send_batch(edition.pk, 10)
    assert (result.sent, result.retried, result.failed) == (1, 1, 0)
    record = edition.deliveries.get(subscriber=greylisted)
    assert (record.status, record.attempts) == (Status.PENDING, 1) and "Try later" in record.error
    greylisted.refresh_from_db()
    assert greylisted.bounce_count == 0
    # Not again at once: the server asked for time.
    assert delivery.send_batch(edition.pk, 10).claimed == 0
    Delivery.objects.filter(pk=record.pk).update(next_attempt_at=timezone.now())  # the back-off passed
    backend.failures = {}
    assert delivery.send_batch(edition.pk, 10).sent == 1
    edition.refresh_from_db()
    assert edition.status == SENT


def test_a_dropped_connection_gives_the_rest_of_the_batch_back(db, backend):
    for number in range(3):
        _subscriber(f"reader{number}@example.org")
    backend.failures = {
        "reader1@example.org": smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    }
    edition = _started(_edition())
    result = delivery.send_batch(edition.pk, 10)
    assert (result.sent, result.retried, result.interrupted, result.more) == (1, 2, True, False)
    assert _statuses(edition) == {
        "reader0@example.org": Status.SENT,
        "reader1@example.org": Status.PENDING,
        "reader2@example.org": Status.PENDING,
    }
    assert "SMTPServerDisconnected" in edition.deliveries.get(subscriber__email="reader2@example.org").error
    assert Subscriber.objects.filter(bounce_count__gt=0).count() == 0


def test_a_delivery_that_keeps_failing_gives_up_after_the_attempts(db, backend, settings):
    subscriber = _subscriber("always-busy@example.org")
    backend.failures = {subscriber.email: smtplib.SMTPRecipientsRefused({subscriber.email: (451, b"Busy")})}
    edition = _started(_edition())
    edition.deliveries.update(attempts=settings.NEWSLETTER_MAX_ATTEMPTS - 1)
    delivery.send_batch(edition.pk, 10)
    assert edition.deliveries.get().status == Status.FAILED
    edition.refresh_from_db()
    assert edition.status == SENT


# ---------------------------------------------------------------------------------------------
# Recovery


def test_stale_claims_return_to_pending_and_the_send_goes_on(db, settings):
    settings.NEWSLETTER_CLAIM_TIMEOUT = 60
    for number in range(3):
        _subscriber(f"reader{number}@example.org")
    edition = _started(_edition())
    now = timezone.now()
    dead, alive = list(edition.deliveries.order_by("pk"))[:2], edition.deliveries.order_by("pk").last()
    Delivery.objects.filter(pk__in=[d.pk for d in dead]).update(
        status=Status.SENDING, claimed_at=now - dt.timedelta(seconds=61), attempts=1
    )
    Delivery.objects.filter(pk=alive.pk).update(status=Status.SENDING, claimed_at=now, attempts=1)

    outcome = delivery.recover(now)  # the republished batch runs inline here (no broker)

    assert outcome["recovered"] == 2 and outcome["republished"] == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["reader0@example.org", "reader1@example.org"]
    assert edition.deliveries.get(pk=alive.pk).status == Status.SENDING  # a live claim is left alone
    assert edition.deliveries.get(pk=dead[0].pk).attempts == 2


def test_recovery_republishes_only_a_chain_that_stopped(db, published):
    _subscriber("reader@example.org")
    stopped = _started(_edition(subject="Stopped"))
    Edition.objects.filter(pk=stopped.pk).update(started_at=timezone.now() - dt.timedelta(minutes=10))
    fresh = _started(_edition(subject="Just started"))
    busy = _started(_edition(subject="Busy"))
    Edition.objects.filter(pk=busy.pk).update(started_at=timezone.now() - dt.timedelta(minutes=10))
    busy.deliveries.update(status=Status.SENDING, claimed_at=timezone.now())
    delivery.recover()
    assert published == [stopped.pk]
    assert fresh.pk not in published


def test_recovery_finishes_an_edition_with_nothing_left(db, published):
    _subscriber("reader@example.org")
    edition = _started(_edition())
    edition.deliveries.update(status=Status.SENT)  # the worker died before it could finish
    delivery.recover()
    edition.refresh_from_db()
    assert edition.status == SENT and published == []


def test_a_claim_that_expired_too_often_fails(db, settings):
    settings.NEWSLETTER_CLAIM_TIMEOUT = 60
    _subscriber("reader@example.org")
    edition = _started(_edition())
    edition.deliveries.update(
        status=Status.SENDING,
        claimed_at=timezone.now() - dt.timedelta(hours=1),
        attempts=settings.NEWSLETTER_MAX_ATTEMPTS,
    )
    assert delivery.recover()["failed"] == 1
    assert edition.deliveries.get().status == Status.FAILED
    edition.refresh_from_db()
    assert edition.status == SENT


# ---------------------------------------------------------------------------------------------
# Throttle


class _FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def test_a_rate_limit_paces_every_message(db, settings, monkeypatch):
    settings.NEWSLETTER_RATE_PER_MINUTE = 60
    clock = _FakeClock()
    monkeypatch.setattr(delivery, "time", clock)
    for number in range(3):
        _subscriber(f"reader{number}@example.org")
    edition = _started(_edition())
    delivery.send_batch(edition.pk, 10)
    assert clock.sleeps == [1.0, 1.0, 1.0]  # the first too: the gap to the previous batch
    assert len(mail.outbox) == 3


def test_without_a_rate_limit_nothing_waits(db, monkeypatch):
    clock = _FakeClock()
    monkeypatch.setattr(delivery, "time", clock)
    _subscriber("reader@example.org")
    delivery.send_batch(_started(_edition()).pk, 10)
    assert clock.sleeps == [] and len(mail.outbox) == 1


def test_a_rate_limit_sends_one_chain_and_short_batches(db, settings, published):
    for number in range(5):
        _subscriber(f"reader{number}@example.org")
    settings.NEWSLETTER_BATCH_SIZE = 1
    unlimited = _edition(subject="Unlimited")
    delivery.send_now(unlimited, by=None)
    delivery.start_due_editions()
    delivery._publish_batches(unlimited.pk, 5)
    assert published == [unlimited.pk] * delivery.PARALLEL_BATCHES

    published.clear()
    settings.NEWSLETTER_RATE_PER_MINUTE = 30
    delivery._publish_batches(unlimited.pk, 5)
    assert published == [unlimited.pk]
    settings.NEWSLETTER_BATCH_SIZE = 500
    assert delivery.configured_batch_size() == delivery.THROTTLED_BATCH_SECONDS * 30 // 60


def test_under_a_rate_limit_a_batch_waits_while_another_sends(db, settings, monkeypatch):
    monkeypatch.setattr(delivery, "time", _FakeClock())
    for number in range(2):
        _subscriber(f"reader{number}@example.org")
    edition = _started(_edition())
    settings.NEWSLETTER_RATE_PER_MINUTE = 60
    first = edition.deliveries.order_by("pk").first()
    Delivery.objects.filter(pk=first.pk).update(status=Status.SENDING, claimed_at=timezone.now())
    assert delivery.send_batch(edition.pk, 10).claimed == 0
    settings.NEWSLETTER_RATE_PER_MINUTE = 0
    assert delivery.send_batch(edition.pk, 10).claimed == 1  # unthrottled batches run side by side


# ---------------------------------------------------------------------------------------------
# Tests to the organizer, progress


def test_a_test_message_is_not_a_delivery(db):
    _subscriber("reader@example.org")
    edition = _edition()
    emails.send_test(edition, "organizer@kl.dk", language="en")
    [message] = mail.outbox
    assert message.to == ["organizer@kl.dk"] and message.subject == "[TEST] Spring on two wheels"
    assert "List-Unsubscribe" in message.extra_headers
    assert Delivery.objects.count() == 0
    edition.refresh_from_db()
    assert edition.status == DRAFT


def test_progress_counts_in_one_query(db, django_assert_num_queries):
    for number in range(4):
        _subscriber(f"reader{number}@example.org")
    edition = _started(_edition())
    records = list(edition.deliveries.order_by("pk"))
    Delivery.objects.filter(pk=records[0].pk).update(status=Status.SENT)
    Delivery.objects.filter(pk=records[1].pk).update(status=Status.FAILED)
    Delivery.objects.filter(pk=records[2].pk).update(status=Status.SKIPPED)
    with django_assert_num_queries(1):
        counts = delivery.progress(edition)
    assert counts == {"sent": 1, "failed": 1, "skipped": 1, "remaining": 1, "total": 4}


# ---------------------------------------------------------------------------------------------
# Rendering


@pytest.fixture
def edition_with_blocks(db):
    event = factories.event(title="Charging meeting", capacities=(20,))
    Document.objects.create(event=event, title="Charging handbook", url="https://example.org/handbook.pdf")
    draft = factories.event(title="Secret draft", status="draft")
    Document.objects.create(event=draft, title="Not yet public", url="https://example.org/draft.pdf")
    return _edition(include_upcoming_events=True, include_recent_materials=True)


def test_the_email_has_body_blocks_and_personal_links(edition_with_blocks, settings):
    settings.SITE_URL = "https://portal.example.org"
    subscriber = _subscriber("reader@example.org")
    subject, text, html = rendering.render_edition(edition_with_blocks, subscriber)
    assert subject == "Spring on two wheels"
    assert "display:none" in html and "Cargo bikes, charging and a new handbook" in html
    assert "<strong>cycling</strong>" in html and "<script>" not in html
    assert "Charging meeting" in html and "20 of 20 seats left" in html and "20 of 20 seats left" in text
    assert "Charging handbook" in html and "https://example.org/handbook.pdf" in text
    assert "Secret draft" not in html and "Not yet public" not in html
    web = f"https://portal.example.org/newsletter/archive/{edition_with_blocks.pk}/"
    assert web in html and web in text
    for url in rendering.personal_links(subscriber).values():
        assert url in text and url.replace("&", "&amp;") in html
    assert "newsletter-placeholder" not in html + text


def test_the_shared_part_is_read_once_for_many_subscribers(edition_with_blocks):
    readers = [_subscriber(f"reader{n}@example.org", language=("en", "da")[n % 2]) for n in range(20)]
    renderer = rendering.EditionRenderer(edition_with_blocks)
    with CaptureQueriesContext(connection) as first:
        renderer.render(readers[0])
    with CaptureQueriesContext(connection) as rest:
        for reader in readers[1:]:
            renderer.render(reader)
    assert len(first.captured_queries) <= 5
    assert len(rest.captured_queries) == 0
    unsubscribe_links = {renderer.render(reader)[1].split("Unsubscribe: ")[-1] for reader in readers[:4]}
    assert len(unsubscribe_links) == 4  # each subscriber's own link


def test_dates_and_footer_follow_the_subscribers_language(edition_with_blocks):
    occasion = edition_with_blocks and factories.event(title="Later", days_ahead=40).occasions.get()
    starts = timezone.localtime(occasion.day_parts.get().starts_at)
    with translation.override("da"):
        danish_date = formats.date_format(starts, "l j F Y")
    with translation.override("en"):
        english_date = formats.date_format(starts, "l j F Y")
    assert danish_date != english_date
    _subject, danish_text, _html = rendering.render_edition(
        edition_with_blocks, _subscriber("d@example.dk", language="da")
    )
    _subject, english_text, _html = rendering.render_edition(
        edition_with_blocks, _subscriber("e@example.org")
    )
    assert danish_date in danish_text and english_date in english_text


# ---------------------------------------------------------------------------------------------
# The public archive


def _sent_edition(subject: str, days_ago: int) -> Edition:
    return _edition(subject=subject, status=SENT, sent_at=timezone.now() - dt.timedelta(days=days_ago))


def test_the_archive_lists_sent_editions_newest_first(client, db):
    _sent_edition("Old news", 30)
    _sent_edition("New news", 1)
    _edition(subject="A draft")
    _edition(subject="Scheduled", status=SCHEDULED, scheduled_at=timezone.now())
    _edition(subject="Going out", status=SENDING)
    page = client.get(reverse("newsletters:archive"))
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index("New news") < text.index("Old news")
    for hidden in ("A draft", "Scheduled", "Going out"):
        assert hidden not in text


def test_the_archive_is_paginated(client, db):
    for number in range(25):
        _sent_edition(f"Edition number {number:02d}", number + 1)
    first = client.get(reverse("newsletters:archive")).content.decode()
    second = client.get(reverse("newsletters:archive") + "?page=2").content.decode()
    assert "Edition number 00" in first and "Edition number 24" not in first
    assert "Edition number 24" in second and "Edition number 00" not in second


def test_the_web_version_shows_a_sent_edition_without_personal_links(client, edition_with_blocks):
    Edition.objects.filter(pk=edition_with_blocks.pk).update(
        status=SENT, started_at=timezone.now(), sent_at=timezone.now()
    )
    page = client.get(reverse("newsletters:edition", args=[edition_with_blocks.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "<strong>cycling</strong>" in text and "Charging meeting" in text and "Charging handbook" in text
    assert "/newsletter/unsubscribe/" not in text and "/newsletter/preferences/" not in text


@pytest.mark.parametrize("status", [DRAFT, SCHEDULED, SENDING])
def test_the_web_version_of_an_edition_not_sent_is_not_found(client, db, status):
    edition = _edition(status=status)
    assert client.get(reverse("newsletters:edition", args=[edition.pk])).status_code == 404


# ---------------------------------------------------------------------------------------------
# The organizers' admin


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def _admin_url(name: str, edition: Edition) -> str:
    return reverse(f"admin:newsletters_edition_{name}", args=[edition.pk])


def test_previews_render_for_a_subscriber_who_does_not_exist(organizer_client, db):
    edition = _edition()
    html = organizer_client.get(_admin_url("preview_html", edition))
    assert html.status_code == 200 and "<strong>cycling</strong>" in html.content.decode()
    assert "'unsafe-inline'" in html.headers["Content-Security-Policy"]  # the email's inline styles
    text = organizer_client.get(_admin_url("preview_text", edition))
    assert text.status_code == 200 and text.headers["Content-Type"].startswith("text/plain")
    assert "The **cycling** season opens." in text.content.decode()
    assert Subscriber.objects.count() == 0
    change = organizer_client.get(_admin_url("change", edition))
    assert "'unsafe-inline'" not in change.headers["Content-Security-Policy"]
    assert "viewsitelink" not in change.content.decode()  # no web version before it is sent


def test_a_test_goes_to_the_organizer_only(organizer_client, organizer, db):
    _subscriber("reader@example.org")
    edition = _edition()
    assert organizer_client.get(_admin_url("send_test", edition)).status_code == 200
    response = organizer_client.post(_admin_url("send_test", edition))
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [organizer.email] and message.subject.startswith("[TEST]")
    assert Delivery.objects.count() == 0
    assert LogEntry.objects.filter(object_id=str(edition.pk), change_message__contains="test").exists()


def test_schedule_from_the_admin(organizer_client, db):
    edition = _edition()
    page = organizer_client.get(_admin_url("schedule", edition))
    assert page.status_code == 200 and 'type="datetime-local"' in page.content.decode()
    past = organizer_client.post(_admin_url("schedule", edition), {"at": "2020-01-01T10:00"})
    assert past.status_code == 200 and "Choose a time in the future." in past.content.decode()
    at = timezone.localtime() + dt.timedelta(days=2)
    response = organizer_client.post(_admin_url("schedule", edition), {"at": at.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    edition.refresh_from_db()
    assert edition.status == SCHEDULED and timezone.localtime(edition.scheduled_at).date() == at.date()
    assert LogEntry.objects.filter(object_id=str(edition.pk), change_message__startswith="Scheduled").exists()

    assert organizer_client.post(_admin_url("cancel_schedule", edition)).status_code == 302
    edition.refresh_from_db()
    assert edition.status == DRAFT


def test_send_now_confirms_the_audience_and_sends_once(organizer_client, db):
    for number in range(3):
        _subscriber(f"reader{number}@example.org")
    _subscriber("left@example.org", status=UNSUBSCRIBED)
    edition = _edition()
    confirm = organizer_client.get(_admin_url("send_now", edition))
    assert confirm.status_code == 200 and "goes to 3 subscribers now" in confirm.content.decode()
    assert mail.outbox == []

    response = organizer_client.post(_admin_url("send_now", edition))
    assert response.status_code == 302
    again = organizer_client.post(_admin_url("send_now", edition), follow=True)
    assert "has been sent already" in again.content.decode()
    assert sorted(m.to[0] for m in mail.outbox) == [f"reader{n}@example.org" for n in range(3)]
    edition.refresh_from_db()
    assert edition.status == SENT
    assert LogEntry.objects.filter(object_id=str(edition.pk), change_message="Sending started.").count() == 1

    change = organizer_client.get(_admin_url("change", edition)).content.decode()
    assert "progress-counts" in change and "<td>3</td>" in change
    assert _admin_url("send_now", edition) not in change
    assert f'href="{edition.get_absolute_url()}"' in change  # the web version, now public


def test_an_edition_that_is_not_a_draft_cannot_be_edited(organizer_client, db):
    edition = _edition()
    delivery.schedule(edition, timezone.now() + dt.timedelta(days=1), by=None)
    response = organizer_client.post(
        _admin_url("change", edition),
        {"subject": "Changed", "body": "Changed", "include_upcoming_events": "on"},
    )
    assert response.status_code == 403
    edition.refresh_from_db()
    assert edition.subject == "Spring on two wheels"


def test_the_list_shows_progress_in_a_fixed_number_of_queries(organizer_client, db):
    for number in range(3):
        _subscriber(f"reader{number}@example.org")

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert organizer_client.get(reverse("admin:newsletters_edition_changelist")).status_code == 200
        return len(queries.captured_queries)

    _started(_edition(subject="First"))
    few = queries_for_list()
    for number in range(4):
        _started(_edition(subject=f"More {number}"))
    assert queries_for_list() == few


@pytest.mark.parametrize(
    "name", ["preview_html", "preview_text", "send_test", "schedule", "send_now", "cancel_schedule"]
)
def test_edition_pages_are_for_staff_only(client, member, db, name):
    edition = _edition()
    client.force_login(member)
    for method in (client.get, client.post):
        response = method(_admin_url(name, edition))
        assert response.status_code == 302 and "/admin/login/" in response.url
    assert mail.outbox == [] and Edition.objects.get().status == DRAFT


# ---------------------------------------------------------------------------------------------
# Tasks


def test_the_tick_starts_a_due_edition_and_sends_it_batch_by_batch(
    db, settings, django_capture_on_commit_callbacks
):
    settings.NEWSLETTER_BATCH_SIZE = 2
    for number in range(5):
        _subscriber(f"reader{number}@example.org")
    edition = _edition()
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
    _subscriber("reader@example.org")
    edition = _edition()
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
