"""The portal's Celery app, configured from Django settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "network_portal.settings")

app = Celery("network_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def connections_as_for_a_request(sender=None, **kwargs) -> None:
    """A task's database connections live as a request's do: kept for CONN_MAX_AGE, checked
    before first use (CONN_HEALTH_CHECKS), closed when broken. Celery's own Django fixup closes
    them only every CELERY_DB_REUSE_MAX tasks (settings), not around every task, which made a
    new PostgreSQL connection for every email sent."""
    if getattr(sender.request, "is_eager", False):
        # Inline (no broker): the task runs inside its caller's request or transaction.
        return
    from django.db import close_old_connections

    close_old_connections()
