"""Which events subscribers were alerted about is the newsletter's bookkeeping: it lives in
newsletters.EventAlert, not on events.Event (moved by newsletters 0003 and events 0007)."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from newsletters.models import EventAlert
from newsletters.services import alerts as newsletter_alerts
from tests import factories

BEFORE = [("events", "0006_teams_and_erasure"), ("newsletters", "0002_suppression")]
AFTER = [("events", "0007_move_alerts_and_drop_notify"), ("newsletters", "0003_event_alerts")]


def test_the_periodic_job_records_each_alerted_event_in_newsletters(db):
    now = timezone.now()
    opened = factories.event()
    later = factories.event(opens_at=now + dt.timedelta(days=2))
    newsletter_alerts.send_due_event_alerts(at=now)
    assert list(EventAlert.objects.values_list("event_id", "sent_at")) == [(opened.pk, now)]
    newsletter_alerts.send_due_event_alerts(at=now + dt.timedelta(minutes=15))  # the next run: nothing new
    assert EventAlert.objects.get().sent_at == now
    newsletter_alerts.send_due_event_alerts(at=now + dt.timedelta(days=3))
    assert set(EventAlert.objects.values_list("event_id", flat=True)) == {opened.pk, later.pk}


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_which_events_were_alerted_and_when():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        Event, Theme = old.get_model("events", "Event"), old.get_model("events", "Theme")
        theme = Theme.objects.create(slug="charging", name="Charging")
        now = timezone.now()
        alerted_at = now - dt.timedelta(days=1)
        fields = {
            "main_theme": theme,
            "language": "en",
            "status": "published",
            "registration_opens_at": now,
            "registration_closes_at": now + dt.timedelta(days=30),
        }
        alerted = Event.objects.create(title="Alerted", slug="alerted", alerts_sent_at=alerted_at, **fields)
        Event.objects.create(title="Not yet", slug="not-yet", **fields)

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        alerts = new.get_model("newsletters", "EventAlert").objects.values_list("event_id", "sent_at")
        assert list(alerts) == [(alerted.pk, alerted_at)]

        # And back: the field gets its times again.
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        Event = executor.loader.project_state(BEFORE).apps.get_model("events", "Event")
        assert dict(Event.objects.values_list("slug", "alerts_sent_at")) == {
            "alerted": alerted_at,
            "not-yet": None,
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
