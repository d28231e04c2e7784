"""Handing tasks to Celery when the broker may be down: the one publisher of both email engines.

The rows in the database, not the tasks, say what still has to be sent, so a failed publish is
no error for the caller (a registration, an organizer's click): the row stays pending and the
periodic job (the outbox's sweep, the newsletter tick) publishes again. After a failure this
process does not try again for MAIL_BROKER_RETRY_SECONDS, except from those periodic jobs: an
event cancelled for 80 people while Redis is down must not wait for the broker's timeouts 80
times.
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress
from urllib.parse import urlparse

import redis
from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)

# time.monotonic() before which this process presumes the broker down.
_broker_down_until = 0.0
# Redis clients for the wake flags, by broker URL (tests switch brokers).
_flag_clients: dict[str, redis.Redis] = {}
# A woken task waits this long after deleting its flag before it reads what to publish, so a
# commit made within this long after its process saw the flag set is the task's to find (see
# `wake`). Long against a commit, short against an email's way.
WAKE_GRACE_SECONDS = 0.1
# time.monotonic() at which this process last saw each flag set, by (flags' client, task name).
_flag_seen_at: dict[tuple[redis.Redis, str], float] = {}


def presume_broker_up() -> None:
    """Forget what this process presumed about the broker: a failed publish, a publisher seen
    on its way (tests, after they stopped or emptied the broker)."""
    global _broker_down_until
    _broker_down_until = 0.0
    _flag_seen_at.clear()


def broker_presumed_down() -> bool:
    return time.monotonic() < _broker_down_until


def hand_to_broker(task_name: str, *args, retrying: bool = False) -> bool:
    """Publish the task registered as `task_name` with `args`. Returns False when the broker
    is down (or was a moment ago and this is not a `retrying` periodic job).

    Tasks are looked up by name in Celery's registry (each app imports its tasks module at
    start-up): the tasks call the modules that publish them, which do not import them back."""
    if not retrying and broker_presumed_down():
        return False
    task = current_app.tasks[task_name]
    try:
        task.delay(*args)
    except Exception as exc:  # kombu and redis raise many kinds; none may undo the caller's work
        _presume_broker_down()
        # Inline (no broker: development, tests) the error is the task's own: with its traceback.
        logger.warning(
            "Mail: could not publish %s%s (%s); the periodic job will retry",
            task_name,
            args,
            exc,
            exc_info=task.app.conf.task_always_eager,
        )
        return False
    return True


def _presume_broker_down() -> None:
    global _broker_down_until
    _broker_down_until = time.monotonic() + settings.MAIL_BROKER_RETRY_SECONDS


def wake(task_name: str) -> bool:
    """Publish the task registered as `task_name` (it takes no arguments) unless one woken
    before has not started yet: the commits of a burst share one task, where each would pay
    for a publish of its own (in a registration rush, the largest part of what the web worker
    spends after the commit). A flag on the broker's Redis says a task is on its way: set here
    (SET NX, one command) and deleted by the task as it begins (`woken`), so whatever committed
    before that is the task's to find, and what commits after wakes another. A flag older than
    OUTBOX_REPUBLISH_AFTER is presumed lost with its task, as the sweep presumes a task lost.

    Within WAKE_GRACE_SECONDS after this process saw the flag set, a commit sends not even that
    command: the flag was set at a moment after `seen`, so the task deletes it after that and
    then waits WAKE_GRACE_SECONDS before it reads; a commit done before `seen` plus the grace is
    done before that read. (Only lengths of time are compared, each on its own process's
    clock.) In a rush each web process sends about one command per grace instead of one per
    registration. A lost task's flag keeps the commits of its lifetime and one grace more for
    the sweep, as a lost task's flag always has.

    Returns False when the broker is down (or was a moment ago): the caller's rows wait for the
    periodic job, as with `hand_to_broker`."""
    if broker_presumed_down():
        return False
    flags = _flags()
    if flags is None:  # inline (development, tests) or no Redis: every commit its own task
        return hand_to_broker(task_name)
    seen_key = (flags, task_name)
    seen = time.monotonic()  # before the command: the flag is set at some moment after this
    if seen - _flag_seen_at.get(seen_key, -WAKE_GRACE_SECONDS) < WAKE_GRACE_SECONDS:
        return True  # seen on its way a moment ago, and this commit is done
    try:
        first = flags.set(_flag(task_name), 1, nx=True, ex=settings.OUTBOX_REPUBLISH_AFTER)
    except redis.RedisError as exc:
        _presume_broker_down()
        logger.warning("Mail: could not wake %s (%s); the periodic job will publish", task_name, exc)
        return False
    if first and not hand_to_broker(task_name):
        _flag_seen_at.pop(seen_key, None)
        _delete_flag(flags, task_name)
        return False
    _flag_seen_at[seen_key] = seen
    return True  # woken now, or on its way


def woken(task_name: str) -> None:
    """A task woken by `wake` begins: a commit from now on wakes another. Returns once every
    commit that a process may have let go by on the flag's word (see `wake`) is done."""
    flags = _flags()
    if flags is None:
        return
    _delete_flag(flags, task_name)
    time.sleep(WAKE_GRACE_SECONDS)


def _delete_flag(flags: redis.Redis, task_name: str) -> None:
    # A flag not deleted expires; until then the sweep publishes what this task does not.
    with suppress(redis.RedisError):
        flags.delete(_flag(task_name))


def _flag(task_name: str) -> str:
    return f"portal:woken:{task_name}"


def _flags() -> redis.Redis | None:
    conf = current_app.conf
    if conf.task_always_eager or urlparse(conf.broker_url).scheme not in ("redis", "rediss"):
        return None
    client = _flag_clients.get(conf.broker_url)
    if client is None:
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        client = redis.Redis.from_url(
            conf.broker_url,
            socket_connect_timeout=options["socket_connect_timeout"],
            socket_timeout=options["socket_timeout"],
        )
        _flag_clients[conf.broker_url] = client
    return client
