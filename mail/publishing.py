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

from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)

# time.monotonic() before which this process presumes the broker down.
_broker_down_until = 0.0


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
    global _broker_down_until
    if not retrying and broker_presumed_down():
        return False
    task = current_app.tasks[task_name]
    try:
        task.delay(*args)
    except Exception as exc:  # kombu and redis raise many kinds; none may undo the caller's work
        _broker_down_until = time.monotonic() + settings.MAIL_BROKER_RETRY_SECONDS
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
