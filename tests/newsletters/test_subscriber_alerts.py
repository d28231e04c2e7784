"""Event alerts to subscribers: once per event and subscriber, only for matching topics, with
one-click unsubscribe headers, and never about a draft."""

import datetime as dt
import re

from django.core import mail
from django.utils import timezone

from events.models import Event
from mail.models import OutgoingMessage
from newsletters import tokens
from newsletters.services import alerts, subscriptions
from tests import factories
from tests.newsletters.subscribing import active_subscriber, html_part, sign_up

UNSUBSCRIBE_LINK = re.compile(r"https?://[^/\s\"]+/newsletter/unsubscribe/([^/\s\"]+)/")


# ---------------------------------------------------------------------------------------------
# Event alerts


def test_event_alerts_go_once_per_event_and_subscriber_and_only_to_matching_topics(
    hooks, charging, cycling, parking
):
    event = factories.event(title="Charging hubs", capacities=(20, 12), main_theme=charging)
    event.themes.add(parking)
    everything = active_subscriber(hooks, "all@example.org", event_alerts=True)
    on_main = active_subscriber(
        hooks, "charging@example.org", topics=[charging], event_alerts=True, language="da"
    )
    on_other = active_subscriber(hooks, "parking@example.org", topics=[parking], event_alerts=True)
    active_subscriber(hooks, "cycling@example.org", topics=[cycling], event_alerts=True)
    active_subscriber(hooks, "quiet@example.org", topics=[charging], event_alerts=False)
    sign_up(hooks, "pending@example.org", topics=[charging], event_alerts=True)
    subscriptions.unsubscribe(
        active_subscriber(hooks, "gone@example.org", topics=[charging], event_alerts=True), source="test"
    )
    mail.outbox.clear()

    with hooks(execute=True):
        assert alerts.send_event_alerts(event) == 3
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [everything.email, on_main.email, on_other.email]
    )
    message = next(message for message in mail.outbox if message.to == [everything.email])
    assert "Charging hubs" in message.subject
    assert "Charging hubs" in message.body
    assert event.get_absolute_url() in message.body
    assert "20 seats left" in message.body and "12 seats left" in message.body
    assert tokens.read(UNSUBSCRIBE_LINK.search(message.body).group(1), tokens.UNSUBSCRIBE) == everything
    assert tokens.read(UNSUBSCRIBE_LINK.search(html_part(message)).group(1), tokens.UNSUBSCRIBE) == everything
    assert event.get_absolute_url() in html_part(message)
    assert OutgoingMessage.objects.filter(idempotency_key=f"event-alert:{event.pk}:{everything.pk}").exists()
    danish = next(message for message in mail.outbox if message.to == [on_main.email])
    assert '<html lang="da">' in html_part(danish)

    # However often the job runs, nobody gets a second alert about the same event.
    mail.outbox.clear()
    with hooks(execute=True):
        assert alerts.send_event_alerts(event) == 0
    assert not mail.outbox
    # Someone who subscribes later gets the alert on the next run, and only they.
    late = active_subscriber(hooks, "late@example.org", topics=[parking], event_alerts=True)
    mail.outbox.clear()
    with hooks(execute=True):
        assert alerts.send_event_alerts(event) == 1
    assert [message.to for message in mail.outbox] == [[late.email]]


def test_alerts_carry_one_click_unsubscribe_headers(hooks, charging):
    active_subscriber(hooks, "all@example.org", event_alerts=True)
    event = factories.event(main_theme=charging)
    mail.outbox.clear()
    with hooks(execute=True):
        alerts.send_event_alerts(event)
    headers = mail.outbox[0].extra_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (
        "/newsletter/unsubscribe/" in headers["List-Unsubscribe"] and "mailto:" in headers["List-Unsubscribe"]
    )


def test_the_periodic_job_alerts_once_when_registration_opens(hooks, charging):
    active_subscriber(hooks, "all@example.org", event_alerts=True)
    now = timezone.now()
    later = factories.event(main_theme=charging, opens_at=now + dt.timedelta(days=2))
    opened = factories.event(main_theme=charging)
    mail.outbox.clear()
    with hooks(execute=True):
        assert alerts.send_due_event_alerts() == 1
        assert alerts.send_due_event_alerts() == 0
    assert len(mail.outbox) == 1 and opened.title in mail.outbox[0].subject
    with hooks(execute=True):
        assert alerts.send_due_event_alerts(at=now + dt.timedelta(days=3)) == 1
    assert later.title in mail.outbox[-1].subject


def test_an_alert_queued_before_unsubscribing_is_not_sent(hooks, charging):
    from mail import sending

    subscriber = active_subscriber(hooks, "all@example.org", event_alerts=True)
    event = factories.event(main_theme=charging)
    alerts.send_event_alerts(event)  # written, but its transaction has not published it
    subscriptions.unsubscribe(subscriber, source="test")
    mail.outbox.clear()
    record = OutgoingMessage.objects.get(kind="event_alert")
    assert sending.deliver(record.pk) is False
    record.refresh_from_db()
    assert record.status == OutgoingMessage.Status.WITHDRAWN and not mail.outbox


def test_no_alerts_about_a_draft(hooks, charging):
    active_subscriber(hooks, "all@example.org", event_alerts=True)
    draft = factories.event(status=Event.Status.DRAFT, main_theme=charging)
    assert alerts.send_event_alerts(draft) == 0
