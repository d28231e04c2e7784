"""The open events API, version 1 (`/api/v1/`): published events for the network's own website
and anyone else, read-only, with an OpenAPI document at `/api/v1/openapi.json`.

django-ninja builds the OpenAPI document from the same type hints that validate the query and
shape the answer, so the document cannot drift from what the API does. Nothing personal is in
it: no contact persons, speakers, participants or meeting links (list_selectors.api_events reads
none of them). Answers are served from the page cache to clients without a session (one cache
read per version of the public content, like the public pages), carry an ETag (a client that
sends it back gets 304 Not Modified) and are limited per client (API_RATE_LIMIT)."""

import datetime as dt
import math
import re
from functools import wraps
from typing import Annotated, Literal

from django.conf import settings
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import conditional_page
from ninja import Field, NinjaAPI, Query, Schema
from ninja.decorators import decorate_view
from ninja.throttling import AnonRateThrottle
from pydantic import BeforeValidator

from mail.links import absolute_url
from network_portal.clients import client_ip
from network_portal.page_cache import public_page

from . import selectors
from .models import Event
from .services.registrations import registration_state


def _iso_day(value):
    # Pydantic also reads a number as a date (seconds since 1970): a day is written YYYY-MM-DD.
    if not isinstance(value, dt.date) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
        raise ValueError("Not a day written YYYY-MM-DD.")
    return value


Day = Annotated[dt.date, BeforeValidator(_iso_day)]
Language = Literal["en", "da", "sv"]
RegistrationState = Literal["open", "not_yet", "closed", "cancelled"]
FILTERS = ("theme", "series", "from", "to", "language", "page", "page_size")


class Names(Schema):
    """A name in each of the portal's languages (empty where none was given)."""

    en: str
    da: str
    sv: str


class ThemeOut(Schema):
    slug: str
    names: Names


class SeriesOut(Schema):
    slug: str
    title: str
    url: str


class DayPartOut(Schema):
    number: int
    starts_at: dt.datetime
    ends_at: dt.datetime


class OccasionOut(Schema):
    id: int
    label: str = Field(description='The organizer\'s name for the date, e.g. "4–5 November"; may be empty.')
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    capacity: int
    seats_left: int
    day_parts: list[DayPartOut]


class EventOut(Schema):
    slug: str
    title: str
    summary: str
    url: str = Field(description="The event's page on the portal, where members register.")
    language: Language
    format: str
    status: Literal["published", "cancelled"]
    registration: RegistrationState
    registration_opens_at: dt.datetime
    registration_closes_at: dt.datetime
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    series: SeriesOut | None
    themes: list[ThemeOut] = Field(description="The main theme first.")
    occasions: list[OccasionOut]


class AgendaItemOut(Schema):
    day_part: int
    starts: dt.time
    ends: dt.time
    title: str
    kind: str


class EventDetailOut(EventOut):
    description_html: str = Field(description="The description as the event page shows it, sanitized HTML.")
    programme: list[AgendaItemOut]


class Error(Schema):
    detail: str


class Invalid(Schema):
    """What was wrong with the query, one entry per parameter (ninja's validation errors)."""

    detail: list[dict]


# The portal refuses a request with a NUL character anywhere in it (400): the document says so.
NO_NUL = r"^[^\x00]*$"


class EventFilters(Schema):
    theme: str | None = Field(None, pattern=NO_NUL, description="A theme's slug (the main theme or another).")
    series: str | None = Field(None, pattern=NO_NUL, description="A series' slug.")
    starting: Day | None = Field(
        None, alias="from", description="Events not ended by this day (default: now)."
    )
    ending: Day | None = Field(None, alias="to", description="Events that start on or before this day.")
    language: Language | None = Field(None, description="The language the event is held in.")
    # Bounded so that the offset it makes fits the database's integers (a larger one was a 500).
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(20, ge=1, le=100)


class Page(Schema):
    items: list[EventOut]
    count: int


def _names(theme) -> Names:
    return Names(en=theme.name, da=theme.name_da, sv=theme.name_sv)


def _themes(event: Event) -> list[ThemeOut]:
    themes = [event.main_theme] if event.main_theme else []
    themes += [theme for theme in event.themes.all() if theme.pk != event.main_theme_id]
    return [ThemeOut(slug=theme.slug, names=_names(theme)) for theme in themes]


