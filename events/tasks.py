from celery import shared_task

from . import follow_ups
from .services import erasure, lifecycle, registrations


@shared_task
def send_due_reminders() -> int:
    return lifecycle.send_due_reminders()


@shared_task
def promote_waitlists() -> int:
    return len(registrations.promote_all_waitlists())


@shared_task
def erase_expired_needs() -> int:
    return erasure.erase_expired_needs()


@shared_task
def send_follow_ups() -> int:
    return follow_ups.send_follow_ups()
