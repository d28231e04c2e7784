"""Subscriber lists as CSV: the import of a list whose consent an organizer collected elsewhere,
checked row by row before anything is written, and the export organizers download from admin."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from events.models import Theme

from ..models import Consent, Subscriber
from ..suppression import suppressed_among
from .subscriptions import normalize_email

Status = Subscriber.Status
Action = Consent.Action

IMPORT_COLUMNS = ("email", "language", "topics")
EXPORT_COLUMNS = ("email", "status", "language", "topics", "event_alerts", "created", "confirmed")


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
