"""The commits that write messages wake one publisher on the broker's Redis (mail.publishing.wake):
a burst of registrations shares one task instead of paying for a publish each, and no message
is left behind by the sharing."""

import base64
import json

import pytest
import redis
from django.db import transaction

from mail import publishing, sending
from mail import services as outbox
from mail.models import OutgoingMessage
from tests.integration.conftest import free_port, publishing_to

pytestmark = pytest.mark.django_db(transaction=True)
PUBLISHER = "mail.tasks.publish_written"


def _defer(key: str) -> OutgoingMessage:
    with transaction.atomic():
        outbox.defer(key=key, kind="registration_confirmed", recipient=f"{key}@aarhus.dk", about={})
    return OutgoingMessage.objects.get(idempotency_key=key)


def _queued(broker_url: str) -> list[tuple[str, list]]:
    """The tasks waiting in the default queue, oldest first: (name, arguments)."""
    client = redis.Redis.from_url(broker_url)
    tasks = []
    for raw in reversed(client.lrange("celery", 0, -1)):  # kombu pushes on the left
        message = json.loads(raw)
        arguments = json.loads(base64.b64decode(message["body"]))[0]
        tasks.append((message["headers"]["task"], arguments))
    return tasks


def test_the_commits_of_a_burst_wake_one_publisher_which_publishes_every_row(redis_db, settings):
    with publishing_to(redis_db, settings):
        written = [_defer(f"burst{index}") for index in range(5)]
        assert _queued(redis_db) == [(PUBLISHER, [])]
        assert not OutgoingMessage.objects.filter(published_at__isnull=False).exists()
        ttl = redis.Redis.from_url(redis_db).ttl(f"portal:woken:{PUBLISHER}")
        assert 0 < ttl <= settings.OUTBOX_REPUBLISH_AFTER  # a lost task's flag does not last

        assert sending.publish_written() == 5  # the task's work, here in the test's process
        sends = _queued(redis_db)[1:]
        assert sends == [("mail.tasks.send_message", [message.pk]) for message in written]
        assert OutgoingMessage.objects.filter(published_at__isnull=True).count() == 0

        # Once the publisher has begun, a commit wakes another: nothing is left for it to miss.
        late = _defer("late")
        assert _queued(redis_db)[-1] == (PUBLISHER, [])
        assert sending.publish_written() == 1
        assert _queued(redis_db)[-1] == ("mail.tasks.send_message", [late.pk])


def test_a_row_committed_while_the_publisher_waits_is_its_to_publish(redis_db, settings):
    """The flag is deleted when the publisher begins its work, not when it is queued: a commit
    in between finds it set, wakes nobody, and is published by the task already on its way."""
    with publishing_to(redis_db, settings):
        first = _defer("first")
        second = _defer("second")  # the publisher woken for the first has not begun
        assert [name for name, _ in _queued(redis_db)] == [PUBLISHER]
        assert sending.publish_written() == 2
        assert {tuple(arguments) for _, arguments in _queued(redis_db)[1:]} == {(first.pk,), (second.pk,)}


def test_with_the_broker_down_the_row_waits_unpublished_for_the_sweep(settings):
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with publishing_to(down, settings):
        message = _defer("down")
        assert publishing.broker_presumed_down()
    publishing.presume_broker_up()
    assert OutgoingMessage.objects.get(pk=message.pk).published_at is None
    assert OutgoingMessage.objects.get(pk=message.pk).status == OutgoingMessage.Status.PENDING


class _Clock:
    """time.monotonic and time.sleep for mail.publishing: sleeping moves the clock on, and a
    sleep may run what another process does meanwhile."""

    def __init__(self, meanwhile=None):
        self.now, self.slept, self.meanwhile = 100.0, [], meanwhile

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.meanwhile is not None:
            self.meanwhile()
        self.now += seconds


def _commands(monkeypatch) -> list[str]:
    sent = []
    original = redis.Redis.set

    def counted(client, name, *args, **kwargs):
        sent.append(name)
        return original(client, name, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "set", counted)
    return sent


def test_within_the_grace_after_seeing_the_flag_a_commit_sends_no_command(redis_db, settings, monkeypatch):
    """In a rush each web process sends about one command per grace, not one per registration;
    every row still reaches the one woken publisher."""
    clock = _Clock()
    monkeypatch.setattr(publishing, "time", clock)
    sent = _commands(monkeypatch)
    with publishing_to(redis_db, settings):
        _defer("first")  # sets the flag and wakes the publisher
        clock.now += publishing.WAKE_GRACE_SECONDS / 2
        _defer("within")  # the flag was seen a moment ago: no command
        assert len(sent) == 1
        clock.now += publishing.WAKE_GRACE_SECONDS
        _defer("after")  # the grace is over: asks again, finds the publisher on its way
        assert len(sent) == 2
        assert _queued(redis_db) == [(PUBLISHER, [])]
        assert sending.publish_written() == 3
        assert clock.slept == [publishing.WAKE_GRACE_SECONDS]


def test_the_publisher_reads_only_after_the_grace_so_a_commit_let_go_in_it_is_published(
    redis_db, settings, monkeypatch
):
    """A process that saw the flag just before the publisher deleted it commits without a
    command during the grace: the publisher waits out the grace before it reads, and finds it."""
    clock = _Clock(meanwhile=lambda: _defer("let go"))
    monkeypatch.setattr(publishing, "time", clock)
    sent = _commands(monkeypatch)
    with publishing_to(redis_db, settings):
        _defer("first")
        assert sending.publish_written() == 2  # the one let go during the grace among them
        assert len(sent) == 1
        assert OutgoingMessage.objects.filter(published_at__isnull=True).count() == 0
        clock.now += publishing.WAKE_GRACE_SECONDS
        _defer("later")  # long after: wakes another publisher
        assert len(sent) == 2 and _queued(redis_db)[-1] == (PUBLISHER, [])
