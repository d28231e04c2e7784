"""The pace of newsletter sending: how large a batch is, and the wait before each message that
keeps the whole portal at NEWSLETTER_RATE_PER_MINUTE (delivery.py sends the batches)."""

from __future__ import annotations

import time

from django.conf import settings

# A throttled batch sends for about this long at most, well inside CELERY_TASK_SOFT_TIME_LIMIT.
THROTTLED_BATCH_SECONDS = 120
# A task claims and sends batch after batch until this long has passed, then hands on to the next
# task: its SMTP connection, renderer and database connections serve many batches. The last batch
# may start just before the end: with the time limit's 240 s, that leaves a batch of 200 about
# 0.9 s per message, as a task of one batch had.
TASK_SECONDS = 60


def rate_per_minute() -> int:
    return settings.NEWSLETTER_RATE_PER_MINUTE


def configured_batch_size(requested: int | None = None) -> int:
    size = requested or settings.NEWSLETTER_BATCH_SIZE
    if rate_per_minute():
        # Paced sending is slow; a batch must end before Celery's time limit kills it.
        size = min(size, max(1, THROTTLED_BATCH_SECONDS * rate_per_minute() // 60))
    return max(1, size)


class Pacer:
    """Keeps the send rate at NEWSLETTER_RATE_PER_MINUTE. Celery's rate_limit cannot do this:
    it limits tasks per worker process, not messages across all workers. Under a rate limit
    only one batch sends at a time (see delivery._another_batch_sending), and it waits one interval
    before each message, the first included, so the gap between two batches is kept too."""

    def __init__(self, per_minute: int):
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.next_at = time.monotonic() + self.interval

    def wait(self) -> None:
        if not self.interval:
            return
        delay = self.next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.next_at = max(self.next_at, time.monotonic()) + self.interval
