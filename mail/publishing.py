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


def presume_broker_up() -> None:
    """Forget a failed publish (tests, after they stopped the broker)."""
    global _broker_down_until
    _broker_down_until = 0.0


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
    Returns False when the broker is down (or was a moment ago): the caller's rows wait for the
    periodic job, as with `hand_to_broker`."""
    if broker_presumed_down():
        return False
    flags = _flags()
    if flags is None:  # inline (development, tests) or no Redis: every commit its own task
        return hand_to_broker(task_name)
    try:
        first = flags.set(_flag(task_name), 1, nx=True, ex=settings.OUTBOX_REPUBLISH_AFTER)
    except redis.RedisError as exc:
        _presume_broker_down()
        logger.warning("Mail: could not wake %s (%s); the periodic job will publish", task_name, exc)
        return False
    if not first:
        return True  # on its way
    if hand_to_broker(task_name):
        return True
    woken(task_name)
    return False


def woken(task_name: str) -> None:
    """A task woken by `wake` begins: a commit from now on wakes another."""
    flags = _flags()
    if flags is None:
        return
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
