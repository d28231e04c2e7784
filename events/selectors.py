"""Read-only queries for the event pages, each a fixed number of SQL queries however many
events, occasions and registrations there are."""

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from .models import AgendaItem, DayPart, Event, Occasion, Registration


def _occasions_with_seats() -> Prefetch:
    return Prefetch(
        "occasions",
        queryset=Occasion.objects.with_seats().prefetch_related(
            Prefetch("day_parts", queryset=DayPart.objects.order_by("number"))
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
    events = (
        Event.objects.published()
        .select_related("series", "main_theme")
        .prefetch_related("themes", _occasions_with_seats())
    )
    events = events.past().order_by("-starts_at") if past else events.upcoming().order_by("starts_at")
    if theme is not None:
        events = events.filter(Q(main_theme=theme) | Q(themes=theme)).distinct()
    if series is not None:
        events = events.filter(series=series)
    if event_format:
        events = events.filter(format=event_format)
    if month is not None:
        events = events.filter(occasions__starts_at__year=month.year, occasions__starts_at__month=month.month)
        events = events.distinct()
    return events


def upcoming_events(limit: int = 5) -> QuerySet:
    return event_list()[:limit]


def event_for_page(slug: str, *, viewer=None) -> Event:
    """A published event, or a draft for its own team's organizers to preview."""
    events = Event.objects.published()
    if viewer is not None and viewer.is_staff:
        events = events | Event.objects.visible_to(viewer)
    return (
        events.select_related("series", "main_theme")
        .prefetch_related(
            "themes",
            "contacts",
            "documents",
            _occasions_with_seats(),
            Prefetch("agenda_items", queryset=AgendaItem.objects.prefetch_related("speakers")),
        )
        .get(slug=slug)
    )


def active_registration(user, event: Event) -> Registration | None:
    if not user.is_authenticated:
        return None
    return Registration.objects.active().filter(user=user, event=event).select_related("occasion").first()


def colleagues_choices(user, event: Event) -> QuerySet:
    """Colleagues from the member's organization in the event, who agreed to be listed. Only
    for a verified member: claiming an organization must not reveal who works there."""
    if not user.is_authenticated or not user.organization_verified:
        return Registration.objects.none()
    return (
        Registration.objects.active()
        .filter(event=event, organization_id=user.organization_id, listed=True)
        .exclude(user=user)
        .select_related("user", "occasion")
        .order_by("occasion__starts_at", "user__full_name")
    )


def my_registrations(user) -> QuerySet:
    return (
        Registration.objects.filter(user=user)
        .exclude(status=Registration.Status.CANCELLED, occasion__ends_at__lt=timezone.now())
        .select_related("event", "occasion", "event__main_theme")
        .prefetch_related("occasion__day_parts")
        .order_by("-occasion__starts_at")
    )
