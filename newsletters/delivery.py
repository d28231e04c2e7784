"""Newsletter editions from draft to sent, and the delivery of each edition to each subscriber
exactly once. This module alone changes the state of an edition or a delivery.

- An edition moves draft → scheduled → sending → sent. Every move is a conditional UPDATE
  (`... WHERE status = <expected>`), so of two clicks, two beat ticks or two workers only one
  finds a row to change; an edition that is sending or sent can never start again.
- Starting an edition writes one Delivery row per subscriber of its audience in the same
  transaction as scheduled → sending. The row is unique per (edition, subscriber): nobody is in
  an audience twice, and the rows, not the Celery tasks, say what still has to be sent.
- A batch claims due deliveries with the mail package's claims (SKIP LOCKED, the same
  back-off, pause and stale-claim recovery as transactional messages) and commits each outcome
  right after its message, "sent" in groups of a few messages (claims.MarksBehind): a worker
  killed mid-batch leaves only the message in flight and those of the last 50 ms in doubt. A
  task sends batch after batch over one SMTP connection for about pacing.TASK_SECONDS, then
  publishes the next task. The commits do not wait for the disk
  (claims.marks_without_flush): a crash of the database server may send the messages of its
  last fraction of a second again. What an SMTP error means is that package's smtp.classify.
- recover() returns claims older than NEWSLETTER_CLAIM_TIMEOUT to pending and publishes a batch
  for every edition whose chain of batches stopped (a lost task, a broker that was down, a
  back-off or a pause that has ended). The one window for a duplicate is a kill between the
  SMTP server's acceptance and the commit of "sent"; every delivery has a fixed Message-ID, so
  mail systems can drop such a copy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import time
from contextlib import suppress
from functools import partial

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection as database
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mail import bursts, claims, publishing, smtp
from members.errors import RuleError

from . import pacing, rendering
from .emails import build_message, message_id
from .models import Delivery, Edition, Subscriber

logger = logging.getLogger(__name__)

DRAFT, SCHEDULED, SENDING, SENT = (
    Edition.Status.DRAFT,
    Edition.Status.SCHEDULED,
    Edition.Status.SENDING,
    Edition.Status.SENT,
)
Status = Delivery.Status

# Subscribers read, and deliveries written, per round trip while an edition starts: memory
# stays flat however large the audience.
AUDIENCE_CHUNK = 1000
# Chains of batches that send one edition side by side when there is no rate limit.
PARALLEL_BATCHES = 4

# Deliveries for the shared claims. An outage of the server spends no attempt: after an outage
# of any length the edition reaches everybody.
DELIVERIES = claims.Claimable(
    model=Delivery,
    max_attempts_setting="NEWSLETTER_MAX_ATTEMPTS",
    claim_timeout_setting="NEWSLETTER_CLAIM_TIMEOUT",
)


class EditionStateError(RuleError):
    """The edition is not in a state that allows the change; the message is translated and
    meant for the organizer."""


# ---------------------------------------------------------------------------------------------
# An edition's status


def _refused(edition: Edition) -> EditionStateError:
    """The error for a conditional UPDATE that found the edition in another state."""
    edition.refresh_from_db(fields=["status", "scheduled_at", "started_at", "sent_at"])
    if edition.status in (SENDING, SENT):
        return EditionStateError(
            _("This edition has been sent already; an edition is never sent twice."), "already_sent"
        )
    if edition.status == SCHEDULED:
        return EditionStateError(
            _("This edition is scheduled already. Cancel the schedule first to choose another time."),
            "already_scheduled",
        )
    return EditionStateError(_("This edition is a draft and not scheduled."), "not_scheduled")


def schedule(edition: Edition, at: dt.datetime, *, by) -> Edition:
    """Draft → scheduled: the periodic tick starts it once `at` has come."""
    if at <= timezone.now():
        raise EditionStateError(_("Choose a time in the future."), "in_the_past")
    if not Edition.objects.filter(pk=edition.pk, status=DRAFT).update(status=SCHEDULED, scheduled_at=at):
        raise _refused(edition)
    edition.status, edition.scheduled_at = SCHEDULED, at
    logger.info("Newsletter: %s scheduled edition %s for %s", by, edition.pk, at.isoformat())
    return edition


def send_now(edition: Edition, *, by) -> Edition:
    """Draft or scheduled → scheduled for now, and start it at once. Starting is left to
    start_due_editions(), the one place that does it, so a second click or a tick at the same
    moment cannot start the edition twice; if the broker is down, the next tick starts it."""
    now = timezone.now()
    if not Edition.objects.filter(pk=edition.pk, status__in=[DRAFT, SCHEDULED]).update(
        status=SCHEDULED, scheduled_at=now
    ):
        raise _refused(edition)
    edition.status, edition.scheduled_at = SCHEDULED, now
    logger.info("Newsletter: %s sends edition %s now", by, edition.pk)
    transaction.on_commit(publish_start)
    return edition


def cancel_schedule(edition: Edition, *, by) -> Edition:
    """Scheduled → draft, unless it has started meanwhile."""
    if not Edition.objects.filter(pk=edition.pk, status=SCHEDULED).update(status=DRAFT, scheduled_at=None):
        raise _refused(edition)
    edition.status, edition.scheduled_at = DRAFT, None
    logger.info("Newsletter: %s cancelled the schedule of edition %s", by, edition.pk)
    return edition


def audience(edition: Edition):
    """The subscribers an edition goes to: active, and following one of its topics or all."""
    return Subscriber.objects.for_topics(edition.topics.all())


def start_due_editions(now: dt.datetime | None = None, *, chunk_size: int = AUDIENCE_CHUNK) -> list[int]:
    """Start every scheduled edition whose time has come: scheduled → sending, a delivery row
    for each subscriber of its audience, then the batch tasks (after the commit, so a worker
    finds the rows). Returns the ids of the editions this call started."""
    now = now or timezone.now()
    due = Edition.objects.filter(status=SCHEDULED, scheduled_at__lte=now).order_by("scheduled_at", "pk")
    started = []
    for edition_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            # The status and the rows commit together: a crash in between leaves the edition
            # scheduled, and the next tick starts it afresh.
            if not Edition.objects.filter(pk=edition_id, status=SCHEDULED, scheduled_at__lte=now).update(
                status=SENDING, started_at=now
            ):
                continue  # cancelled, or started by another tick meanwhile
            edition = Edition.objects.get(pk=edition_id)
            count = _write_deliveries(edition, chunk_size)
            if count == 0:
                _finish_if_done(edition_id)
            else:
                transaction.on_commit(partial(_publish_batches, edition_id, count))
        logger.info("Newsletter: edition %s started for %d subscribers", edition_id, count)
        started.append(edition_id)
    return started


def _write_deliveries(edition: Edition, chunk_size: int) -> int:
    subscriber_ids = audience(edition).order_by("pk").values_list("pk", flat=True)
    written = 0
    chunk: list[Delivery] = []
    for subscriber_id in subscriber_ids.iterator(chunk_size=chunk_size):
        chunk.append(Delivery(edition_id=edition.pk, subscriber_id=subscriber_id))
        if len(chunk) >= chunk_size:
            written += _insert(chunk)
            chunk = []
    if chunk:
        written += _insert(chunk)
    return written


def _insert(deliveries: list[Delivery]) -> int:
    # A row that exists already (the unique (edition, subscriber)) is kept, not doubled.
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    return len(deliveries)


def _publish_batches(edition_id: int, count: int) -> None:
    size = pacing.configured_batch_size()
    # Under a rate limit one chain sends, so that the pace is the whole portal's; otherwise a
    # few chains share the work.
    chains = 1 if pacing.rate_per_minute() else min(PARALLEL_BATCHES, math.ceil(count / size))
    for _chain in range(chains):
        publish_batch(edition_id, size)


def _finish_if_done(edition_id: int) -> bool:
    """Sending → sent once no delivery is pending or being sent. Returns True if this call
    finished the edition."""
    if Delivery.objects.filter(edition_id=edition_id, status__in=[Status.PENDING, Status.SENDING]).exists():
        return False
    finished = Edition.objects.filter(pk=edition_id, status=SENDING).update(
        status=SENT, sent_at=timezone.now()
    )
    if finished:
        logger.info("Newsletter: edition %s is sent", edition_id)
    return bool(finished)


# ---------------------------------------------------------------------------------------------
# Publishing tasks (a broker that is down is no error: the rows keep the state, the tick
# publishes again)


def publish_start() -> bool:
    return publishing.hand_to_broker("newsletters.tasks.start_due_editions", retrying=True)


def publish_batch(edition_id: int, size: int | None = None) -> bool:
    return publishing.hand_to_broker("newsletters.tasks.send_edition_batch", edition_id, size, retrying=True)


# ---------------------------------------------------------------------------------------------
# Sending a batch


@dataclasses.dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    interrupted: bool = False
    pending: int = 0

    @property
    def more(self) -> bool:
        """Whether the chain should go on with another batch right away."""
        return self.claimed > 0 and not self.interrupted and self.pending > 0


def _another_batch_sending(now: dt.datetime) -> bool:
    # Every throttled claim locks the sending editions' rows first (in one order), so these
    # checks run one at a time and each sees the claims the previous one committed.
    list(Edition.objects.select_for_update().filter(status=SENDING).order_by("pk").values_list("pk"))
    return Delivery.objects.filter(
        status=Status.SENDING, claimed_at__gte=now - DELIVERIES.claim_timeout()
    ).exists()


def _claim(edition_id: int, size: int) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        if pacing.rate_per_minute() and _another_batch_sending(now):
            return []
        return claims.claim(DELIVERIES, Delivery.objects.filter(edition_id=edition_id), size, now)


def send_batch(
    edition_id: int, batch_size: int | None = None, seconds: float = 0, *, yield_to_bursts: bool = False
) -> BatchResult:
    """Claim up to `batch_size` (NEWSLETTER_BATCH_SIZE when None) pending deliveries of a
    sending edition and send them; then claim and send the next batch, and so on while `seconds`
    have not passed (0: one batch). Every batch of the call goes over the same SMTP connection,
    renderer and marks' connection, so a task that sends many batches pays for them once. Each
    outcome is committed right after its message. With `yield_to_bursts` (in a worker), each
    batch first waits for a burst of transactional email being written to end, as a
    confirmation's send task does (mail/bursts.py), at most MAIL_BURST_MAX_WAIT seconds."""
    result = BatchResult()
    edition = Edition.objects.filter(pk=edition_id, status=SENDING).first()
    if edition is None:
        return result
    size = pacing.configured_batch_size(batch_size)
    until = time.monotonic() + seconds
    if yield_to_bursts:
        bursts.yield_to_burst()
    claimed = _claim(edition_id, size)
    if claimed:
        with claims.marks_without_flush(), _Sender(edition) as sender:
            while claimed:
                result.claimed += len(claimed)
                sender.send(claimed, result)
                if result.interrupted or time.monotonic() >= until:
                    break
                if yield_to_bursts:
                    bursts.yield_to_burst()
                claimed = _claim(edition_id, size)
    result.pending = Delivery.objects.filter(edition_id=edition_id, status=Status.PENDING).count()
    _finish_if_done(edition_id)
    return result


