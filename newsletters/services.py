"""Subscription rules. Only this module changes a subscriber's state; views, admin, commands and
tests all call it, and every change leaves a Consent record (the GDPR trail) in its transaction.

- Double opt-in: an address typed into the web form stays pending until its owner confirms from
  the signed link in the email. An address already verified by a signed-in member, or imported
  by an organizer with the consent they collected, is active at once.
- Nothing here tells a stranger what state an address is in: subscribing an address that is
  already active changes nothing and the form shows the same "check your inbox" page.
- Unsubscribed and bouncing addresses come back only through a new opt-in. An unsubscribe
  stands until its owner confirms a new one: a sign-up from the web form leaves the address
  unsubscribed and only sends the owner a re-opt-in link; the stale-pending cleanup never
  deletes a row with an unsubscribe in its history; imports never touch a known address.
- An address erased at its owner's request (erase_subscriber) leaves a hashed Suppression
  entry: imports skip it, and only the owner's own confirmed opt-in removes it.
- Each change locks the subscriber's row first (SELECT ... FOR UPDATE), so a double click or a
  mail scanner racing its owner never records a change twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from events.models import Event, Occasion, Theme
from members.errors import RuleError
from members.services import has_verified_email
from network_portal.links import absolute_url
from network_portal.outbox import services as outbox
from network_portal.outbox.models import OutgoingMessage

from . import tokens
from .models import Consent, Delivery, EventAlert, Subscriber, Suppression

# is_suppressed and suppression_hash are read through this module too.
from .suppression import is_suppressed, lift, suppress, suppressed_among, suppression_hash  # noqa: F401

Status = Subscriber.Status
Action = Consent.Action

IMPORT_COLUMNS = ("email", "language", "topics")
EXPORT_COLUMNS = ("email", "status", "language", "topics", "event_alerts", "created", "confirmed")


class SubscriptionError(RuleError):
    """A rule refused a subscription change; the message is translated and meant for the person."""


def pending_days() -> int:
    return settings.NEWSLETTER_PENDING_DAYS


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _lock(subscriber: Subscriber) -> Subscriber:
    locked = Subscriber.objects.select_for_update().filter(pk=subscriber.pk).first()
    if locked is None:  # removed meanwhile, e.g. an unconfirmed sign-up cleared by housekeeping
        raise SubscriptionError(_("This link is no longer valid."), "gone")
    return locked


def _consent(subscriber: Subscriber, action: str, *, source: str, text: str = "") -> Consent:
    return Consent.objects.create(subscriber=subscriber, action=action, source=source[:200], text=text)


def check_topics(topics: Iterable[Theme], all_topics: bool) -> list[Theme]:
    """The rule every way of choosing topics follows (web form, preferences page, admin): all
    topics, or at least one."""
    topics = list(topics)
    if not all_topics and not topics:
        raise SubscriptionError(_("Choose at least one topic, or all topics."), "no_topics")
    return topics


def _check_language(language: str) -> str:
    if language not in dict(settings.LANGUAGES):
        raise SubscriptionError(_("Choose one of the languages in the list."), "language")
    return language


def _link_email(subscriber: Subscriber, *, already_active: bool = False, link: str = "") -> OutgoingMessage:
    """The confirmation email with its signed link (`link`, or a first confirmation's), or for
    an address that is active already a note with the preferences link. Only the owner of the
    mailbox reads either."""
    if already_active:
        context = {
            "subscriber": subscriber,
            "already_active": True,
            "link": tokens.preferences_url(subscriber),
        }
        # One note a day at most, however often a stranger types the address into the form.
        key = f"newsletter-already-subscribed:{subscriber.pk}:{timezone.now():%Y-%m-%d}"
    else:
        context = {
            "subscriber": subscriber,
            "already_active": False,
            "link": link or tokens.confirm_url(subscriber),
            "valid_days": tokens.MAX_AGE[tokens.CONFIRM] // (24 * 3600),
        }
        key = f"newsletter-confirm:{subscriber.pk}:{timezone.now().timestamp()}"
    subject, text, html = outbox.render("newsletter_confirm", context, subscriber.language)
    return outbox.enqueue(
        key=key,
        kind="newsletter_confirm",
        recipient=subscriber.email,
        user=subscriber.user,
        language=subscriber.language,
        subject=subject,
        text=text,
        html=html,
    )


def _get_or_create_locked(email: str, defaults: dict) -> tuple[Subscriber, bool]:
    subscriber = Subscriber.objects.select_for_update().filter(email=email).first()
    if subscriber is not None:
        return subscriber, False
    try:
        # A second request for the same new address may insert first; the unique email then
        # refuses ours and we go on with its row.
        with transaction.atomic():
            return Subscriber.objects.create(email=email, **defaults), True
    except IntegrityError:
        return Subscriber.objects.select_for_update().get(email=email), False


# ---------------------------------------------------------------------------------------------
# Subscribing, confirming, preferences, unsubscribing


@transaction.atomic
def subscribe(
    email: str,
    *,
    language: str,
    topics: Iterable[Theme],
    all_topics: bool,
    event_alerts: bool,
    consent_text: str,
    source: str,
) -> Subscriber:
    """Ask to subscribe `email` from a form anyone can fill in.

    A new, pending or bouncing address becomes pending with the choices given and gets a
    confirmation email. An unsubscribed address stays unsubscribed, choices and all: whoever
    typed it in may not be its owner, and the unsubscribe must stand until the owner confirms;
    the owner gets a re-opt-in link that carries the choices. An active address is left
    exactly as it is (a stranger must not change someone's preferences) and its owner gets a
    short note with the preferences link. A suppressed (erased) address may ask like any new
    one: the confirmation is the owner's own opt-in.
    """
    email = normalize_email(email)
    validate_email(email)
    language = _check_language(language)
    topics = check_topics(topics, all_topics)
    subscriber, _created = _get_or_create_locked(email, {"language": language, "status": Status.PENDING})
    if subscriber.status == Status.ACTIVE:
        _link_email(subscriber, already_active=True)
        return subscriber
    if subscriber.status == Status.UNSUBSCRIBED:
        # The request is on the record; the row changes only when its owner confirms.
        _consent(subscriber, Action.SUBSCRIBED, source=source, text=consent_text)
        link = tokens.reoptin_url(
            subscriber, language=language, topics=topics, all_topics=all_topics, event_alerts=event_alerts
        )
        _link_email(subscriber, link=link)
        return subscriber
    subscriber.status = Status.PENDING
    subscriber.language = language
    subscriber.all_topics = all_topics
    subscriber.event_alerts = event_alerts
    subscriber.confirmed_at = None
    subscriber.save()
    subscriber.topics.set(topics)
    _consent(subscriber, Action.SUBSCRIBED, source=source, text=consent_text)
    _link_email(subscriber)
    return subscriber


@transaction.atomic
def subscribe_member(user, *, consent_text: str) -> Subscriber:
    """A signed-in member subscribes with one click. The address is verified already, so the
    subscription is active at once, in the member's preferred language."""
    if not has_verified_email(user):
        raise SubscriptionError(
            _("Verify your email address first; then you can subscribe with one click."), "unverified"
        )
    email = normalize_email(user.email)
    language = user.preferred_language or settings.LANGUAGE_CODE
    subscriber = (
        Subscriber.objects.select_for_update().filter(email=email).first()
        or Subscriber.objects.select_for_update().filter(user=user).first()
    )
    if subscriber is None:
        subscriber, _created = _get_or_create_locked(email, {"language": language, "status": Status.PENDING})
    elif subscriber.email != email:
        # Subscribed under an address the member has changed since; the verified one replaces it.
        subscriber.email = email
    if subscriber.user_id != user.pk:
        Subscriber.objects.filter(user=user).exclude(pk=subscriber.pk).update(user=None)
        subscriber.user = user
    if subscriber.status == Status.ACTIVE:
        subscriber.save(update_fields=["user", "email"])
        return subscriber
    subscriber.status = Status.ACTIVE
    subscriber.language = language
    subscriber.confirmed_at = timezone.now()
    subscriber.unsubscribed_at = None
    subscriber.bounce_count = 0
    subscriber.save()
    _consent(subscriber, Action.SUBSCRIBED, source="profile", text=consent_text)
    # The member's verified address and own click are a confirmed opt-in.
    lift(email)
    return subscriber


@transaction.atomic
def confirm(subscriber: Subscriber, *, source: str) -> Subscriber:
    """The owner of the address confirmed from the link: pending becomes active. Confirming
    twice changes nothing. An address unsubscribed since the link was sent stays unsubscribed:
    the later decision wins."""
    subscriber = _lock(subscriber)
    if subscriber.status == Status.ACTIVE:
        return subscriber
    if subscriber.status != Status.PENDING:
        raise SubscriptionError(
            _("This confirmation link is no longer valid. Subscribe again to get a new one."), "not_pending"
        )
    subscriber.status = Status.ACTIVE
    subscriber.confirmed_at = timezone.now()
    subscriber.unsubscribed_at = None
    # Confirming proves that the mailbox takes mail again.
    subscriber.bounce_count = 0
    subscriber.save(update_fields=["status", "confirmed_at", "unsubscribed_at", "bounce_count"])
    _consent(subscriber, Action.CONFIRMED, source=source)
    lift(subscriber.email)
    return subscriber


@transaction.atomic
def confirm_reoptin(request: tokens.ReOptIn, *, source: str) -> Subscriber:
    """The owner of an unsubscribed address confirmed from a re-opt-in link: it becomes active
    with the choices made in the sign-up form. Only this, the owner's own confirmed opt-in,
    undoes an unsubscribe. Confirming twice changes nothing; a link that answers an earlier
    unsubscribe than the address's latest is no longer valid (the later decision wins)."""
    subscriber = _lock(request.subscriber)
    if subscriber.status == Status.ACTIVE:
        return subscriber
    if not request.still_applies(subscriber):
        raise SubscriptionError(
            _("This confirmation link is no longer valid. Subscribe again to get a new one."), "not_pending"
        )
    language = _check_language(request.language)
    topics = list(Theme.objects.filter(slug__in=request.topic_slugs))
    if not request.all_topics and not topics:
        # The chosen topics are gone meanwhile; subscribing to everything would be more than
        # the person asked for.
        raise SubscriptionError(
            _("The topics you chose are no longer offered. Subscribe again to choose others."), "no_topics"
        )
    subscriber.status = Status.ACTIVE
    subscriber.language = language
    subscriber.all_topics = request.all_topics
    subscriber.event_alerts = request.event_alerts
    subscriber.confirmed_at = timezone.now()
    subscriber.unsubscribed_at = None
    subscriber.bounce_count = 0
    subscriber.save()
    subscriber.topics.set([] if request.all_topics else topics)
    _consent(subscriber, Action.CONFIRMED, source=source)
    lift(subscriber.email)
    return subscriber


@transaction.atomic
def update_preferences(
    subscriber: Subscriber,
    *,
    topics: Iterable[Theme],
    all_topics: bool,
    language: str,
    event_alerts: bool,
    source: str,
) -> Subscriber:
    """Change what the subscriber hears about and in which language. The status stays as it
    is: preferences never subscribe anyone again."""
    language = _check_language(language)
    topics = check_topics(topics, all_topics)
    subscriber = _lock(subscriber)
    subscriber.language = language
    subscriber.all_topics = all_topics
    subscriber.event_alerts = event_alerts
    subscriber.save(update_fields=["language", "all_topics", "event_alerts"])
    subscriber.topics.set(topics)
    # What was chosen, for the record (organizers read it in admin).
    summary = "language: {}; topics: {}; event alerts: {}".format(
        language,
        "all" if all_topics else ", ".join(sorted(theme.slug for theme in topics)),
        "on" if event_alerts else "off",
    )
    _consent(subscriber, Action.PREFERENCES, source=source, text=summary)
    return subscriber


@transaction.atomic
def unsubscribe(subscriber: Subscriber, *, source: str) -> Subscriber:
    """Stop all newsletter mail to the address at once. A second call changes nothing.
    Senders select Subscriber.objects.active(), so the address gets nothing more."""
    subscriber = _lock(subscriber)
    if subscriber.status == Status.UNSUBSCRIBED:
        return subscriber
    subscriber.status = Status.UNSUBSCRIBED
    subscriber.unsubscribed_at = timezone.now()
    subscriber.save(update_fields=["status", "unsubscribed_at"])
    _consent(subscriber, Action.UNSUBSCRIBED, source=source)
    return subscriber


@transaction.atomic
def remove_stale_pending(older_than: dt.timedelta | None = None) -> int:
    """Delete sign-ups never confirmed within NEWSLETTER_PENDING_DAYS (or `older_than`), with
    their consent records: an unconfirmed address is not ours to keep. A row whose latest
    request to subscribe is recent stays, even if the row itself is old. A row with an
    unsubscribe in its history is never deleted: the unsubscribe and its record must outlive
    a stranger's sign-up (earlier versions made such rows pending). Returns how many were
    deleted."""
    cutoff = timezone.now() - (older_than if older_than is not None else dt.timedelta(days=pending_days()))
    recent_request = Consent.objects.filter(action=Action.SUBSCRIBED, at__gte=cutoff)
    unsubscribed_once = Consent.objects.filter(action=Action.UNSUBSCRIBED)
    stale = (
        Subscriber.objects.filter(status=Status.PENDING, created_at__lt=cutoff, unsubscribed_at__isnull=True)
        .exclude(pk__in=recent_request.values("subscriber_id"))
        .exclude(pk__in=unsubscribed_once.values("subscriber_id"))
    )
    # Locked first, so that a confirmation arriving now either wins (the row is active and
    # stays) or waits and finds the row gone.
    pks = list(stale.select_for_update().values_list("pk", flat=True))
    deleted = Subscriber.objects.filter(pk__in=pks, status=Status.PENDING).delete()[1]
    return deleted.get(Subscriber._meta.label, 0)


# ---------------------------------------------------------------------------------------------
# Erasure (GDPR)

# Outbox messages about the subscription, addressed to the subscriber: they go with it.
_NEWSLETTER_MESSAGE_KINDS = ("newsletter_confirm", "event_alert")


@transaction.atomic
def erase_subscriber(email: str, *, reason: str = Suppression.Reason.ERASURE_REQUEST) -> bool:
    """Erase the subscriber with `email` at the person's request: the row, its consent records,
    the newsletter emails queued or sent to it, and its name in the admin's history. The
    edition statistics keep their counts: each delivery row stays, naming nobody, and one not
    sent yet is skipped. A hashed Suppression entry keeps imports and organizers from adding
    the address again; only the owner's own confirmed opt-in lifts it. Returns whether there
    was a subscriber to erase (without one, nothing is written: there is nothing to keep the
    address from)."""
    email = normalize_email(email)
    subscriber = Subscriber.objects.select_for_update().filter(email=email).first()
    if subscriber is None:
        return False
    erased_note = "The subscriber was erased."
    deliveries = Delivery.objects.filter(subscriber=subscriber)
    deliveries.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]).update(
        status=Delivery.Status.SKIPPED, error=erased_note
    )
    # An SMTP error quotes the address it refused.
    deliveries.exclude(error="").update(error=erased_note)
    deliveries.update(subscriber=None)
    OutgoingMessage.objects.filter(recipient__iexact=email, kind__in=_NEWSLETTER_MESSAGE_KINDS).delete()
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Subscriber), object_id=str(subscriber.pk)
    ).update(object_repr=_("#%(id)d (erased)") % {"id": subscriber.pk})
    suppress(email, reason)
    subscriber.delete()  # its consent records and topics go with it
    return True


