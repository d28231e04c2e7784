"""A send task waits while a burst of transactional messages is being written (a registration
rush), at most until its message is MAIL_BURST_MAX_WAIT seconds old; secrets never wait."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone

from mail import bursts, tasks
from mail import services as outbox
from mail.models import OutgoingMessage


@pytest.fixture(autouse=True)
def _bursts(settings):
    settings.MAIL_BURST_MESSAGES = 5
    settings.MAIL_BURST_SECONDS = 1
    settings.MAIL_BURST_MAX_WAIT = 3


class Clock:
    """timezone.now() for bursts, moved on by its sleep; `each_sleep` runs after every sleep."""

    def __init__(self, monkeypatch, each_sleep=lambda now: None):
        self.now = timezone.now()
        self.slept: list[float] = []
        self._each_sleep = each_sleep
        monkeypatch.setattr(bursts, "timezone", SimpleNamespace(now=lambda: self.now))

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += dt.timedelta(seconds=seconds)
        self._each_sleep(self.now)


def _write(count: int, at: dt.datetime, prefix: str = "burst", **fields) -> list[OutgoingMessage]:
    messages = [
        outbox.enqueue(
            key=f"{prefix}:{at.timestamp()}:{index}",
            kind="test",
            recipient=f"planner{index}@aarhus.dk",
            subject="Hello",
            text="Plain",
            html="<p>HTML</p>",
            **fields,
        )
        for index in range(count)
    ]
    OutgoingMessage.objects.filter(pk__in=[message.pk for message in messages]).update(created_at=at)
    return messages


def test_a_message_written_while_few_are_is_sent_at_once(db, monkeypatch):
    clock = Clock(monkeypatch)
    message = _write(4, clock.now)[0]
    assert bursts.wait_for_quiet(message.pk, sleep=clock.sleep) == 0
    assert clock.slept == []


def test_in_a_burst_a_message_waits_until_the_writing_slows_down(db, monkeypatch):
    clock = Clock(monkeypatch)
    message = _write(5, clock.now)[0]
    waited = bursts.wait_for_quiet(message.pk, sleep=clock.sleep)
    # The five messages leave the one-second window after a second: then it goes.
    assert waited == pytest.approx(1.0)
    assert all(pause <= 0.25 for pause in clock.slept)


def test_in_a_burst_that_does_not_end_a_message_waits_no_longer_than_the_maximum(db, monkeypatch):
    clock = Clock(monkeypatch, each_sleep=lambda now: _write(5, now, prefix="more"))
    message = _write(5, clock.now)[0]
    assert bursts.wait_for_quiet(message.pk, sleep=clock.sleep) == pytest.approx(3.0)
    # A message older than the maximum (the oldest in an endless burst) goes at once.
    clock.now += dt.timedelta(seconds=5)
    _write(5, clock.now, prefix="still")
    assert bursts.wait_for_quiet(message.pk, sleep=clock.sleep) == 0


def test_a_secret_never_waits(db, monkeypatch):
    clock = Clock(monkeypatch)
    _write(10, clock.now)
    code = _write(1, clock.now, prefix="code", sensitive=True)[0]
    assert bursts.wait_for_quiet(code.pk, sleep=clock.sleep) == 0


def test_a_secret_written_during_a_burst_is_sent_by_the_task_that_waits(db, monkeypatch):
    codes = []

    def request_a_code(now):
        if len(codes) < 1:
            codes.extend(_write(1, now, prefix="code", sensitive=True))

    clock = Clock(monkeypatch, each_sleep=request_a_code)
    message = _write(5, clock.now)[0]
    bursts.wait_for_quiet(message.pk, sleep=clock.sleep)
    codes[0].refresh_from_db()
    assert codes[0].status == OutgoingMessage.Status.SENT
    assert [sent.to for sent in mail.outbox] == [[codes[0].recipient]]
    # Its own task, queued behind the burst's, finds it sent.
    assert not tasks.send_message(codes[0].pk)


def test_a_secret_that_fails_ends_the_round_not_the_waiting_task(db, monkeypatch):
    tried = []

    def database_gone(pk):
        tried.append(pk)
        raise OperationalError("the database went away")

    monkeypatch.setattr(bursts.sending, "deliver", database_gone)
    clock = Clock(monkeypatch)
    message = _write(5, clock.now)[0]
    _write(2, clock.now, prefix="code", sensitive=True)
    assert bursts.wait_for_quiet(message.pk, sleep=clock.sleep) == pytest.approx(1.0)
    # The first secret tried in each look while the wait lasted; its error ended each round.
    assert len(tried) >= 2 and len(set(tried)) == 1


def test_secrets_are_sent_only_while_the_task_would_wait(db, monkeypatch, settings):
    settings.MAIL_BURST_SECONDS = 60
    sent = []
    clock = Clock(monkeypatch)

    def slow_server(pk):  # each secret takes two seconds to go out
        sent.append(pk)
        clock.now += dt.timedelta(seconds=2)

    monkeypatch.setattr(bursts.sending, "deliver", slow_server)
    message = _write(5, clock.now)[0]
    _write(5, clock.now, prefix="code", sensitive=True)
    bursts.wait_for_quiet(message.pk, sleep=clock.sleep)
    # The wait ends three seconds after the message was written: two secrets were begun by then.
    assert len(sent) == 2


def test_a_message_no_longer_pending_does_not_wait(db, monkeypatch):
    clock = Clock(monkeypatch)
    message = _write(5, clock.now)[0]
    outbox.withdraw_pending([message.idempotency_key])
    assert bursts.wait_for_quiet(message.pk, sleep=clock.sleep) == 0


def test_waiting_is_off_with_no_burst_size(db, monkeypatch, settings):
    settings.MAIL_BURST_MESSAGES = 0
    clock = Clock(monkeypatch)
    message = _write(10, clock.now)[0]
    assert bursts.wait_for_quiet(message.pk, sleep=clock.sleep) == 0


def test_the_send_task_waits_in_a_worker_and_not_inline(db, monkeypatch):
    clock = Clock(monkeypatch)
    monkeypatch.setattr(bursts.time, "sleep", clock.sleep)
    first, second, *_ = _write(5, clock.now)
    # Inline (no broker: development, tests) the task runs in the request that wrote the message.
    tasks.send_message.delay(first.pk)
    assert clock.slept == [] and len(mail.outbox) == 1
    # In a worker it waits for the burst to end, then sends.
    assert tasks.send_message(second.pk)
    assert sum(clock.slept) == pytest.approx(1.0) and len(mail.outbox) == 2


@pytest.fixture
def edition_sending(monkeypatch):
    from newsletters import delivery
    from tests.newsletters.editions import make_edition, make_subscriber, start_sending

    # The test calls the batches itself: nothing is published after "send now".
    monkeypatch.setattr(delivery, "publish_start", lambda: True)
    monkeypatch.setattr(delivery, "_publish_batches", lambda edition_id, count: None)
    for n in range(3):
        make_subscriber(f"reader{n}@example.org")
    return start_sending(make_edition())


def test_a_newsletter_batch_in_a_worker_waits_for_a_burst_before_it_sends(db, monkeypatch, edition_sending):
    from newsletters import tasks as newsletter_tasks

    sent_when_slept = []
    clock = Clock(monkeypatch, each_sleep=lambda now: sent_when_slept.append(len(mail.outbox)))
    monkeypatch.setattr(bursts.time, "sleep", clock.sleep)
    _write(5, clock.now)
    newsletter_tasks.send_edition_batch(edition_sending.pk)
    assert sum(clock.slept) == pytest.approx(1.0) and set(sent_when_slept) == {0}
    assert len(mail.outbox) == 3


def test_a_newsletter_batch_inline_does_not_wait(db, monkeypatch, edition_sending):
    from newsletters import tasks as newsletter_tasks

    clock = Clock(monkeypatch)
    monkeypatch.setattr(bursts.time, "sleep", clock.sleep)
    _write(5, clock.now)
    newsletter_tasks.send_edition_batch.delay(edition_sending.pk)
    assert clock.slept == [] and len(mail.outbox) == 3
