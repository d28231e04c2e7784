"""Through a real worker on Redis: a burst of messages waits until the writing stops, and a
sign-in code written meanwhile goes at once, though its task is queued behind the burst's."""

import datetime as dt

import pytest
from django.db import transaction

from mail import services as outbox
from mail.models import OutgoingMessage
from tests.integration.conftest import publishing_to, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
BURST_SECONDS = 3


def _write(key: str, **fields) -> OutgoingMessage:
    return outbox.enqueue(
        key=key,
        kind="test",
        recipient=f"{key}@aarhus.dk",
        subject=key,
        text="Plain",
        html="<p>HTML</p>",
        **fields,
    )


def test_a_burst_is_sent_after_it_and_a_sign_in_code_in_it_at_once(
    smtp_server, redis_db, start_worker, settings
):
    controller, handler = smtp_server
    with publishing_to(redis_db, settings):
        start_worker(
            redis_db, controller.port, MAIL_BURST_MESSAGES="10", MAIL_BURST_SECONDS=str(BURST_SECONDS)
        )
        with transaction.atomic():
            burst = [_write(f"burst{index}") for index in range(12)]
        code = _write("code", sensitive=True)
        wait_for(lambda: len(handler.messages) == 13, timeout=60, what="the burst and the code")
        # The worker commits "sent" a moment after the server accepted each message.
        unsent = OutgoingMessage.objects.exclude(status=OutgoingMessage.Status.SENT)
        wait_for(lambda: not unsent.exists(), what="every message marked sent")
    sent = {message.pk: message for message in OutgoingMessage.objects.all()}
    assert {message.status for message in sent.values()} == {OutgoingMessage.Status.SENT}
    first_of_burst = min(sent[message.pk].sent_at for message in burst)
    # The code went before any message of the burst, whose task it was queued behind ...
    assert sent[code.pk].sent_at < first_of_burst
    # ... and the burst not before the writing had stopped for three seconds.
    assert first_of_burst >= burst[0].created_at + dt.timedelta(seconds=BURST_SECONDS)