def subscribers_of_member(user) -> QuerySet:
    """The subscription rows that are the member's: linked to the account, or under its address
    once verified (until then anyone may have typed anyone's address into a sign-up)."""
    mine = Q(user=user)
    if user.email and has_verified_email(user):
        mine |= Q(email=normalize_email(user.email))
    return Subscriber.objects.filter(mine)


# ---------------------------------------------------------------------------------------------
# Import and export


@dataclass(frozen=True)
class RowError:
    row: int  # the line in the file as a spreadsheet numbers it: the header is row 1
    message: str


@dataclass(frozen=True)
class SkippedRow:
    row: int
    email: str
    reason: str


@dataclass
class ImportResult:
    created: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _ImportRow:
    row: int
    email: str
    language: str
    topics: tuple[Theme, ...]


# An import lists at most this many problems, and then how many more there are.
MAX_REPORTED_ERRORS = 100


def import_max_bytes() -> int:
    return settings.NEWSLETTER_IMPORT_MAX_BYTES


class _Unreadable(Exception):
    """The file as a whole cannot be read as the CSV an import takes."""


def _read_text(csv_file) -> str:
    limit = import_max_bytes()
    # Read no more than the limit allows: an enormous file is refused without holding it all.
    content = csv_file.read(limit + 1)
    if len(content) > limit:
        raise _Unreadable(
            _("The file is larger than %(size)d kB. Split it into smaller files and import each.")
            % {"size": limit // 1024}
        )
    if isinstance(content, bytes):
        try:
            # utf-8-sig: a file saved by Excel starts with a byte-order mark.
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _Unreadable(_("The file is not UTF-8 text. Save it as CSV UTF-8 and try again.")) from None
    if "\x00" in content:
        # UTF-16 without a byte-order mark decodes as UTF-8 with a NUL after every letter; a
        # spreadsheet or other binary file has them too. No CSV of addresses has one.
        raise _Unreadable(
            _(
                "The file contains NUL characters, so it is not CSV text (it may be UTF-16 or a "
                "spreadsheet). Save it as CSV UTF-8 and try again."
            )
        )
    return content.lstrip("\ufeff")


def _shown(value: str, length: int = 60) -> str:
    """A value from the file as an error message quotes it: a long one shortened."""
    return value if len(value) <= length else value[: length - 1] + "…"


def _unreadable_row(error: csv.Error) -> str:
    # The csv module's messages are English and technical; the one that matters in practice
    # is the limit of a value's length (csv.field_size_limit, 131,072 characters).
    if "field larger than field limit" in str(error):
        return _(
            "A value in this row is too long (more than %(limit)d characters). Nothing after it was read."
        ) % {"limit": csv.field_size_limit()}
    return _("This row is not valid CSV (%(problem)s). Nothing after it was read.") % {"problem": error}


def _rows(reader) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """(row number, values) for each row after the header; a row the csv module cannot read
    comes as its csv.Error and ends the file, since what follows it is not reliable."""
    number = 1
    while True:
        number += 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield number, error
            return
        yield number, values


def _parse_import(csv_file) -> tuple[list[_ImportRow], list[RowError]]:
    try:
        text = _read_text(csv_file)
    except _Unreadable as error:
        return [], [RowError(0, str(error))]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader, [])]
    except csv.Error as error:
        return [], [RowError(1, _unreadable_row(error))]
    missing = [name for name in IMPORT_COLUMNS if name not in header]
    if missing:
        return [], [
            RowError(
                1,
                _("The first row must name the columns %(columns)s; missing: %(missing)s.")
                % {"columns": ",".join(IMPORT_COLUMNS), "missing": ", ".join(missing)},
            )
        ]
    index = {name: header.index(name) for name in IMPORT_COLUMNS}
    themes = {theme.slug: theme for theme in Theme.objects.all()}
    languages = dict(settings.LANGUAGES)
    rows, errors, seen = [], [], {}
    for number, values in _rows(reader):
        if isinstance(values, csv.Error):
            errors.append(RowError(number, _unreadable_row(values)))
            break
        if not any(value.strip() for value in values):
            continue

        def value(name: str, values=values) -> str:
            position = index[name]
            return values[position].strip() if position < len(values) else ""

        email = normalize_email(value("email"))
        language = value("language").lower()
        slugs = [slug.strip() for slug in value("topics").split(";") if slug.strip()]
        problems = []
        try:
            validate_email(email)
        except ValidationError:
            problems.append(_("“%(email)s” is not a valid email address.") % {"email": _shown(email)})
        if email in seen:
            problems.append(
                _("%(email)s is also on row %(row)d.") % {"email": _shown(email), "row": seen[email]}
            )
        seen.setdefault(email, number)
        if language not in languages:
            problems.append(
                _("Language “%(language)s” is not one of %(languages)s.")
                % {"language": _shown(language), "languages": ", ".join(languages)}
            )
        unknown = [slug for slug in slugs if slug not in themes]
        if unknown:
            problems.append(_("Unknown topics: %(topics)s.") % {"topics": _shown(", ".join(unknown))})
        errors += [RowError(number, problem) for problem in problems]
        if not problems:
            rows.append(_ImportRow(number, email, language, tuple(themes[slug] for slug in slugs)))
    if len(errors) > MAX_REPORTED_ERRORS:
        more = len(errors) - MAX_REPORTED_ERRORS
        errors = errors[:MAX_REPORTED_ERRORS] + [
            RowError(
                0,
                ngettext("… and %(count)d more problem.", "… and %(count)d more problems.", more)
                % {"count": more},
            )
        ]
    return rows, errors


