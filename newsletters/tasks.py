"""Celery entry points for newsletters. They take ids and leave every decision to
newsletters.delivery: the delivery rows, not the tasks, say what still has to be sent, so a task
that runs twice or not at all costs nothing but time."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from . import delivery, pacing


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=settings.MAIL_RETRY_BASE_SECONDS,
    max_retries=5,
)
def send_edition_batch(self, edition_id: int, batch_size: int | None = None) -> int:
    """Send batches of an edition for about pacing.TASK_SECONDS, then publish the next task while
    deliveries are pending: a chain of tasks, each well inside the time limit. Returns how many
    messages went out."""
    sent = 0
    while True:
        result = delivery.send_batch(
            edition_id, batch_size, seconds=pacing.TASK_SECONDS, yield_to_bursts=not self.request.is_eager
        )
        sent += result.sent
        if not result.more:
            return sent
        if not self.request.is_eager:
            delivery.publish_batch(edition_id, batch_size)
            return sent
        # Inline (no broker), publishing would nest one call per batch; loop instead.


@shared_task
def start_due_editions() -> int:
    """Published by "send now"; the tick does the same every minute in case the broker was
    down then."""
    return len(delivery.start_due_editions())


@shared_task
def newsletter_tick() -> dict:
    """Every minute (CELERY_BEAT_SCHEDULE): start editions whose time has come, and pick up
    sends whose worker died or whose chain of batches stopped."""
    started = delivery.start_due_editions()
    return {"started": len(started), **delivery.recover()}


@shared_task
def newsletter_housekeeping() -> dict:
    """Every 15 minutes (CELERY_BEAT_SCHEDULE): sign-ups never confirmed are deleted, and
    subscribers hear of events that opened for registration on their topics."""
    from .services import alerts, subscriptions

    return {"removed": subscriptions.remove_stale_pending(), "alerts": alerts.send_due_event_alerts()}
