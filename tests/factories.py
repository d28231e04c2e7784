"""Builders for events as organizers set them up in admin."""

import datetime as dt
import itertools

from django.utils import timezone
from django.utils.text import slugify

from events.models import DayPart, Event, Occasion, Theme
from events.services import lifecycle
from members.models import Team

_numbers = itertools.count(1)

# The organizer team of the `organizer` fixture; events belong to it unless a test says otherwise.
DEFAULT_TEAM = "Test team"


def organizer_team(name: str = DEFAULT_TEAM, *members) -> Team:
    created = Team.objects.get_or_create(name=name)[0]
    created.members.add(*members)
    return created


def theme(slug: str = "charging", name: str = "Charging infrastructure") -> Theme:
    return Theme.objects.get_or_create(slug=slug, defaults={"name": name})[0]


def event(
    *,
    title: str | None = None,
    capacities: tuple[int, ...] = (28,),
    days_ahead: int = 30,
    half_days: int = 1,
    quota: int | None = None,
    release_at: dt.datetime | None = None,
    policy: str = Event.WaitlistPolicy.FIRST_COME,
    status: str = Event.Status.PUBLISHED,
    event_format: str = Event.Format.ONLINE,
    main_theme: Theme | None = None,
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    cancellation_deadline: dt.datetime | None = None,
    team: Team | None = None,
) -> Event:
    """A published event with one occasion per capacity, a week apart, each of `half_days`
    consecutive half-days (lunch to lunch when 2), run by `team` (the default test team)."""
    now = timezone.now()
    title = title or f"Workshop {next(_numbers)}"
    first_day = (now + dt.timedelta(days=days_ahead)).replace(hour=12, minute=0, second=0, microsecond=0)
    created = Event.objects.create(
        title=title,
        slug=slugify(title),
        main_theme=main_theme or theme(),
        summary="A workshop on green mobility.",
        format=event_format,
        language="en",
        registration_opens_at=opens_at or now - dt.timedelta(days=1),
        registration_closes_at=closes_at or first_day - dt.timedelta(days=1),
        cancellation_deadline=cancellation_deadline,
        organization_quota=quota,
        quota_release_at=release_at,
        waitlist_policy=policy,
        status=status,
        team=team or organizer_team(),
    )
    for index, capacity in enumerate(capacities):
        occasion = Occasion.objects.create(
            event=created,
            label=f"Occasion {index + 1}",
            capacity=capacity,
            online_url=f"https://meet.example.org/secret-{created.pk}-{index}",
        )
        start = first_day + dt.timedelta(days=7 * index)
        for part in range(half_days):
            day = start + dt.timedelta(days=part)
            # Lunch to lunch: the first half-day is an afternoon, the next a morning.
            begins = day.replace(hour=13) if part == 0 else day.replace(hour=9)
            DayPart.objects.create(
                occasion=occasion,
                number=part + 1,
                starts_at=begins,
                ends_at=begins + dt.timedelta(hours=3, minutes=30),
            )
    lifecycle.refresh_schedule(created)
    return created


def begun(occasion: Occasion, *, hours_ago: int = 1) -> Occasion:
    """Let `occasion` have started `hours_ago` hours ago, after its registrations were made
    while registration was open: its attendance may now be recorded."""
    start = timezone.now() - dt.timedelta(hours=hours_ago)
    Occasion.objects.filter(pk=occasion.pk).update(starts_at=start, ends_at=start + dt.timedelta(hours=3))
    occasion.refresh_from_db()
    return occasion
