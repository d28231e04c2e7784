"""Sending an edition's deliveries: batches over one SMTP connection, bounces and retries, recovery
after a dead worker, and the pace under a rate limit."""

import datetime as dt
import re
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.utils import timezone

from newsletters import delivery, pacing, tokens
from newsletters.models import Delivery, Edition, Subscriber
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
    settings.EMAIL_BACKEND = "tests.newsletters.test_delivery_batches.RecordingBackend"
    RecordingBackend.created = RecordingBackend.opened = 0
    RecordingBackend.failures = {}
    yield RecordingBackend
    RecordingBackend.failures = {}


# ---------------------------------------------------------------------------------------------
# Sending a batch


def test_a_batch_sends_over_one_connection(db, backend):
    for number in range(5):
        make_subscriber(f"reader{number}@example.org")
    edition = start_sending(make_edition())
    result = delivery.send_batch(edition.pk, 10)
    assert (result.claimed, result.sent, result.more) == (5, 5, False)
    assert backend.created == 1 and backend.opened == 1
    assert len(mail.outbox) == 5
    assert set(delivery_statuses(edition).values()) == {Status.SENT}
    edition.refresh_from_db()
    assert edition.status == SENT and edition.sent_at


def test_batches_take_turns_until_the_edition_is_sent(db, backend):
    for number in range(5):
        make_subscriber(f"reader{number}@example.org")
    edition = start_sending(make_edition())
    first = delivery.send_batch(edition.pk, 2)
    assert (first.sent, first.pending, first.more) == (2, 3, True)
    delivery.send_batch(edition.pk, 2)
    last = delivery.send_batch(edition.pk, 2)
    assert (last.sent, last.pending, last.more) == (1, 0, False)
    assert len(mail.outbox) == 5 and len({m.to[0] for m in mail.outbox}) == 5
    assert delivery.send_batch(edition.pk, 2).claimed == 0


def test_a_task_sends_batch_after_batch_over_one_connection_for_its_time(db, backend, monkeypatch):
    """Each batch of a task used to open its own SMTP connection, build the edition's renderer
    and open the marks' connection again: a few per cent of a newsletter's time at 200 a batch."""
    from newsletters import tasks

    for number in range(5):
        make_subscriber(f"reader{number}@example.org")
    edition = start_sending(make_edition())
    renderers = []
    monkeypatch.setattr(
        delivery.rendering, "EditionRenderer", _counting(delivery.rendering.EditionRenderer, renderers)
    )
    result = delivery.send_batch(edition.pk, 2, seconds=60)
    assert (result.claimed, result.sent, result.pending, result.more) == (5, 5, 0, False)
    assert backend.created == 1 and backend.opened == 1 and len(renderers) == 1
    assert len(mail.outbox) == 5 and set(delivery_statuses(edition).values()) == {Status.SENT}

    second = start_sending(make_edition(subject="Second"))
    monkeypatch.setattr(tasks.pacing, "TASK_SECONDS", 0)  # its time is up after the first batch
    published = []
    monkeypatch.setattr(delivery, "publish_batch", lambda edition_id, size=None: published.append(edition_id))
    assert tasks.send_edition_batch.run(second.pk, 2) == 2 and published == [second.pk]


def _counting(cls, calls):
    def make(*args, **kwargs):
        calls.append(args)
        return cls(*args, **kwargs)

    return make


def test_every_message_carries_the_unsubscribe_headers_and_both_parts(db, settings):
    settings.SITE_URL = "https://portal.example.org"
    settings.NETWORK_NAME = "Green Mobility Network"
    subscriber = make_subscriber("reader@example.org")
    edition = start_sending(make_edition())
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
    staying = make_subscriber("staying@example.org")
    leaving = make_subscriber("leaving@example.org")
    edition = start_sending(make_edition())
    Subscriber.objects.filter(pk=leaving.pk).update(status=UNSUBSCRIBED)
    result = delivery.send_batch(edition.pk, 10)
    assert (result.sent, result.skipped) == (1, 1)
    assert delivery_statuses(edition) == {staying.email: Status.SENT, leaving.email: Status.SKIPPED}
    assert [m.to[0] for m in mail.outbox] == [staying.email]
    edition.refresh_from_db()
    assert edition.status == SENT


def test_permanent_refusals_count_bounces_and_stop_mail_at_the_limit(db, backend, settings):
    settings.NEWSLETTER_BOUNCE_LIMIT = 2
    first_bounce = make_subscriber("first@example.org")
    second_bounce = make_subscriber("second@example.org", bounce_count=1)
    fine = make_subscriber("fine@example.org")
    backend.failures = {
        first_bounce.email: smtplib.SMTPRecipientsRefused({first_bounce.email: (550, b"5.1.1 No such user")}),
        second_bounce.email: smtplib.SMTPDataError(550, b"5.2.1 Mailbox disabled"),
    }
    edition = start_sending(make_edition())
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
    assert sorted(delivery_statuses(start_sending(make_edition(subject="Next")))) == sorted(
        [first_bounce.email, fine.email]
    )


def test_a_content_rejection_fails_the_message_but_is_no_bounce_of_the_address(db, backend):
    reader = make_subscriber("reader@example.org")
    backend.failures = {reader.email: smtplib.SMTPDataError(554, b"5.7.1 Message looks like spam")}
    edition = start_sending(make_edition())
    result = delivery.send_batch(edition.pk, 10)
    assert result.failed == 1
    reader.refresh_from_db()
    assert (reader.bounce_count, reader.status) == (0, ACTIVE)
    assert edition.deliveries.get().status == Status.FAILED


