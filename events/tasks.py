from celery import shared_task

from . import services


@shared_task
def send_due_reminders() -> int:
    return services.send_due_reminders()


@shared_task
def promote_waitlists() -> int:
    return len(services.promote_all_waitlists())


@shared_task
def erase_expired_needs() -> int:
    return services.erase_expired_needs()
