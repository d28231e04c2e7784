from celery import shared_task

from . import privacy


@shared_task
def delete_unconfirmed_accounts() -> int:
    return privacy.delete_unconfirmed_accounts()