def _event(event: Event, now: dt.datetime) -> dict:
    series = event.series
    return {
        "slug": event.slug,
        "title": event.title,
        "summary": event.summary,
        "url": absolute_url(event.get_absolute_url()),
        "language": event.language,
        "format": event.format,
        "status": event.status,
        "registration": registration_state(event, now),
        "registration_opens_at": event.registration_opens_at,
        "registration_closes_at": event.registration_closes_at,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "series": series
        and SeriesOut(slug=series.slug, title=series.title, url=absolute_url(series.get_absolute_url())),
        "themes": _themes(event),
        "occasions": [
            OccasionOut(
                id=occasion.pk,
                label=occasion.label,
                starts_at=occasion.starts_at,
                ends_at=occasion.ends_at,
                capacity=occasion.capacity,
                seats_left=occasion.seats_left,
                day_parts=[
                    DayPartOut(number=part.number, starts_at=part.starts_at, ends_at=part.ends_at)
                    for part in occasion.day_parts.all()
                ],
            )
            for occasion in event.occasions.all()
        ],
    }


def _limited(view):
    """API_RATE_LIMIT requests per client (network_portal.clients), counted before the page
    cache answers."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        throttle = _ClientThrottle(settings.API_RATE_LIMIT)
        if not throttle.allow_request(request):
            seconds = math.ceil(throttle.wait() or 1)
            response = JsonResponse(
                {
                    "detail": ngettext(
                        "Too many requests. Please try again in %(seconds)d second.",
                        "Too many requests. Please try again in %(seconds)d seconds.",
                        seconds,
                    )
                    % {"seconds": seconds}
                },
                status=429,
                headers={"Retry-After": str(seconds)},
            )
        else:
            response = view(request, *args, **kwargs)
        # Public data for any website, also read from a browser on another origin (a refusal
        # too, so that the page that asked can tell its reader when to try again).
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapper


class _ClientThrottle(AnonRateThrottle):
    scope = "api"

    def get_ident(self, request) -> str:
        return client_ip(request)


def _served(until, parameters=()):
    """Cached per version of the public content, limited per client, answered with an ETag."""
    return decorate_view(public_page(until=until, parameters=parameters), _limited, conditional_page)


api = NinjaAPI(
    title="Green mobility network: events",
    version="1",
    description=(
        "Published events of the network, read-only. Times are UTC (ISO 8601). No personal data. "
        "Limited per client; answers carry an ETag."
    ),
    urls_namespace="api-v1",
    docs_url=None,
)


@api.get(
    "/events/",
    response={200: Page, 400: Error, 422: Invalid, 429: Error},
    summary="Published events, by start",
    tags=["events"],
)
@_served(until=lambda request, **kwargs: selectors.next_moment(), parameters=FILTERS)
def events(request, filters: Query[EventFilters]):
    topic = selectors.api_topic(theme=filters.theme, series=filters.series)
    if topic is None:
        return {"items": [], "count": 0}
    found = selectors.api_events(
        **topic,
        starting=_start_of(filters.starting),
        before=_start_of(filters.ending + dt.timedelta(days=1)) if filters.ending else None,
        language=filters.language or "",
    )
    now = timezone.now()
    page_size = filters.page_size
    offset = (filters.page - 1) * page_size
    return {
        "items": [_event(event, now) for event in found[offset : offset + page_size]],
        "count": found.count(),
    }


@api.get(
    "/events/{slug}/",
    response={200: EventDetailOut, 400: Error, 404: Error, 422: Invalid, 429: Error},
    summary="One published event with its programme",
    tags=["events"],
)
@_served(until=lambda request, slug, **kwargs: selectors.next_moment_of_event(slug))
def event(request, slug: str):
    try:
        found = selectors.api_event(slug)
    except Event.DoesNotExist:
        raise Http404 from None
    return {
        **_event(found, timezone.now()),
        "description_html": found.description_html,
        "programme": [
            AgendaItemOut(
                day_part=item.day_part, starts=item.starts, ends=item.ends, title=item.title, kind=item.kind
            )
            for item in found.agenda_items.all()
        ],
    }


def _start_of(day: dt.date | None) -> dt.datetime | None:
    """The first moment of `day` where the network is (TIME_ZONE)."""
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
