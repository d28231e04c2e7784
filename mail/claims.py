"""Claimable deliveries: the one mechanism that makes both email engines send each message at
most once and lose none, as functions over any model with a status (pending, sending, failed),
an attempt counter, a claim time and a not-before time. A `Claimable` declares the columns and
settings of one model (the outbox's OutgoingMessage, newsletters' Delivery).

- claim: pending rows that are due go to sending under SELECT ... FOR UPDATE SKIP LOCKED, in a
  transaction of their own that commits before the SMTP server is called, with one attempt
  counted. Two workers never hold the same row; nothing is claimed while sending is paused.
  claim_one: the same for the one row a send task names, as one conditional UPDATE.
- give_back: claimed rows go back to pending, due after a back-off (MAIL_RETRY_BASE_SECONDS
  doubling to MAIL_RETRY_MAX_SECONDS) or after the pause; after the model's last attempt they
  fail. A failure that is not the message's (the server is unreachable, or refuses the portal)
  spends no attempt where the model says so.
- recover_stale: claims older than the model's claim timeout belong to workers that died: back
  to pending and due at once (failed after the last attempt: a message that kills its worker
  must not do so forever). The timeout is longer than CELERY_TASK_TIME_LIMIT, so a live worker
  keeps its claims.

The one window for a duplicate is a kill between the SMTP server's acceptance and the commit of
"sent"; every message keeps one Message-ID for all its attempts, so mail systems can drop the
copy. A sender's own marks may commit without waiting for the disk (marks_without_flush): then
a crash of the PostgreSQL server itself, not of the worker, can also undo the marks of its last
fraction of a second, which sends those messages again and never loses one. A batch that
commits its marks in groups while the next messages go out (MarksBehind) leaves in doubt, when
its worker is killed, the message in flight and those whose marks wait to be committed: at most
eight, sent within the last 50 ms.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from django import db
from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import smtp


@dataclass(frozen=True)
class Claimable:
    """How one model holds the claim columns. The status values are the same strings in every
    model ("pending", "sending", "failed")."""

    model: type[models.Model]
    # The setting with the claims of one row before it fails, and the claim timeout (seconds).
    max_attempts_setting: str
    claim_timeout_setting: str
    # The column that keeps the last error ("last_error", "error").
    error_field: str = "error"
    # Whether a failure that is not the message's (UNAVAILABLE, PAUSE) spends an attempt.
    # Newsletters: no, an edition must reach everybody after an outage of any length. The
    # outbox: yes for UNAVAILABLE (a transactional message that could not go out within its
    # attempts, about an hour, is failed for an organizer to resend; sign-in secrets are stale
    # by then anyway), never for PAUSE.
    outage_spends_attempt: bool = False
    # Columns set whenever a row goes back to pending (the outbox forgets it was published, so
    # the sweep publishes it again once it is due).
    on_pending: dict = field(default_factory=dict)
    # Marks rows failed; the outbox's also removes a sign-in secret with it.
    fail: Callable[[models.QuerySet, str], int] | None = None

    def max_attempts(self) -> int:
        return getattr(settings, self.max_attempts_setting)

    def claim_timeout(self) -> dt.timedelta:
        return dt.timedelta(seconds=getattr(settings, self.claim_timeout_setting))

    def mark_failed(self, rows: models.QuerySet, error: str) -> int:
        if self.fail is not None:
            return self.fail(rows, error)
        return rows.update(status="failed", **{self.error_field: error})


@contextmanager
def marks_without_flush() -> Iterator[None]:
    """Commits on this connection return before PostgreSQL has flushed them to disk
    (synchronous_commit off, for this session until the block ends).

    A sender commits one mark per message; waiting for the disk on each was a third of a
    newsletter message's cost beyond the SMTP exchange. Only the marks' durability changes: a
    commit still holds its locks and is seen by everybody at once, a killed worker loses nothing
    it committed, and only a crash of the database server can undo the last fraction of a
    second (wal_writer_delay, 200 ms by default; at most three times that), which sends those
    messages again. Outside PostgreSQL, or inside a transaction, nothing changes."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        # A connection that broke meanwhile is discarded with its setting.
        with suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


