"""A newsletter edition through real Celery workers on Redis to a real SMTP server on loopback:
the first worker is killed with SIGKILL in the middle of the send, before or after the server
accepts the message in flight (once the marks of the messages before it have committed); a
second one takes over after recovery, and every subscriber has one message in the end, the one
in flight at most twice (with one Message-ID)."""

import email
import time
from collections import Counter

import pytest

from newsletters import delivery
from newsletters.models import Delivery, Edition, Subscriber
from tests.integration.conftest import Worker, publishing_to, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]

SUBSCRIBERS = 12
BATCH_SIZE = 5
HELD_AT = 7  # the message after whose DATA the SMTP server holds the first worker, then it is killed


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


def _recipients(handler) -> Counter:
    return Counter(email.message_from_bytes(message)["To"] for message in handler.messages)


def _status(edition: Edition) -> str:
    return Edition.objects.get(pk=edition.pk).status


@pytest.mark.parametrize(
    "accepted", [False, True], ids=["killed_before_the_server_accepts", "killed_after_the_server_accepts"]
)
def test_a_worker_killed_mid_send_repeats_at_most_the_message_in_flight(
    accepted, organizer, smtp_server, redis_db, start_newsletter_worker, settings
):
    controller, handler = smtp_server
    handler.hold_data_at, handler.hold_data_accepted = HELD_AT, accepted
    settings.NEWSLETTER_CLAIM_TIMEOUT = 1  # recovery in this process; the worker never recovers
    addresses = [f"reader{number:02d}@example.org" for number in range(SUBSCRIBERS)]
    Subscriber.objects.bulk_create(
        Subscriber(email=address, status=Subscriber.Status.ACTIVE, language="en") for address in addresses
    )
    edition = Edition.objects.create(subject="Autumn on two wheels", body="The **season** closes.")

    with publishing_to(redis_db, settings):
        first = start_newsletter_worker(redis_db, controller.port)
        delivery.send_now(edition, by=organizer)  # publishes the start; the worker does the rest
        wait_for(handler.data_held.is_set, timeout=40, what="the worker in the middle of the send")
        assert len(handler.messages) == HELD_AT - (0 if accepted else 1)
        # The marks of the messages before the held one commit within their group's time
        # (claims.MarksBehind): killed after that, only the message in flight is in doubt.
        sent_before = Delivery.objects.filter(edition=edition, status=Delivery.Status.SENT)
        wait_for(lambda: sent_before.count() == HELD_AT - 1, timeout=10, what="the marks before it")
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
        wait_for(lambda: _status(edition) == Edition.Status.SENT, timeout=30, what="the edition sent")

        # A further tick, or a batch task delivered late, finds nothing to send.
        delivery.recover()
        delivery.publish_batch(edition.pk)
        time.sleep(2)

    recipients = _recipients(handler)
    assert set(recipients) == set(addresses)
    duplicates = {address: count for address, count in recipients.items() if count > 1}
    copies = [email.message_from_bytes(m) for m in handler.messages]
    # One killed process: at most one message twice, and only if the server had accepted it.
    if accepted:
        held = copies[HELD_AT - 1]["To"]  # kept by the server when it held the worker
        assert duplicates == {held: 2}
        assert len({c["Message-ID"] for c in copies if c["To"] == held}) == 1  # a copy mail systems drop
    else:
        assert duplicates == {}
    assert len(handler.messages) == SUBSCRIBERS + (1 if accepted else 0)
    assert delivery.progress(edition) == {
        "sent": SUBSCRIBERS,
        "failed": 0,
        "skipped": 0,
        "remaining": 0,
        "total": SUBSCRIBERS,
    }
    received = copies[0]
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["Message-ID"].startswith(f"<newsletter.{edition.pk}.")
