"""Builders shared by the newsletter edition tests."""

from newsletters import delivery
from newsletters.models import Edition, Subscriber

ACTIVE, PENDING_SUB, UNSUBSCRIBED, BOUNCING = (
    Subscriber.Status.ACTIVE,
    Subscriber.Status.PENDING,
    Subscriber.Status.UNSUBSCRIBED,
    Subscriber.Status.BOUNCING,
)


def make_subscriber(email: str, *, status=ACTIVE, topics=(), language="en", bounce_count=0) -> Subscriber:
    subscriber = Subscriber.objects.create(
        email=email, status=status, all_topics=not topics, language=language, bounce_count=bounce_count
    )
    subscriber.topics.set(topics)
    return subscriber


def make_edition(**fields) -> Edition:
    defaults = {
        "subject": "Spring on two wheels",
        "preheader": "Cargo bikes, charging and a new handbook",
        "body": "Dear reader,\n\nThe **cycling** season opens.\n\n<script>alert(1)</script>",
        "include_upcoming_events": False,
        "include_recent_materials": False,
    }
    return Edition.objects.create(**{**defaults, **fields})


def start_sending(edition: Edition) -> Edition:
    delivery.send_now(edition, by=None)
    assert delivery.start_due_editions() == [edition.pk]
    edition.refresh_from_db()
    return edition


def delivery_statuses(edition: Edition) -> dict[str, str]:
    return dict(edition.deliveries.values_list("subscriber__email", "status"))
