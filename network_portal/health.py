"""Health of the parts the portal cannot work without: the database and the Celery broker."""

from django.conf import settings
from django.db import connection


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the message goes to the report
        return f"error: {exc.__class__.__name__}"
    return "ok"


def broker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "inline"  # tasks run in the web process: nothing to be down
    from network_portal.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
    except Exception as exc:  # kombu raises transport-specific errors
        return f"error: {exc.__class__.__name__}"
    return "ok"


def report() -> tuple[dict[str, str], bool]:
    checks = {"database": database_status(), "broker": broker_status()}
    healthy = all(not value.startswith("error") for value in checks.values())
    return checks, healthy
