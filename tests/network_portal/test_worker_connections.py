"""A Celery worker keeps its database connection between tasks as a web process keeps it between
requests (CONN_MAX_AGE, health checks), instead of opening one per email.

The worker's own Django fixup is installed here as `celery worker` installs it; a task is run
as the worker runs it: task_prerun, the task's queries, task_postrun."""

import time

import pytest
from celery import signals
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from network_portal.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker_fixup():
    fixup = DjangoWorkerFixup(app).install()
    yield fixup
    signals.task_prerun.disconnect(fixup.on_task_prerun)
    signals.task_postrun.disconnect(fixup.on_task_postrun)
    signals.worker_process_init.disconnect(fixup.on_worker_process_init)
    signals.beat_embedded_init.disconnect(fixup.close_database)


@pytest.fixture
def persistent_connection(monkeypatch):
    """The connection as production settings make it: kept for 60 s, checked before reuse."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's test database lives in memory and is never closed")
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    connection.close()
    connection.ensure_connection()
    connection.close_at = time.monotonic() + 60
    yield
    connection.close()


def _run_like_the_worker(task) -> int:
    """The backend's process id as the task's query saw it."""
    assert not task.request.is_eager
    signals.task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    signals.task_postrun.send(
        sender=task, task_id="t", task=task, args=(), kwargs={}, retval=None, state="SUCCESS"
    )
    return backend


def test_tasks_share_one_connection(worker_fixup, persistent_connection):
    task = app.tasks["mail.tasks.send_message"]
    opened = connection.connection
    backends = {_run_like_the_worker(task) for _ in range(5)}
    assert connection.connection is opened
    assert len(backends) == 1


def test_a_connection_past_its_age_is_replaced_before_the_next_task(worker_fixup, persistent_connection):
    task = app.tasks["mail.tasks.send_message"]
    _run_like_the_worker(task)
    old = connection.connection
    connection.close_at = time.monotonic() - 1
    _run_like_the_worker(task)
    assert connection.connection is not None
    assert connection.connection is not old


def test_a_broken_connection_is_replaced_before_the_next_task(worker_fixup, persistent_connection):
    task = app.tasks["mail.tasks.send_message"]
    _run_like_the_worker(task)
    broken = connection.connection
    broken.close()  # as when PostgreSQL restarted between two emails
    _run_like_the_worker(task)
    assert connection.connection is not broken


def test_an_inline_task_leaves_its_callers_connection_alone(persistent_connection):
    # Without a broker tasks run inside the request or transaction that published them.
    task = app.tasks["mail.tasks.send_message"]
    opened = connection.connection
    connection.close_at = time.monotonic() - 1  # would be closed before a worker's task
    task.push_request(is_eager=True)
    try:
        signals.task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
    finally:
        task.pop_request()
    assert connection.connection is opened