def _skip_reason(subscriber: Subscriber) -> str:
    if subscriber.status == Status.ACTIVE:
        return _("already subscribed")
    if subscriber.status == Status.PENDING:
        return _("awaiting the owner's confirmation")
    if subscriber.status == Status.BOUNCING:
        return _("mail to the address bounces; only its owner can subscribe again")
    return _("unsubscribed; only its owner can subscribe again")


def import_subscribers(csv_file, *, source: str, consent_text: str) -> ImportResult:
    """Import a list whose consent an organizer collected elsewhere: a CSV file with the header
    `email,language,topics` (topics as theme slugs separated by ";", empty for all topics).

    Every row is checked first; if any is wrong (or the file is not readable CSV: too large,
    not UTF-8, a value over the csv module's limit) nothing is imported and the errors come back
    with their row numbers. Otherwise the new addresses become active subscribers, each with a
    Consent(IMPORTED) naming `source`, in one transaction. Addresses already known are left
    exactly as they are and reported as skipped: an import never subscribes again someone who
    unsubscribed. Addresses erased at their owner's request (suppressed) are skipped too.
    """
    if not source.strip():
        return ImportResult(errors=[RowError(0, _("Name the source of the list."))])
    rows, errors = _parse_import(csv_file)
    if errors:
        return ImportResult(errors=errors)
    try:
        with transaction.atomic():
            return _create_imported(rows, source=source.strip(), consent_text=consent_text)
    except IntegrityError:
        # Someone subscribed one of the addresses while the import ran; the whole import undid.
        return ImportResult(
            errors=[RowError(0, _("An address in the file was added meanwhile. Import the file again."))]
        )


