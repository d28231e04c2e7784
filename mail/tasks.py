from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from . import bursts, retention, sending, services


# A retry before the message's back-off has passed finds it not due and ends; the sweep
# publishes it when it is (MAIL_RETRY_* settings, the same delays as the row's).
@shared_task(
    acks_late=True,
    autoretry_for=(sending.TransientSendError, OperationalError),
    retry_backoff=settings.MAIL_RETRY_BASE_SECONDS,
    retry_backoff_max=settings.MAIL_RETRY_MAX_SECONDS,
    retry_jitter=True,
    max_retries=8,
    bind=True,
)
def send_message(self, pk: int) -> bool:
    # Takes the id only and reloads the row: the row, not the task, is the truth about
    # whether the message still needs sending.
    if not self.request.is_eager:  # inline, the task runs in the request that wrote the message
        bursts.wait_for_quiet(pk)
    return sending.deliver(pk)


@shared_task(acks_late=True)
def publish_messages(keys: list[str]) -> int:
    # One task for the many messages one change wrote (every participant of an event): their
    # sends are published here, in the worker, not one by one after the change's commit. A task
    # lost with its worker leaves the rows pending and unpublished: the sweep publishes them.
    return services.publish_keys(keys)


@shared_task(acks_late=True)
def publish_written() -> int:
    # Woken after the commits that wrote messages (services.defer): a burst of registrations
    # shares one task, which first waits for the burst to end (its sends would wait anyway),
    # then publishes. A task lost with its worker leaves the rows unpublished: the sweep
    # publishes them.
    if not publish_written.request.is_eager:
        bursts.yield_to_burst()
    return sending.publish_written()


@shared_task
def sweep_outbox() -> int:
    return sending.sweep()


@shared_task
def remove_old_message_bodies() -> int:
    # Daily (CELERY_BEAT_SCHEDULE "outbox-retention"): one UPDATE of the rows past retention.
    return retention.remove_old_bodies()