class _Sender:
    """What the batches of one call share: the edition's renderer, the pace, the SMTP
    connection (opened at the first message) and the marks' connection."""

    def __init__(self, edition: Edition):
        self.edition = edition
        self.renderer = rendering.EditionRenderer(edition)
        self.pacer = pacing.Pacer(pacing.rate_per_minute())
        self.connection = None
        self.marks = claims.MarksBehind(_mark_sent)

    def __enter__(self) -> _Sender:
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.marks.close()
        finally:
            if self.connection is not None:
                with suppress(Exception):
                    self.connection.close()

    def send(self, ids: list[int], result: BatchResult) -> None:
        deliveries = list(Delivery.objects.filter(pk__in=ids).select_related("subscriber").order_by("pk"))
        unfinished = {delivery.pk for delivery in deliveries}
        interruption: OSError | None = None
        paused_until = None
        try:
            for delivery in deliveries:
                subscriber = delivery.subscriber
                if subscriber is None or subscriber.status != Subscriber.Status.ACTIVE:
                    # Unsubscribed, bouncing or erased since the edition started: nothing goes out.
                    state = subscriber.status if subscriber else "erased"
                    _set(delivery.pk, Status.SKIPPED, error=f"Subscriber is {state}.")
                    unfinished.discard(delivery.pk)
                    result.skipped += 1
                    continue
                message = build_message(
                    self.edition, subscriber, self.renderer, message_id=message_id(self.edition, delivery)
                )
                self.pacer.wait()
                try:
                    if self.connection is None:
                        self.connection = get_connection()
                        self.connection.open()
                    self.connection.send_messages([message])
                except OSError as exc:  # smtplib's errors are OSErrors too
                    outcome = smtp.classify(exc)
                    if outcome in (smtp.Outcome.UNAVAILABLE, smtp.Outcome.PAUSE):
                        # The server, the connection or the portal's own set-up failed, not this
                        # address: everything not sent yet goes back for a later batch.
                        result.interrupted, interruption = True, exc
                        if outcome == smtp.Outcome.PAUSE:
                            paused_until = smtp.pause_sending(exc)
                        logger.warning(
                            "Newsletter: edition %s interrupted: %s", self.edition.pk, smtp.describe(exc)
                        )
                        break
                    unfinished.discard(delivery.pk)
                    if outcome == smtp.Outcome.BOUNCE:
                        _bounce(delivery, exc)
                        result.failed += 1
                    elif outcome == smtp.Outcome.REJECT:
                        _set(delivery.pk, Status.FAILED, error=smtp.describe(exc))
                        result.failed += 1
                    else:
                        result.retried += claims.give_back(DELIVERIES, [delivery.pk], smtp.describe(exc))
                    continue
                self.marks.add(delivery.pk)
                result.sent += 1
        finally:
            try:
                # Every mark of this batch committed before the next claim, which (under a rate
                # limit) looks for deliveries still being sent.
                self.marks.settle()
            finally:
                _give_back_unfinished(unfinished - self.marks.committed, interruption, paused_until, result)


