"""The Network page's figures: which organizations the network reached in a period, how many of
each kind and region, which it did not reach, and how the themes drew people.

Everything is counted in the database (GROUP BY), so a page costs the same few queries at 1,000
registrations as at 100,000; only the organizations (some hundreds) and the months come back as
rows. What an organizer sees is their teams' events only (Registration.objects.visible_to).

An organization is *reached* when someone from it had a seat (a confirmed registration) on an
occasion of the period and was not marked absent: cancelling, waiting and not coming do not reach
an organization."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from members.models import Organization

from .models import Evaluation, Event, Registration, Series, Theme

CONFIRMED = Registration.Status.CONFIRMED
CANCELLED = Registration.Status.CANCELLED
WAITLISTED = Registration.Status.WAITLISTED
REACHED = Q(status=CONFIRMED) & ~Q(attended=False)

# The default period: the last twelve months, up to and including today.
DEFAULT_DAYS = 365


@dataclass(frozen=True)
class Scope:
    """What the page counts: registrations for occasions starting from `start` to `end` (local
    days, both included), optionally of one theme or one series, of the viewer's teams."""

    viewer: object
    start: dt.date
    end: dt.date
    theme: Theme | None = None
    series: Series | None = None

    @classmethod
    def default(cls, viewer, *, today: dt.date | None = None) -> Scope:
        today = today or timezone.localdate()
        return cls(viewer, today - dt.timedelta(days=DEFAULT_DAYS - 1), today)

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        def midnight(day: dt.date) -> dt.datetime:
            return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

        return midnight(self.start), midnight(self.end + dt.timedelta(days=1))


def events_in(scope: Scope) -> QuerySet:
    """The viewer's events with an occasion in the period, of the theme or series chosen."""
    since, until = scope.bounds
    events = Event.objects.visible_to(scope.viewer).filter(
        occasions__starts_at__gte=since, occasions__starts_at__lt=until
    )
    return _of_the_choice(events, scope, to_event="").distinct()


def _of_the_choice(rows: QuerySet, scope: Scope, *, to_event: str) -> QuerySet:
    """`rows` of the events of the theme (main or another) or series chosen; `to_event` is the
    path from a row to its event ("" for events, "event__" for registrations)."""
    if scope.theme is not None:
        of_theme = Event.objects.filter(Q(main_theme=scope.theme) | Q(themes=scope.theme)).values("pk")
        rows = rows.filter(**{f"{to_event}pk__in": of_theme})
    if scope.series is not None:
        rows = rows.filter(**{f"{to_event}series": scope.series})
    return rows


def registrations_in(scope: Scope) -> QuerySet:
    since, until = scope.bounds
    registrations = Registration.objects.visible_to(scope.viewer).filter(
        occasion__starts_at__gte=since, occasion__starts_at__lt=until
    )
    return _of_the_choice(registrations, scope, to_event="event__").order_by()


COUNTED = {
    "registrations": Count("pk"),
    "confirmed": Count("pk", filter=Q(status=CONFIRMED)),
    "attended": Count("pk", filter=Q(status=CONFIRMED, attended=True)),
    "no_shows": Count("pk", filter=Q(status=CONFIRMED, attended=False)),
    "waiting": Count("pk", filter=Q(status=WAITLISTED)),
    "cancelled": Count("pk", filter=Q(status=CANCELLED)),
}


def _counts(*names: str) -> dict:
    """The annotations counting `names` (all by default), named apart from the model's fields
    (an annotation called "attended" would stand for the field in the next one's filter)."""
    return {f"n_{name}": COUNTED[name] for name in names or COUNTED}


def _counted(row: dict, *names: str) -> dict[str, int]:
    return {name: row[f"n_{name}"] for name in names or COUNTED}


# ---------------------------------------------------------------------------------------------
# The rows


class _Labelled:
    """A row about organizations of a kind and a country, with both named in the reader's language."""

    kind: str
    country: str

    @property
    def kind_label(self) -> str:
        return Organization.Kind(self.kind).label

    @property
    def country_label(self) -> str:
        return Organization.Country(self.country).label


@dataclass
class OrganizationRow(_Labelled):
    pk: int
    name: str
    kind: str
    country: str
    region: str
    registrations: int
    confirmed: int
    attended: int
    no_shows: int
    waiting: int
    cancelled: int
    reached: bool