def _create_imported(rows: list[_ImportRow], *, source: str, consent_text: str) -> ImportResult:
    result = ImportResult()
    emails = [row.email for row in rows]
    known = {
        subscriber.email: subscriber
        for subscriber in Subscriber.objects.select_for_update().filter(email__in=emails)
    }
    suppressed = suppressed_among(row.email for row in rows if row.email not in known)
    new_rows = []
    for row in rows:
        if row.email in known:
            result.skipped.append(SkippedRow(row.row, row.email, _skip_reason(known[row.email])))
        elif row.email in suppressed:
            result.skipped.append(
                SkippedRow(
                    row.row, row.email, _("erased at the person's request; only they can subscribe again")
                )
            )
        else:
            new_rows.append(row)
    now = timezone.now()
    created = Subscriber.objects.bulk_create(
        [
            Subscriber(
                email=row.email,
                language=row.language,
                status=Status.ACTIVE,
                all_topics=not row.topics,
                created_at=now,
                confirmed_at=now,
            )
            for row in new_rows
        ]
    )
    Through = Subscriber.topics.through
    Through.objects.bulk_create(
        [
            Through(subscriber_id=subscriber.pk, theme_id=theme.pk)
            for subscriber, row in zip(created, new_rows, strict=True)
            for theme in row.topics
        ]
    )
    Consent.objects.bulk_create(
        [
            Consent(
                subscriber=subscriber, action=Action.IMPORTED, source=source[:200], text=consent_text, at=now
            )
            for subscriber in created
        ]
    )
    result.created = len(created)
    return result