class MarksBehind:
    """Commits the sent messages' marks on a connection of its own, in order, while the next
    messages are built and sent: in groups of up to `group` marks (GROUP), one UPDATE and commit
    each, a group at most `seconds` (SECONDS) after its first mark was added. A statement, a
    commit and a hand-over to the thread for every message took about a tenth of a newsletter
    message's time in the worker; a group shares them among its messages.

    `committed` holds the ids whose marks have committed. Once a group fails nothing more is
    committed: `add`, `settle` or `close` raises its error (once), and the messages of that group
    and those sent after it stay claimed, to be given back, never lost. `settle` and `close`
    wait for every mark added so far. At most `group` marks wait at any time: `add` waits for
    room. A worker killed meanwhile leaves in doubt the message in flight and those whose marks
    wait: at most `group`, sent within the last `seconds` (unless their commit was slower).

    Only on PostgreSQL outside a transaction: elsewhere (SQLite, a test's transaction, which
    another connection cannot see) each mark runs at once on this connection."""

    GROUP = 8
    SECONDS = 0.05

    def __init__(self, mark: Callable[[list[int]], object], *, group: int = 0, seconds: float = 0):
        self._mark = mark
        self.group, self.seconds = group or self.GROUP, seconds or self.SECONDS
        self.committed: set[int] = set()
        self._failure: BaseException | None = None
        self._raised = False
        self._thread = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Ids to mark, a threading.Event to set once all before it committed, None to stop.
            self._queue: queue.SimpleQueue = queue.SimpleQueue()
            # Places for marks not yet committed: a database that stalls stops the sending.
            self._room = threading.Semaphore(self.group)
            self._thread = threading.Thread(target=self._run, name="mail-marks", daemon=True)
            self._thread.start()

    def add(self, pk: int) -> None:
        if self._thread is None:
            self._mark([pk])
            self.committed.add(pk)
            return
        self._raise_failure()
        self._until(lambda: self._room.acquire(timeout=1))
        self._queue.put(pk)

    def settle(self) -> None:
        """Wait until every mark added so far has committed; raises the error of one that failed."""
        if self._thread is not None:
            done = threading.Event()
            self._queue.put(done)
            self._until(lambda: done.wait(timeout=1))
        self._raise_failure()

    def _until(self, ready: Callable[[], bool]) -> None:
        while not ready():
            if not self._thread.is_alive():  # never wait for a thread that is gone
                raise RuntimeError("The thread committing the marks stopped.")

    def close(self) -> None:
        try:
            self.settle()
        finally:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None

    def _raise_failure(self) -> None:
        if self._failure is not None and not self._raised:
            self._raised = True
            raise self._failure

    # The rest runs in the thread, where `db.connection` is the thread's own; the thread's
    # connection goes with it, so nothing holds it open between batches.
    def _run(self) -> None:
        try:
            self._guarded(self._open)
            waiting: list[int] = []
            due = 0.0
            while True:
                try:
                    item = self._queue.get(timeout=max(0.0, due - time.monotonic()) if waiting else None)
                except queue.Empty:
                    item = _DUE
                if isinstance(item, int):
                    if not waiting:
                        due = time.monotonic() + self.seconds
                    waiting.append(item)
                    if len(waiting) < self.group:
                        continue
                group, waiting = waiting, []
                if group and self._guarded(self._mark, group):
                    self.committed.update(group)
                if group:
                    self._room.release(len(group))
                if isinstance(item, threading.Event):
                    item.set()
                elif item is None:
                    return
        finally:
            db.connection.close()

    def _guarded(self, write: Callable, *args) -> bool:
        """Whether `write` ran and succeeded; nothing runs after a failure."""
        if self._failure is not None:
            return False
        try:
            write(*args)
        except BaseException as exc:  # raised again where the marks are added
            self._failure = exc
            return False
        return True

    @staticmethod
    def _open() -> None:
        with db.connection.cursor() as cursor:  # see marks_without_flush
            cursor.execute("SET synchronous_commit TO off")


# The time of the waiting group has come (MarksBehind).
_DUE = object()


def due_q(now: dt.datetime) -> Q:
    """Pending and past the back-off (an empty not-before time is due at once)."""
    return Q(status="pending") & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def due(rows: models.QuerySet, now: dt.datetime) -> models.QuerySet:
    return rows.filter(due_q(now))


