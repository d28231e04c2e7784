"""The public lists of events: all of them with filters and pages, and a theme's or series' own
page. Served to visitors without a session from the page cache (network_portal.page_cache)."""

import re

from csp.decorators import csp_replace
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from network_portal.page_cache import public_page

from . import selectors
from .forms import EventFilterForm, chosen_topic, with_topic
from .models import Theme

_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# Twelve cards are about three screens on a phone and split into rows of 2, 3 or 4 should the
# list become a grid; the network announces some fifty events a year, so five pages at most.
EVENTS_PER_PAGE = 12
# A theme or series page is about its topic: the next few events and the latest past ones,
# then a link to the event list filtered on it, which has pages.
EVENTS_ON_TOPIC_PAGE = 6
# The embedded list shows this many events unless the embedding site asks for up to the maximum.
EMBEDDED_EVENTS = 5
EMBEDDED_EVENTS_MAX = 20


@require_GET
@public_page(
    until=lambda request: selectors.next_moment(),
    parameters=(*EventFilterForm.base_fields, "page"),
)
def event_list(request):
    form = EventFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = selectors.event_list(
        past=filters.get("when") == "past",
        theme=filters.get("theme"),
        series=filters.get("series"),
        event_format=filters.get("format", ""),
        month=filters.get("month"),
    )
    # get_page never fails: a page that is not a number is the first, one beyond the end the last.
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "events/event_list.html",
        {
            "form": form,
            "page_obj": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
            "past": filters.get("when") == "past",
        },
    )


@require_GET
@public_page(until=lambda request, slug: selectors.next_moment())
def series_detail(request, slug: str):
    series = get_object_or_404(selectors.series_for_page(), slug=slug)
    return render(
        request,
        "events/series_detail.html",
        {"series": series, **_topic_context("series", series)},
    )


@require_GET
@public_page(until=lambda request, slug: selectors.next_moment())
def theme_detail(request, slug: str):
    theme = get_object_or_404(Theme, slug=slug)
    return render(
        request,
        "events/theme_detail.html",
        {"theme": theme, **_topic_context("theme", theme)},
    )


def _topic_context(field: str, topic) -> dict:
    """A theme's or series' bounded events, with links to the rest in the filtered event list."""
    found = selectors.topic_events(limit=EVENTS_ON_TOPIC_PAGE, **{field: topic})
    upcoming_url = f"{reverse('events:list')}?{urlencode({field: topic.slug})}"
    past_url = f"{reverse('events:list')}?{urlencode({'when': 'past', field: topic.slug})}"
    return {
        "events": found.upcoming,
        "past": found.past,
        "more_upcoming_url": upcoming_url if found.more_upcoming else "",
        "more_past_url": past_url if found.more_past else "",
    }


@require_GET
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
@public_page(until=lambda request: selectors.next_moment(), parameters=("theme", "series", "limit"))
def embedded_list(request):
    """The next events for another website to show in an iframe (`/embed/events/?theme=…&lang=da`):
    a page of its own without the portal's header, scripts or forms, whose links open the portal
    in the whole window, with the feeds linked. Any site may frame it; every other page refuses."""
    topic = chosen_topic(request.GET)
    limit = _embedded_limit(request.GET.get("limit"))
    return render(
        request,
        "events/embedded_list.html",
        {
            "events": selectors.event_list(**topic)[:limit],
            "topic": topic["theme"] or topic["series"],
            "all_url": with_topic(reverse("events:list"), topic),
            "calendar_url": with_topic(reverse("events:public_calendar"), topic),
            "rss_url": with_topic(reverse("events:feed_rss"), topic),
            "atom_url": with_topic(reverse("events:feed_atom"), topic),
        },
    )


def _embedded_limit(value: str | None) -> int:
    # A number from the embedding site's address: anything else is the default, never an error.
    try:
        return min(max(int(value), 1), EMBEDDED_EVENTS_MAX)
    except (TypeError, ValueError):
        return EMBEDDED_EVENTS


@require_GET
def theme_stylesheet(request):
    """Theme colours as a stylesheet: the CSP allows no inline style, and organizers pick the
    colours in admin. Only #rrggbb values reach the CSS (the model validates them)."""
    rules = [
        f".theme-{theme.slug} {{ background: {theme.colour}; color: #fff; }}"
        for theme in selectors.all_themes()
        if _HEX_COLOUR.fullmatch(theme.colour)
    ]
    response = HttpResponse("\n".join(rules), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response
