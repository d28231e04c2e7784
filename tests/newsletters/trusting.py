"""Helpers shared by the newsletter trust tests."""

import io
from unittest import mock

from newsletters import delivery
from newsletters.models import Edition, Subscriber
from newsletters.services import imports, subscriptions


def sign_up_data(email: str, **overrides) -> dict:
    data = {"email": email, "language": "en", "all_topics": "True", "consent": "on", "website": ""}
    data.update(overrides)
    return data


def confirmed_subscriber(hooks, email="reader@example.org", *, topics=(), language="en") -> Subscriber:
    with hooks(execute=True):
        subscriber = subscriptions.subscribe(
            email,
            language=language,
            topics=list(topics),
            all_topics=not topics,
            event_alerts=False,
            consent_text="I agree.",
            source="test",
        )
    return subscriptions.confirm(subscriber, source="test")


def unsubscribed_subscriber(hooks, email="reader@example.org", **kwargs) -> Subscriber:
    return subscriptions.unsubscribe(confirmed_subscriber(hooks, email, **kwargs), source="unsubscribe page")


def csv_file(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def import_csv(text: str) -> imports.ImportResult:
    return imports.import_subscribers(csv_file(text), source="Old sign-up sheet", consent_text="Yes")


def send_edition_to_everyone() -> Edition:
    edition = Edition.objects.create(subject="Spring news", body="Hello.", include_upcoming_events=False)
    delivery.send_now(edition, by=None)
    with mock.patch.object(delivery, "publish_batch", return_value=True):
        delivery.start_due_editions()
    delivery.send_batch(edition.pk, 100)
    edition.refresh_from_db()
    return edition
