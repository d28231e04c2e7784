"""Newsletter delivery benchmark: the portal's delivery path against a bare loop that sends the
same messages over one SMTP connection, to a local SMTP server, and the memory the portal needs
as the list grows (it should not grow with the list).

    .venv/bin/python bench/newsletter.py [--sizes 1000,5000] [--database-url URL]

Uses a throwaway SQLite file unless --database-url points elsewhere (it creates its tables
there with migrate, so use a database of its own). Prints one JSON line per size.
"""

import argparse
import json
import os
import secrets
import socket
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class _Counter:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,5000", help="subscriber counts, comma-separated")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    handler = _Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    database = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="network_portal.settings",
        # Production mode: DEBUG would keep every SQL query in memory and skew the measurement.
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="localhost",
        HTTPS="false",
        DATABASE_URL=database,
        EMAIL_URL=f"smtp://127.0.0.1:{controller.port}",
        NEWSLETTER_BATCH_SIZE="500",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        for size in [int(value) for value in args.sizes.split(",")]:
            print(json.dumps(_run(size, handler)), flush=True)
    finally:
        controller.stop()


def _send_edition(edition, handler: _Counter, size: int, *, trace: bool) -> tuple[float, int]:
    from newsletters import delivery
    from newsletters.models import Edition

    Edition.objects.filter(pk=edition.pk).update(
        status=Edition.Status.SCHEDULED, scheduled_at=edition.created_at
    )
    handler.count = 0
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    delivery.start_due_editions()
    while delivery.send_batch(edition.pk).claimed:
        pass
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    assert handler.count == size, (handler.count, size)
    return seconds, peak


def _run(size: int, handler: _Counter) -> dict:
    from django.core.mail import get_connection

    from newsletters import delivery, rendering
    from newsletters.models import Delivery, Edition, Subscriber

    Delivery.objects.all().delete()
    Edition.objects.all().delete()
    Subscriber.objects.all().delete()
    Subscriber.objects.bulk_create(
        Subscriber(email=f"reader{n}@example.org", language="en", status=Subscriber.Status.ACTIVE)
        for n in range(size)
    )
    edition = Edition.objects.create(subject="Benchmark", body="## News\n\nA paragraph of **news**.")

    # The portal: start the edition and run batches as the worker would, one after another.
    portal_seconds, _ = _send_edition(edition, handler, size, trace=False)
    # Memory in a second run of its own: tracing slows Python down and would skew the rate.
    again = Edition.objects.create(subject="Benchmark, again", body=edition.body)
    _, peak = _send_edition(again, handler, size, trace=True)

    # The bare loop: the same rendered messages over one connection, no bookkeeping.
    renderer = rendering.EditionRenderer(edition)
    messages = [
        delivery.build_message(edition, subscriber, renderer, message_id=f"<bench.{subscriber.pk}@localhost>")
        for subscriber in Subscriber.objects.all().iterator()
    ]
    handler.count = 0
    started = time.perf_counter()
    with get_connection() as connection:
        connection.send_messages(messages)
    bare_seconds = time.perf_counter() - started
    assert handler.count == size

    return {
        "subscribers": size,
        "portal_messages_per_second": round(size / portal_seconds, 1),
        "bare_loop_messages_per_second": round(size / bare_seconds, 1),
        "portal_vs_bare": round(bare_seconds / portal_seconds, 3),
        "portal_peak_python_memory_mb": round(peak / 2**20, 2),
    }


if __name__ == "__main__":
    main()