def export_rows(subscribers: QuerySet | None = None) -> Iterator[list[str]]:
    """One row per subscriber in the columns of EXPORT_COLUMNS; topics as the import reads them
    (slugs separated by ";", empty for all topics)."""
    subscribers = Subscriber.objects.all() if subscribers is None else subscribers
    for subscriber in subscribers.order_by("email").prefetch_related("topics").iterator(chunk_size=500):
        yield [
            subscriber.email,
            subscriber.status,
            subscriber.language,
            ""
            if subscriber.all_topics
            else ";".join(sorted(theme.slug for theme in subscriber.topics.all())),
            "yes" if subscriber.event_alerts else "no",
            subscriber.created_at.isoformat(),
            subscriber.confirmed_at.isoformat() if subscriber.confirmed_at else "",
        ]


# ---------------------------------------------------------------------------------------------
# Event alerts


def event_alert_recipients(event: Event) -> QuerySet:
    """Active subscribers with alerts on who follow the event's main theme or one of its other
    themes, or all topics."""
    themes = [event.main_theme, *event.themes.all()]
    return Subscriber.objects.for_topics(themes).filter(event_alerts=True)


@transaction.atomic
def send_event_alerts(event: Event) -> int:
    """Write a short email about `event` to each subscriber who wants one. The outbox key names
    the event and the subscriber, so running this again (a periodic job, a retry) sends nobody a
    second alert; returns how many alerts were written by this call. Drafts get none."""
    if event.status != Event.Status.PUBLISHED:
        return 0
    prefix = f"event-alert:{event.pk}:"
    already = set(
        OutgoingMessage.objects.filter(idempotency_key__startswith=prefix).values_list(
            "idempotency_key", flat=True
        )
    )
    occasions = list(
        Occasion.objects.with_seats().filter(event=event).prefetch_related("day_parts").order_by("starts_at")
    )
    base = {
        "event": event,
        "occasions": occasions,
        "seats_left": sum(occasion.seats_left for occasion in occasions),
        "event_url": absolute_url(event.get_absolute_url()),
    }
    count = 0
    for subscriber in event_alert_recipients(event).iterator(chunk_size=500):
        key = f"{prefix}{subscriber.pk}"
        if key in already:
            continue
        unsubscribe_link = tokens.unsubscribe_url(subscriber)
        context = {
            **base,
            "subscriber": subscriber,
            "preferences_url": tokens.preferences_url(subscriber),
            "unsubscribe_url": unsubscribe_link,
        }
        subject, text, html = outbox.render("event_alert", context, subscriber.language)
        outbox.enqueue(
            key=key,
            kind="event_alert",
            recipient=subscriber.email,
            user=subscriber.user,
            language=subscriber.language,
            subject=subject,
            text=text,
            html=html,
            headers=tokens.list_unsubscribe_headers(unsubscribe_link),
        )
        count += 1
    return count


def send_due_event_alerts(at: dt.datetime | None = None) -> int:
    """Alerts for events that are published and open for registration and have had none yet:
    a periodic job. Each event is claimed first by inserting its EventAlert row (the event is
    its key: an overlapping run waits on the insert, then finds the row and skips the event), so
    its alerts are written once; the outbox keys make each subscriber's alert unique besides."""
    at = at or timezone.now()
    written = 0
    due = Event.objects.filter(
        status=Event.Status.PUBLISHED,
        registration_opens_at__lte=at,
        registration_closes_at__gt=at,
    ).exclude(Exists(EventAlert.objects.filter(event=OuterRef("pk"))))
    for event in due:
        with transaction.atomic():
            _alert, claimed = EventAlert.objects.get_or_create(event=event, defaults={"sent_at": at})
            if claimed:
                written += send_event_alerts(event)
    return written
