import os

import pytest
from django.db import connection

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


def test_healthz_reports_database_and_inline_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "inline"}


def test_healthz_is_503_when_the_database_is_down(client, db, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", broken_cursor)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("error")


def test_healthz_is_503_when_the_broker_is_unreachable(client, db, settings):
    # Nothing listens on port 1 of loopback: a real connection attempt that fails.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


@pytest.mark.skipif(not TEST_REDIS_URL, reason="TEST_REDIS_URL not set: no real Redis to check against")
def test_healthz_is_ok_with_a_real_redis(client, db, settings):
    settings.CELERY_BROKER_URL = TEST_REDIS_URL
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"


def test_healthz_refuses_post(client, db):
    assert client.post("/healthz").status_code == 405
