"""Email through a real Celery worker on Redis to a real SMTP server on loopback: what actually
arrives after a registration, when the broker was down, and when a worker is killed mid-send."""

import email
import time

import pytest

from events.services import registrations
from mail import sending
from mail import services as outbox
from mail.models import OutgoingMessage
from tests import factories
from tests.integration.conftest import publishing_to, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]
SENT = OutgoingMessage.Status.SENT


def _status(message_id: int) -> str:
    return OutgoingMessage.objects.get(pk=message_id).status


def test_registration_confirmation_arrives_through_the_worker(
    member, smtp_server, redis_db, start_worker, settings
):
    controller, handler = smtp_server
    event = factories.event(title="Charging meeting")
    with publishing_to(redis_db, settings):
        start_worker(redis_db, controller.port)
        registrations.register(member, event.occasions.get())
        wait_for(lambda: len(handler.messages) == 1, what="the confirmation at the SMTP server")
        # The worker commits "sent" a moment after the server accepted the message.
        record = OutgoingMessage.objects.get(recipient=member.email)
        wait_for(lambda: _status(record.pk) == SENT, what="the confirmation marked sent")
    received = email.message_from_bytes(handler.messages[0])
    assert received["To"] == member.email
    assert "Registration confirmed: Charging meeting" in received["Subject"]
    parts = {part.get_content_type() for part in received.walk()}
    assert {"text/plain", "text/html", "text/calendar"} <= parts
    record.refresh_from_db()
    assert record.status == SENT and received["Message-ID"] == record.message_id


def test_when_redis_is_down_the_registration_stands_and_the_message_goes_later(
    member, smtp_server, own_redis, start_worker, settings
):
    controller, handler = smtp_server
    broker_url, start_redis, stop_redis = own_redis
    start_redis()
    stop_redis()  # the broker is down when the member registers
    event = factories.event()
    with publishing_to(broker_url, settings):
        registration = registrations.register(member, event.occasions.get())
        assert registration.pk and registration.status == "confirmed"
        record = OutgoingMessage.objects.get(recipient=member.email)
        assert record.status == OutgoingMessage.Status.PENDING

        start_redis()
        start_worker(broker_url, controller.port)
        assert sending.sweep() == 1  # what beat runs every minute
        wait_for(lambda: len(handler.messages) == 1, what="the delayed confirmation")
        wait_for(lambda: _status(record.pk) == SENT, what="the delayed confirmation marked sent")


@pytest.mark.parametrize(
    "accepted", [False, True], ids=["killed_before_the_server_accepts", "killed_after_the_server_accepts"]
)
def test_a_worker_killed_mid_send_loses_nothing_and_repeats_at_most_the_message_in_flight(
    accepted, member, smtp_server, redis_db, start_worker, settings
):
    controller, handler = smtp_server
    settings.OUTBOX_CLAIM_TIMEOUT = 1
    # The server holds the first message after its DATA, before or after accepting it.
    handler.hold_data_at, handler.hold_data_accepted = 1, accepted
    event = factories.event()
    with publishing_to(redis_db, settings):
        first = start_worker(redis_db, controller.port)
        registrations.register(member, event.occasions.get())
        record = OutgoingMessage.objects.get(recipient=member.email)
        wait_for(handler.data_held.is_set, what="the worker waiting for the SMTP server's answer")
        assert _status(record.pk) == OutgoingMessage.Status.SENDING
        first.kill()

        wait_for(
            lambda: sending.recover_stale_claims() == 1, timeout=10, what="the dead worker's claim to expire"
        )
        start_worker(redis_db, controller.port)
        sending.sweep()
        wait_for(lambda: _status(record.pk) == SENT, what="the message after the crash")
        # A further sweep or a redelivered task finds it sent and does nothing.
        sending.sweep()
        outbox.publish(record.pk)
        time.sleep(2)
    # One killed process: at most one copy more than the one message, and only when the server
    # had accepted it; the copy has the same Message-ID, so mail systems can drop it.
    assert len(handler.messages) == (2 if accepted else 1)
    assert {email.message_from_bytes(copy)["Message-ID"] for copy in handler.messages} == {record.message_id}
    assert OutgoingMessage.objects.get(pk=record.pk).attempts == 2