def claim(kind: Claimable, rows: models.QuerySet, limit: int, now: dt.datetime | None = None) -> list[int]:
    """Claim up to `limit` due pending rows of `rows` (pending → sending, one attempt counted)
    and commit. Returns the ids this call claimed; none while sending is paused."""
    now = now or timezone.now()
    until = smtp.paused_until(now)
    if until is not None:
        # Not before the pause ends: the periodic jobs pick the rows up then.
        defer_while_paused(kind, due(rows, now), until)
        return []
    with transaction.atomic():
        ids = list(
            due(rows, now)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        kind.model.objects.filter(pk__in=ids, status="pending").update(
            status="sending", claimed_at=now, attempts=F("attempts") + 1
        )
    # SQLite ignores FOR UPDATE: two callers could read the same ids there. The conditional
    # UPDATE gives each row to one of them, and the claim time tells which rows are ours.
    return list(
        kind.model.objects.filter(pk__in=ids, status="sending", claimed_at=now).values_list("pk", flat=True)
    )


def claim_one(kind: Claimable, pk: int, now: dt.datetime | None = None) -> bool:
    """`claim` of the one row a send task names: one conditional UPDATE, committed. A claim or
    change of the row at the same moment waits for the row's lock and then finds it no longer
    pending, so the row is claimed once; unlike SKIP LOCKED, a short write that holds the row
    just then (a withdrawal, a mark) delays the claim instead of leaving the row to the sweep."""
    now = now or timezone.now()
    row = due(kind.model.objects.filter(pk=pk), now)
    until = smtp.paused_until(now)
    if until is not None:
        # As `claim`: only a row due now waits for the pause; a longer back-off stays.
        defer_while_paused(kind, row, until)
        return False
    return bool(row.update(status="sending", claimed_at=now, attempts=F("attempts") + 1))


def give_back(
    kind: Claimable,
    pks: Iterable[int],
    error: str,
    *,
    outcome: smtp.Outcome = smtp.Outcome.RETRY,
    not_before: dt.datetime | None = None,
) -> int:
    """Claimed rows back to pending, due after the back-off for their attempts (or at
    `not_before` when that is later: the end of a pause). A row past its last attempt fails.
    Returns how many went back to pending."""
    now = timezone.now()
    claimed = kind.model.objects.filter(pk__in=list(pks), status="sending")
    spends = outcome == smtp.Outcome.RETRY or (
        outcome == smtp.Outcome.UNAVAILABLE and kind.outage_spends_attempt
    )
    if spends:
        kind.mark_failed(claimed.filter(attempts__gte=kind.max_attempts()), error)
    returned = 0
    # One UPDATE per attempt count: the back-off doubles with the attempts.
    for attempts in sorted(set(claimed.values_list("attempts", flat=True))):
        wait_until = now + smtp.backoff(attempts if spends else 1)
        if not_before is not None:
            wait_until = max(wait_until, not_before)
        returned += claimed.filter(attempts=attempts).update(
            status="pending",
            next_attempt_at=wait_until,
            attempts=F("attempts") if spends else F("attempts") - 1,
            **{kind.error_field: error},
            **kind.on_pending,
        )
    return returned


def defer_while_paused(kind: Claimable, rows: models.QuerySet, until: dt.datetime) -> int:
    """Pending rows wait for the end of the pause (a message published while sending is
    paused must not be tried before it ends)."""
    return rows.filter(status="pending").update(next_attempt_at=until, **kind.on_pending)


def recover_stale(
    kind: Claimable, rows: models.QuerySet | None = None, now: dt.datetime | None = None
) -> tuple[int, int]:
    """Expired claims back to pending, due at once; failed after the last attempt. Returns
    (recovered, failed)."""
    now = now or timezone.now()
    rows = kind.model.objects.all() if rows is None else rows
    stale = rows.filter(status="sending", claimed_at__lt=now - kind.claim_timeout())
    failed = kind.mark_failed(
        stale.filter(attempts__gte=kind.max_attempts()),
        "Claim expired too often: the worker stopped while sending.",
    )
    recovered = stale.update(
        status="pending",
        next_attempt_at=now,
        **{kind.error_field: "Claim expired: the worker stopped while sending."},
        **kind.on_pending,
    )
    return recovered, failed