def _give_back_unfinished(unfinished: set[int], interruption, paused_until, result: BatchResult) -> None:
    """After an interruption or an unexpected error: back to pending, not lost. An outage or a
    pause spends nobody's attempt (DELIVERIES); an unexpected error does, so that a message
    that breaks the batch gives up in the end."""
    if unfinished:
        result.retried += claims.give_back(
            DELIVERIES,
            unfinished,
            smtp.describe(interruption) or "Not sent: the batch stopped before this message.",
            outcome=smtp.classify(interruption) if interruption else smtp.Outcome.RETRY,
            not_before=paused_until,
        )


def _set(pk: int, status: str, **fields) -> None:
    Delivery.objects.filter(pk=pk).update(status=status, **fields)


def _mark_sent(pks: list[int]) -> None:
    """The same as _set(pk, SENT, sent_at=now, error="") for each of the deliveries still
    claimed, written out: it runs for every few messages (claims.MarksBehind), and building the
    query with the ORM each time cost a tenth of a message."""
    marks = ", ".join(["%s"] * len(pks))
    with database.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Delivery._meta.db_table} SET status = %s, sent_at = %s, error = ''"  # noqa: S608
            f" WHERE id IN ({marks}) AND status = %s",
            [Status.SENT, database.ops.adapt_datetimefield_value(timezone.now()), *pks, Status.SENDING],
        )


