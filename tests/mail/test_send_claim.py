"""The send task's claim of its one message: one conditional UPDATE, which waits for a short
write that holds the row instead of skipping the message."""

import threading
import time

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mail import sending
from mail import services as outbox
from mail.models import OutgoingMessage

Status = OutgoingMessage.Status


def _written(key="claim:1") -> OutgoingMessage:
    return outbox.enqueue(
        key=key, kind="test", recipient="planner@aarhus.dk", subject="Hello", text="Plain", html="<p>HTML</p>"
    )


def test_sending_a_written_message_takes_four_statements(db):
    message = _written()
    with CaptureQueriesContext(connection) as statements:
        assert sending.deliver(message.pk)
    # Whether sending is paused, the claim, the message, its mark as sent.
    assert len(statements) == 4, [query["sql"] for query in statements]
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 1 and len(mail.outbox) == 1


def test_a_message_claimed_or_sent_already_is_not_sent_again(db):
    message = _written()
    assert sending.deliver(message.pk)
    assert not sending.deliver(message.pk)
    OutgoingMessage.objects.filter(pk=message.pk).update(status=Status.SENDING)
    assert not sending.deliver(message.pk)
    assert len(mail.outbox) == 1


def test_while_sending_is_paused_a_message_waits_for_the_pause_not_longer_nor_less(db):
    import datetime as dt

    from mail.models import SendingPause

    now = timezone.now()
    SendingPause.objects.create(pk=1, at=now, until=now + dt.timedelta(minutes=10))
    due, backing_off = _written("claim:due"), _written("claim:backing-off")
    later = now + dt.timedelta(hours=1)
    OutgoingMessage.objects.filter(pk=backing_off.pk).update(next_attempt_at=later)
    assert not sending.deliver(due.pk) and not sending.deliver(backing_off.pk)
    due.refresh_from_db()
    backing_off.refresh_from_db()
    assert due.status == Status.PENDING and due.next_attempt_at == now + dt.timedelta(minutes=10)
    # Its own back-off ends after the pause: the pause does not bring it forward.
    assert backing_off.status == Status.PENDING and backing_off.next_attempt_at == later
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_write_holding_the_row_delays_the_claim_and_does_not_skip_it():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    # Written without publishing: the test is the send task.
    message = OutgoingMessage.objects.create(
        idempotency_key="claim:held", kind="test", recipient="planner@aarhus.dk", subject="s", body_text="b"
    )
    held, release = threading.Event(), threading.Event()

    def hold_the_row():
        # Another process's short write to the row (an organizer withdrawing an older notice, a
        # mark): its lock is held until its transaction ends, without changing the status.
        try:
            with transaction.atomic():
                OutgoingMessage.objects.select_for_update().get(pk=message.pk)
                held.set()
                release.wait(5)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    assert held.wait(5)
    threading.Timer(0.3, release.set).start()
    started = time.monotonic()
    assert sending.deliver(message.pk)  # SKIP LOCKED returned "nothing to claim" here
    assert time.monotonic() - started >= 0.25
    holder.join()
    message.refresh_from_db()
    assert message.status == Status.SENT and len(mail.outbox) == 1


class _RefusingServer:
    def send_messages(self, messages):
        raise ConnectionRefusedError("refused")


def _confirmation_waiting(member) -> OutgoingMessage:
    from events.services import registrations
    from tests import factories

    occasion = factories.event(title="Charging meeting").occasions.get()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outbox, "_hand_over", lambda pk: True)  # the test is the send task
        registrations.register(member, occasion)
    return OutgoingMessage.objects.get(user=member, kind="registration_confirmed")


def test_a_confirmation_is_rendered_and_marked_sent_in_one_write(member):
    message = _confirmation_waiting(member)
    with CaptureQueriesContext(connection) as statements:
        assert sending.deliver(message.pk)
    writes = [query["sql"] for query in statements if query["sql"].startswith("UPDATE")]
    assert len(writes) == 2, writes  # the claim, then what was sent with its mark
    message.refresh_from_db()
    assert message.status == Status.SENT and message.subject == "Registration confirmed: Charging meeting"
    assert "Charging meeting" in message.body_text and message.attachments


def test_a_confirmation_the_server_refused_keeps_what_was_tried(member):
    # For organizers looking at a message waiting for its retry; the retry renders it again.
    message = _confirmation_waiting(member)
    with pytest.raises(sending.TransientSendError):
        sending.deliver(message.pk, connection=_RefusingServer())
    message.refresh_from_db()
    assert message.status == Status.PENDING and message.subject == "Registration confirmed: Charging meeting"
    assert "Charging meeting" in message.body_text and message.attachments


class _HangingServer:
    def send_messages(self, messages):
        raise SoftTimeLimitExceeded()  # what Celery raises in the task when its soft limit passes


def test_a_send_task_out_of_time_gives_its_message_back_and_does_not_fail_it(db):
    message = _written()
    with pytest.raises(SoftTimeLimitExceeded):
        sending.deliver(message.pk, connection=_HangingServer())
    message.refresh_from_db()
    assert message.status == Status.PENDING and message.next_attempt_at > timezone.now()
    assert message.last_error == "The send task ran out of time."
