"""A newsletter edition through real Celery workers on Redis to a real SMTP server on loopback:
the first worker is killed with SIGKILL in the middle of the send, a second one takes over after
recovery, and every subscriber has exactly one message in the end."""

import asyncio
import email
import threading
import time
from collections import Counter

import pytest
from aiosmtpd.controller import Controller

from newsletters import delivery
from newsletters.models import Delivery, Edition, Subscriber
from tests.integration.conftest import RecordingHandler, Worker, free_port, publishing_to, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]

SUBSCRIBERS = 60
BATCH_SIZE = 20
CAUGHT_AT = 25  # the RCPT at which the first worker is held, then killed


class CatchingHandler(RecordingHandler):
    """Holds each RCPT a little, so that the send takes seconds, and holds one for long: the test
    kills the worker at a moment it knows, in the middle of a message the server has not
    accepted. Killed at a random moment instead, the worker could die between the server's
    acceptance and the commit of "sent", the one window in which a message can go twice; that
    window is the outbox's too and is covered by the fixed Message-ID, not by this test."""

    def __init__(self, caught_at: int):
        super().__init__()
        self.hold_rcpt = 0.05
        self.caught_at = caught_at
        self.rcpt_count = 0
        self.caught = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_count += 1
        if self.rcpt_count == self.caught_at:
            self.caught.set()
            await asyncio.sleep(30)  # longer than the test waits before the kill
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


@pytest.fixture
def catching_smtp_server():
    handler = CatchingHandler(CAUGHT_AT)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def start_newsletter_worker(tmp_path):
    """conftest's Worker with a smaller batch size in its environment, so that the send is a
    chain of several batches."""
    workers = []

    def start(broker_url: str, smtp_port: int) -> Worker:
        worker = Worker(broker_url, smtp_port, tmp_path, f"newsletter-worker{len(workers)}")
        worker.env["NEWSLETTER_BATCH_SIZE"] = str(BATCH_SIZE)
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()


def _recipients(handler: CatchingHandler) -> Counter:
    return Counter(email.message_from_bytes(message)["To"] for message in handler.messages)


def _status(edition: Edition) -> str:
    return Edition.objects.get(pk=edition.pk).status


def test_a_worker_killed_mid_send_leaves_everyone_exactly_one_message(
    organizer, catching_smtp_server, redis_db, start_newsletter_worker, settings
):
    controller, handler = catching_smtp_server
    settings.NEWSLETTER_CLAIM_TIMEOUT = 1  # recovery in this process; the worker never recovers
    addresses = [f"reader{number:02d}@example.org" for number in range(SUBSCRIBERS)]
    Subscriber.objects.bulk_create(
        Subscriber(email=address, status=Subscriber.Status.ACTIVE, language="en") for address in addresses
    )
    edition = Edition.objects.create(subject="Autumn on two wheels", body="The **season** closes.")

    with publishing_to(redis_db, settings):
        first = start_newsletter_worker(redis_db, controller.port)
        delivery.send_now(edition, by=organizer)  # publishes the start; the worker does the rest
        wait_for(handler.caught.is_set, timeout=60, what="the worker in the middle of the send")
        assert len(handler.messages) == CAUGHT_AT - 1  # each earlier message was accepted first
        first.kill()

        in_doubt = Delivery.objects.filter(edition=edition, status=Delivery.Status.SENDING).count()
        assert in_doubt >= 1 and _status(edition) == Edition.Status.SENDING
        time.sleep(1.1)  # the claims of the dead worker expire (NEWSLETTER_CLAIM_TIMEOUT above)
        # What the tick does every minute. Before the second worker starts: a claim timeout this
        # short would take a live worker's claims too (in production it is longer than the
        # task time limit, so it never does).
        outcome = delivery.recover()
        assert outcome["recovered"] == in_doubt and outcome["republished"] == 1
        start_newsletter_worker(redis_db, controller.port)
        wait_for(lambda: _status(edition) == Edition.Status.SENT, timeout=60, what="the edition sent")

        # A further tick, or a batch task delivered late, finds nothing to send.
        delivery.recover()
        delivery.publish_batch(edition.pk)
        time.sleep(2)

    recipients = _recipients(handler)
    assert set(recipients) == set(addresses)
    assert {address: count for address, count in recipients.items() if count > 1} == {}
    assert len(handler.messages) == SUBSCRIBERS
    assert delivery.progress(edition) == {
        "sent": SUBSCRIBERS,
        "failed": 0,
        "skipped": 0,
        "remaining": 0,
        "total": SUBSCRIBERS,
    }
    # The message caught at RCPT never reached the server; its delivery was claimed twice.
    assert Delivery.objects.filter(edition=edition, attempts=2).count() == in_doubt
    received = email.message_from_bytes(handler.messages[0])
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["Message-ID"].startswith(f"<newsletter.{edition.pk}.")