def test_a_long_smtp_outage_uses_up_nobodys_attempts(db, backend, settings):
    subscribers = [make_subscriber(f"p{n}@example.org") for n in range(3)]
    edition = start_sending(make_edition())
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
    greylisted = make_subscriber("greylisted@example.org")
    make_subscriber("fine@example.org")
    backend.failures = {
        greylisted.email: smtplib.SMTPRecipientsRefused({greylisted.email: (450, b"Try later")})
    }
    edition = start_sending(make_edition())
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
        make_subscriber(f"reader{number}@example.org")
    backend.failures = {
        "reader1@example.org": smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    }
    edition = start_sending(make_edition())
    result = delivery.send_batch(edition.pk, 10)
    assert (result.sent, result.retried, result.interrupted, result.more) == (1, 2, True, False)
    assert delivery_statuses(edition) == {
        "reader0@example.org": Status.SENT,
        "reader1@example.org": Status.PENDING,
        "reader2@example.org": Status.PENDING,
    }
    assert "SMTPServerDisconnected" in edition.deliveries.get(subscriber__email="reader2@example.org").error
    assert Subscriber.objects.filter(bounce_count__gt=0).count() == 0


def test_a_delivery_that_keeps_failing_gives_up_after_the_attempts(db, backend, settings):
    subscriber = make_subscriber("always-busy@example.org")
    backend.failures = {subscriber.email: smtplib.SMTPRecipientsRefused({subscriber.email: (451, b"Busy")})}
    edition = start_sending(make_edition())
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
        make_subscriber(f"reader{number}@example.org")
    edition = start_sending(make_edition())
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
    make_subscriber("reader@example.org")
    stopped = start_sending(make_edition(subject="Stopped"))
    Edition.objects.filter(pk=stopped.pk).update(started_at=timezone.now() - dt.timedelta(minutes=10))
    fresh = start_sending(make_edition(subject="Just started"))
    busy = start_sending(make_edition(subject="Busy"))
    Edition.objects.filter(pk=busy.pk).update(started_at=timezone.now() - dt.timedelta(minutes=10))
    busy.deliveries.update(status=Status.SENDING, claimed_at=timezone.now())
    delivery.recover()
    assert published == [stopped.pk]
    assert fresh.pk not in published


def test_recovery_finishes_an_edition_with_nothing_left(db, published):
    make_subscriber("reader@example.org")
    edition = start_sending(make_edition())
    edition.deliveries.update(status=Status.SENT)  # the worker died before it could finish
    delivery.recover()
    edition.refresh_from_db()
    assert edition.status == SENT and published == []


def test_a_claim_that_expired_too_often_fails(db, settings):
    settings.NEWSLETTER_CLAIM_TIMEOUT = 60
    make_subscriber("reader@example.org")
    edition = start_sending(make_edition())
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
    monkeypatch.setattr(pacing, "time", clock)
    for number in range(3):
        make_subscriber(f"reader{number}@example.org")
    edition = start_sending(make_edition())
    delivery.send_batch(edition.pk, 10)
    assert clock.sleeps == [1.0, 1.0, 1.0]  # the first too: the gap to the previous batch
    assert len(mail.outbox) == 3


def test_without_a_rate_limit_nothing_waits(db, monkeypatch):
    clock = _FakeClock()
    monkeypatch.setattr(pacing, "time", clock)
    make_subscriber("reader@example.org")
    delivery.send_batch(start_sending(make_edition()).pk, 10)
    assert clock.sleeps == [] and len(mail.outbox) == 1


def test_a_rate_limit_sends_one_chain_and_short_batches(db, settings, published):
    for number in range(5):
        make_subscriber(f"reader{number}@example.org")
    settings.NEWSLETTER_BATCH_SIZE = 1
    unlimited = make_edition(subject="Unlimited")
    delivery.send_now(unlimited, by=None)
    delivery.start_due_editions()
    delivery._publish_batches(unlimited.pk, 5)
    assert published == [unlimited.pk] * delivery.PARALLEL_BATCHES

    published.clear()
    settings.NEWSLETTER_RATE_PER_MINUTE = 30
    delivery._publish_batches(unlimited.pk, 5)
    assert published == [unlimited.pk]
    settings.NEWSLETTER_BATCH_SIZE = 500
    assert pacing.configured_batch_size() == pacing.THROTTLED_BATCH_SECONDS * 30 // 60


def test_under_a_rate_limit_a_batch_waits_while_another_sends(db, settings, monkeypatch):
    monkeypatch.setattr(pacing, "time", _FakeClock())
    for number in range(2):
        make_subscriber(f"reader{number}@example.org")
    edition = start_sending(make_edition())
    settings.NEWSLETTER_RATE_PER_MINUTE = 60
    first = edition.deliveries.order_by("pk").first()
    Delivery.objects.filter(pk=first.pk).update(status=Status.SENDING, claimed_at=timezone.now())
    assert delivery.send_batch(edition.pk, 10).claimed == 0
    settings.NEWSLETTER_RATE_PER_MINUTE = 0
    assert delivery.send_batch(edition.pk, 10).claimed == 1  # unthrottled batches run side by side
