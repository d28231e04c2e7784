"""One edition of django-newsletter 1.2.1 to SUBSCRIBERS subscriptions, sent the way its admin
sends a submission (`Submission.submit()`: a message at a time, each over its own SMTP
connection). Run in its own environment by bench/django_newsletter; prints one JSON line."""

import json
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")

import django  # noqa: E402

django.setup()

from django.contrib.sites.models import Site  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from newsletter.models import Article, Message, Newsletter, Submission, Subscription  # noqa: E402


class Failures(logging.Handler):
    """django-newsletter logs a message it could not send and goes on: those are counted."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.count = 0

    def emit(self, record):
        self.count += 1


def _empty() -> None:
    tables = [model._meta.db_table for model in (Newsletter, Subscription, Message, Article, Submission)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def _edition(subscribers: int) -> Submission:
    with transaction.atomic():
        _empty()
        newsletter = Newsletter.objects.create(
            title="Nyhedsbrev", slug="nyhedsbrev", sender="Netværket", email="nyhedsbrev@example.org"
        )
        newsletter.site.set([Site.objects.get_current()])
        Subscription.objects.bulk_create(
            (Subscription(newsletter=newsletter, email_field=f"reader{n}@bench.example", subscribed=True,
                          subscribe_date=timezone.now()) for n in range(subscribers)),
            batch_size=5000,
        )  # fmt: skip
        message = Message.objects.create(title="Nyhedsbrev", slug="nyhedsbrev", newsletter=newsletter)
        text = "<p>Et afsnit med <strong>nyheder</strong>.</p>"
        Article.objects.create(post=message, title="Nyt", text=text)
    return Submission.from_message(message)


def main() -> None:
    subscribers = int(os.environ["SUBSCRIBERS"])
    call_command("migrate", verbosity=0)
    submission = _edition(subscribers)
    failures = Failures()
    logging.getLogger("newsletter").addHandler(failures)
    started = time.perf_counter()
    submission.submit()
    seconds = time.perf_counter() - started
    submission.refresh_from_db()
    print(json.dumps({"subscribers": subscribers, "seconds": seconds, "sent": submission.sent,
                      "failures": failures.count}))  # fmt: skip


if __name__ == "__main__":
    main()