def _bounce(delivery: Delivery, exc: OSError) -> None:
    """A hard bounce: the delivery failed, and at NEWSLETTER_BOUNCE_LIMIT of them the address is
    bouncing and gets no newsletter again (only a new opt-in makes it active)."""
    with transaction.atomic():
        _set(delivery.pk, Status.FAILED, error=smtp.describe(exc))
        Subscriber.objects.filter(pk=delivery.subscriber_id).update(bounce_count=F("bounce_count") + 1)
        Subscriber.objects.filter(
            pk=delivery.subscriber_id,
            status=Subscriber.Status.ACTIVE,
            bounce_count__gte=settings.NEWSLETTER_BOUNCE_LIMIT,
        ).update(status=Subscriber.Status.BOUNCING)
    logger.info("Newsletter: delivery %s bounced: %s", delivery.pk, smtp.describe(exc))


# ---------------------------------------------------------------------------------------------
# Recovery, tests, progress


def recover(now: dt.datetime | None = None) -> dict[str, int]:
    """Claims of workers that died go back to pending (due at once), and every sending edition
    with due work and no batch running gets a batch published, unless sending is paused; an
    edition with nothing left is finished."""
    now = now or timezone.now()
    stale = Delivery.objects.filter(status=Status.SENDING, claimed_at__lt=now - DELIVERIES.claim_timeout())
    orphaned = set(stale.order_by().values_list("edition_id", flat=True).distinct())
    recovered, gave_up = claims.recover_stale(DELIVERIES, now=now)
    paused = smtp.paused_until(now) is not None
    republished = 0
    for edition_id, started_at in Edition.objects.filter(status=SENDING).values_list("pk", "started_at"):
        if _finish_if_done(edition_id) or paused:
            continue
        if edition_id in orphaned or _stopped(edition_id, started_at, now):
            republished += publish_batch(edition_id)
    return {"recovered": recovered, "failed": gave_up, "republished": republished}


def _stopped(edition_id: int, started_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Deliveries are due (their back-off or the pause is over), no batch holds a claim, and
    none has claimed for NEWSLETTER_IDLE_SECONDS: the chain of batches has stopped (a lost
    task, a broker that was down, a back-off or a pause). A chain that is only between two
    batches gets a second one, which is harmless: they share the rows under SKIP LOCKED."""
    quiet_since = now - dt.timedelta(seconds=settings.NEWSLETTER_IDLE_SECONDS)
    if started_at and started_at > quiet_since:
        return False
    state = Delivery.objects.filter(edition_id=edition_id).aggregate(
        sending=Count("pk", filter=Q(status=Status.SENDING)),
        last_claim=Max("claimed_at"),
        due=Count("pk", filter=claims.due_q(now)),
    )
    quiet = state["last_claim"] is None or state["last_claim"] < quiet_since
    return state["sending"] == 0 and state["due"] > 0 and quiet


def progress(edition: Edition) -> dict[str, int]:
    """Counts of an edition's deliveries, in one query."""
    return Delivery.objects.filter(edition_id=edition.pk).aggregate(
        sent=Count("pk", filter=Q(status=Status.SENT)),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        skipped=Count("pk", filter=Q(status=Status.SKIPPED)),
        remaining=Count("pk", filter=Q(status__in=[Status.PENDING, Status.SENDING])),
        total=Count("pk"),
    )
