"""The public lists of events (the event list, the home page, theme and series pages): each
event as its card shows it, in a fixed number of queries however many events there are."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from .models import AgendaItem, DayPart, Event, Occasion, Series, Theme

# What an event card shows (templates/events/_event_card.html), and nothing more: the Markdown
# descriptions and the registration settings stay in the database. A field the card starts to
# show belongs here, or each card reads it with a query of its own (the list's query-count tests
# in tests/events/test_event_list_pages.py then fail).
_CARD_FIELDS = (
    "title",
    "slug",
    "summary",
    "format",
    "language",
    "status",
    "starts_at",
    "main_theme__slug",
    "main_theme__name",
    "main_theme__name_da",
    "main_theme__name_sv",
    "series__slug",
    "series__title",
    "series__language",
)


def _card_occasions() -> Prefetch:
    """An event card's dates, seats left and place (the public calendar's LOCATION): never the
    meeting link."""
    return Prefetch(
        "occasions",
        queryset=Occasion.objects.with_seats()
        .only("event_id", "label", "capacity", "starts_at", "venue", "address")
        .prefetch_related(
            Prefetch(
                "day_parts",
                queryset=DayPart.objects.only("occasion_id", "starts_at", "ends_at").order_by("number"),
            )
        ),
    )


def event_list(
    *,
    past: bool = False,
    theme=None,
    series=None,
    event_format: str = "",
    month: dt.date | None = None,
) -> QuerySet:
    """Published events as cards show them: three queries for any number of events (events,
    occasions with their seats, day parts). The order ends with the primary key so that pages
    of the list neither repeat nor skip events that start at the same time."""
    events = (
        Event.objects.published()
        .select_related("series", "main_theme")
        .only(*_CARD_FIELDS)
        .prefetch_related(_card_occasions())
    )
    if past:
        events = events.past().order_by("-starts_at", "-pk")
    else:
        events = events.upcoming().order_by("starts_at", "pk")
    events = _on_topic(events, theme=theme, series=series)
    if event_format:
        events = events.filter(format=event_format)
    if month is not None:
        in_month = Occasion.objects.filter(
            event_id=OuterRef("pk"), starts_at__year=month.year, starts_at__month=month.month
        )
        events = events.filter(Exists(in_month))
    return events


def _on_topic(events: QuerySet, *, theme=None, series=None) -> QuerySet:
    # Subqueries rather than joins: a join repeats an event once per matching row and would
    # need DISTINCT, which the page count then has to wrap in a subquery as well.
    if theme is not None:
        other_theme = Event.themes.through.objects.filter(event_id=OuterRef("pk"), theme=theme)
        events = events.filter(Q(main_theme=theme) | Exists(other_theme))
    if series is not None:
        events = events.filter(series=series)
    return events


def latest_published_events(limit: int, *, theme=None, series=None) -> QuerySet:
    """The most recently published events first, for the RSS and Atom feeds, of the theme or
    series if one is given. Only published: drafts are not public, and a cancelled event is not
    news of an event."""
    events = Event.objects.filter(status=Event.Status.PUBLISHED).select_related("main_theme")
    events = _on_topic(events, theme=theme, series=series).prefetch_related("themes")
    return events.order_by(F("published_at").desc(nulls_last=True), "-pk")[:limit]


def upcoming_events(limit: int = 5) -> QuerySet:
    return event_list()[:limit]


@dataclass
class TopicEvents:
    """A theme's or a series' page: its next and its latest past events, each at most `limit`,
    and whether the event list (filtered on the topic) has more of either."""

    upcoming: list[Event]
    more_upcoming: bool
    past: list[Event]
    more_past: bool


def _first(events: QuerySet, limit: int) -> tuple[list[Event], bool]:
    # One row more than shown tells whether there are more, without a COUNT query.
    rows = list(events[: limit + 1])
    return rows[:limit], len(rows) > limit


def topic_events(*, limit: int, theme=None, series=None) -> TopicEvents:
    upcoming, more_upcoming = _first(event_list(theme=theme, series=series), limit)
    past, more_past = _first(event_list(past=True, theme=theme, series=series), limit)
    return TopicEvents(upcoming, more_upcoming, past, more_past)


# ---------------------------------------------------------------------------------------------
# The open events API (events/api.py): published events with nothing personal. No contact
# persons, speakers, participants, venues' meeting links or registration settings beyond the
# window: a field the API starts to show belongs here, after asking whether it names a person.
_API_FIELDS = (
    *_CARD_FIELDS,
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "description_html",
)


def _api_base() -> QuerySet:
    """Published events with what the API shows of each: themes, occasions with their seats and
    day parts."""
    occasions = (
        Occasion.objects.with_seats()
        .only("event_id", "label", "capacity", "starts_at", "ends_at")
        .prefetch_related(Prefetch("day_parts", queryset=DayPart.objects.order_by("number")))
    )
    return (
        Event.objects.published()
        .select_related("series", "main_theme")
        .only(*_API_FIELDS)
        .prefetch_related(
            Prefetch("occasions", queryset=occasions),
            Prefetch("themes", queryset=Theme.objects.order_by("name")),
        )
    )


def api_events(
    *,
    theme: Theme | None = None,
    series: Series | None = None,
    starting: dt.datetime | None = None,
    before: dt.datetime | None = None,
    language: str = "",
) -> QuerySet:
    """Published events (cancelled ones included, marked so) that have not ended by `starting`
    (now when None) and start before `before`, in order of their start: four queries for any
    number of events (events, themes, occasions with their seats, day parts)."""
    events = _api_base().filter(ends_at__gte=starting or timezone.now()).order_by("starts_at", "pk")
    if before is not None:
        events = events.filter(starts_at__lt=before)
    if language:
        events = events.filter(language=language)
    return _on_topic(events, theme=theme, series=series)


def api_event(slug: str) -> Event:
    """One published event for the API, with its programme (no speakers)."""
    agenda = AgendaItem.objects.only("event_id", "day_part", "starts", "ends", "title", "kind")
    return (
        _api_base()
        .prefetch_related(Prefetch("agenda_items", queryset=agenda.order_by("day_part", "starts")))
        .get(slug=slug)
    )


def api_topic(*, theme: str | None, series: str | None) -> dict | None:
    """The theme and series named by their slugs, as api_events takes them; None when a slug
    names none (the list is then empty)."""
    topic = {
        "theme": Theme.objects.filter(slug=theme).first() if theme else None,
        "series": Series.objects.filter(slug=series).first() if series else None,
    }
    if (theme and topic["theme"] is None) or (series and topic["series"] is None):
        return None
    return topic