@dataclass
class Coverage(_Labelled):
    """Organizations reached of all (active) organizations of one kind in one country, and
    within one region when `region` is given."""

    country: str
    kind: str
    region: str
    reached: int
    of: int

    @property
    def percent(self) -> int:
        return round(100 * self.reached / self.of) if self.of else 0


@dataclass
class NotReached(_Labelled):
    pk: int
    name: str
    kind: str
    country: str
    region: str
    last_reached: dt.datetime | None  # the last occasion anyone from it took part in, ever


@dataclass
class ThemeRow:
    theme: Theme
    events: int
    registrations: int
    confirmed: int
    attended: int
    organizations: int


@dataclass
class Month:
    first_day: dt.date
    new: int = 0  # organizations reached for the first time in the period this month
    total: int = 0  # organizations reached from the period's start to the end of this month


@dataclass
class Totals:
    registrations: int = 0
    confirmed: int = 0
    attended: int = 0
    no_shows: int = 0
    waiting: int = 0
    cancelled: int = 0
    organizations: int = 0
    events: int = 0


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


_KIND_ORDER = {kind: index for index, kind in enumerate(Organization.Kind.values)}


# ---------------------------------------------------------------------------------------------
# The figures


class Reach:
    """The figures of one scope, each counted once when first asked for and shared by those
    built on it (the organizations reached by coverage, totals and the list of those not
    reached). Eleven queries in all, whatever the number of registrations."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self._registrations = registrations_in(scope)

    @cached_property
    def _per_organization(self) -> list[dict]:
        """The counts per organization id, with the first occasion that reached it (one query;
        grouped by the id alone, the names are read apart)."""
        return list(
            self._registrations.values("organization").annotate(
                **_counts(),
                n_reached=Count("pk", filter=REACHED),
                first_reached=Min("occasion__starts_at", filter=REACHED),
            )
        )

    @cached_property
    def organizations(self) -> list[OrganizationRow]:
        """Every organization with a registration in the scope, most seats first (two queries)."""
        counts = self._per_organization
        named = Organization.objects.only("name", "kind", "country", "region").in_bulk(
            [row["organization"] for row in counts]
        )
        result = [
            OrganizationRow(
                pk=row["organization"],
                name=named[row["organization"]].name,
                kind=named[row["organization"]].kind,
                country=named[row["organization"]].country,
                region=named[row["organization"]].region,
                **_counted(row),
                reached=row["n_reached"] > 0,
            )
            for row in counts
        ]
        return sorted(result, key=lambda row: (-row.confirmed, -row.registrations, row.name))

    @cached_property
    def reached_ids(self) -> set[int]:
        return {row.pk for row in self.organizations if row.reached}

    @cached_property
    def totals(self) -> Totals:
        """The period's sums, added up from the organizations' rows, and its events (one query)."""
        sums = {name: sum(getattr(row, name) for row in self.organizations) for name in COUNTED}
        return Totals(**sums, organizations=len(self.reached_ids), events=events_in(self.scope).count())

    @cached_property
    def _organizations_per_region(self) -> dict[tuple[str, str, str], int]:
        """How many organizations each country, kind and region has: the active ones, and an
        inactive one only when it was reached (one query)."""
        rows = (
            Organization.objects.filter(Q(is_active=True) | Q(pk__in=self.reached_ids))
            .order_by()
            .values("country", "kind", "region")
            .annotate(count=Count("pk"))
        )
        return {(row["country"], row["kind"], row["region"]): row["count"] for row in rows}

    @cached_property
    def coverage(self) -> list[Coverage]:
        """Per country and kind: organizations reached of all of them."""
        return self._coverage(by_region=False)

    @cached_property
    def regions(self) -> list[Coverage]:
        """Per country, kind and region (organizations without a region left out)."""
        return [row for row in self._coverage(by_region=True) if row.region]

    def _coverage(self, *, by_region: bool) -> list[Coverage]:
        reached = Counter(
            (row.country, row.kind, row.region if by_region else "")
            for row in self.organizations
            if row.reached
        )
        of: Counter = Counter()
        for (country, kind, region), count in self._organizations_per_region.items():
            of[(country, kind, region if by_region else "")] += count
        rows = [Coverage(*key, reached=reached[key], of=count) for key, count in of.items()]
        return sorted(rows, key=lambda row: (row.country, _KIND_ORDER.get(row.kind, 99), row.region))

    @cached_property
    def not_reached(self) -> list[NotReached]:
        """Active organizations no one from reached in the scope, with the last time anyone from
        them took part in one of the viewer's events (two queries): whom to invite."""
        last = dict(
            Registration.objects.visible_to(self.scope.viewer)
            .filter(REACHED, occasion__starts_at__lt=timezone.now())
            .order_by()
            .values("organization")
            .annotate(last=Max("occasion__starts_at"))
            .values_list("organization", "last")
        )
        organizations = (
            Organization.objects.active()
            .exclude(pk__in=self.reached_ids)
            .only("name", "kind", "country", "region")
            .order_by("country", "kind", "region", "name")
        )
        return [
            NotReached(each.pk, each.name, each.kind, each.country, each.region, last.get(each.pk))
            for each in organizations
        ]

    @property
    def never_reached(self) -> int:
        """Of those not reached in the scope, how many no one from ever took part."""
        return sum(1 for row in self.not_reached if row.last_reached is None)

    @cached_property
    def themes(self) -> list[ThemeRow]:
        """Per theme: its events in the scope, their registrations, seats, attendance and the
        organizations reached; the most confirmed seats first.

        An event counts for its main theme and for each of its other themes: the counts per
        event (one query) are added up per theme here; the organizations reached are told apart
        as (theme, organization) pairs (two queries)."""
        additive = ("registrations", "confirmed", "attended")
        per_event = list(
            self._registrations.values("event", "event__main_theme").annotate(**_counts(*additive))
        )
        others = Event.themes.through.objects.filter(event_id__in=[row["event"] for row in per_event])
        themes_of: dict[int, set[int]] = {}
        for row in per_event:
            themes_of[row["event"]] = {row["event__main_theme"]}
        for event_id, theme_id in others.values_list("event_id", "theme_id"):
            themes_of[event_id].add(theme_id)
        sums: dict[int, Counter] = {}
        for row in per_event:
            for theme_id in themes_of[row["event"]]:
                total = sums.setdefault(theme_id, Counter())
                total["events"] += 1
                total.update(_counted(row, *additive))
        reached = self._registrations.filter(REACHED)
        pairs = set(reached.values_list("event__main_theme", "organization").distinct()) | set(
            reached.filter(event__themes__isnull=False)
            .values_list("event__themes", "organization")
            .distinct()
        )
        organizations = Counter(theme for theme, _organization in pairs)
        themes = Theme.objects.filter(pk__in=list(sums)) if sums else Theme.objects.none()
        result = [
            ThemeRow(
                theme=theme,
                events=sums[theme.pk]["events"],
                registrations=sums[theme.pk]["registrations"],
                confirmed=sums[theme.pk]["confirmed"],
                attended=sums[theme.pk]["attended"],
                organizations=organizations[theme.pk],
            )
            for theme in themes
        ]
        return sorted(result, key=lambda row: (-row.confirmed, -row.registrations, row.theme.display_name))

    @cached_property
    def theme_wishes(self) -> list[tuple[str, int]]:
        """The themes participants wished for in their evaluations of the scope's occasions,
        the most wished first; wishes that differ only in case or spacing count together (one
        query: the distinct wishes with their counts)."""
        rows = (
            Evaluation.objects.filter(registration__in=self._registrations.values("pk"))
            .exclude(theme_wish="")
            .order_by()
            .values_list("theme_wish")
            .annotate(count=Count("pk"))
        )
        grouped: dict[str, list] = {}
        for wish, count in rows:
            entry = grouped.setdefault(" ".join(wish.split()).casefold(), [wish, 0])
            entry[1] += count
        return sorted(
            ((wish, count) for wish, count in grouped.values()), key=lambda pair: (-pair[1], pair[0])
        )

    @cached_property
    def months(self) -> list[Month]:
        """Every month of the period with the organizations reached in it for the first time
        and in all so far (from each organization's first occasion that reached it; the months
        are the organizer's local months, counted here so that every database agrees)."""
        firsts = [row["first_reached"] for row in self._per_organization if row["first_reached"]]
        months: dict[dt.date, Month] = {}
        day = _month(self.scope.start)
        while day <= self.scope.end:
            months[day] = Month(day)
            day = _next_month(day)
        for first in firsts:
            months[_month(timezone.localdate(first))].new += 1
        total = 0
        for month in months.values():
            total += month.new
            month.total = total
        return list(months.values())
