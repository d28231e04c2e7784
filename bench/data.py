"""The benchmark's data: a network a few years old. Events spread over past and coming months,
occasions with day parts and a programme, members of the reference organizations, and
registrations on every occasion. Created with bulk inserts; events through `create` so that
whatever the model derives on save is derived."""

import datetime as dt
import itertools
from dataclasses import dataclass

from django.utils import timezone

PASSWORD_HASH = "!"  # no password: the benchmark's members are logged in by session


@dataclass(frozen=True)
class Size:
    events: int
    upcoming: int
    occasions: int
    members: int
    registrations: int
    rush_people: int
    rush_seats: int  # per occasion, three occasions
    rush_quota: int  # per organization


FULL = Size(events=300, upcoming=51, occasions=1000, members=5000, registrations=20000,
            rush_people=500, rush_seats=28, rush_quota=4)  # fmt: skip
QUICK = Size(events=30, upcoming=8, occasions=100, members=300, registrations=1000,
             rush_people=60, rush_seats=6, rush_quota=2)  # fmt: skip

DESCRIPTION = """Kommunerne arbejder med **ladeinfrastruktur**, delebiler og kollektiv trafik.

## Program
- Velkomst og status
- Erfaringer fra [tre kommuner](https://example.org/erfaringer)
- Drøftelse i grupper

| Emne | Ansvarlig |
|---|---|
| Ladeplaner | KL |
| Udbud | Kommunerne |
"""


def create(size: Size, *, share: tuple[float, float] = (0.0, 1.0)) -> None:
    """Create the share of `size`'s events and members between the two fractions (so the data
    can grow in steps and the queries per page be counted at each)."""
    members = _members(size, _part(size.members, share))
    events = _events(size, _part(size.events, share))
    _registrations(size, events, members)


def _part(count: int, share: tuple[float, float]) -> slice:
    return slice(round(count * share[0]), round(count * share[1]))


def _members(size: Size, part: slice) -> list:
    from allauth.account.models import EmailAddress

    from members.models import Organization, User

    organizations = list(Organization.objects.filter(kind="municipality").order_by("pk"))
    now = timezone.now()
    users = User.objects.bulk_create(
        User(
            email=f"member{n}@bench.example",
            full_name=f"Member {n}",
            password=PASSWORD_HASH,
            role="transport_planner",
            organization=organizations[n % len(organizations)],
            organization_verified_at=now,
        )
        for n in range(size.members)[part]
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
    )
    return users


def _events(size: Size, part: slice) -> list:
    from events.models import AgendaItem, ContactPerson, DayPart, Event, Occasion, Series, Theme

    themes = list(Theme.objects.order_by("pk"))
    series, _ = Series.objects.get_or_create(
        slug="bench-series", defaults={"title": "Netværk for grøn mobilitet", "language": "da"}
    )
    contact, _ = ContactPerson.objects.get_or_create(
        email="contact@bench.example", defaults={"name": "Kontakt Person", "organization": "KL"}
    )
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    per_event = size.occasions // size.events
    extra = size.occasions - per_event * size.events  # the first `extra` events get one more
    events, occasions, day_parts = [], [], []
    for index in range(size.events)[part]:
        # `upcoming` of the events lie ahead (one every nine days), spread over the indexes so
        # that every share of the data has some; the others lie behind, one every three days.
        rank = index * size.upcoming // size.events
        if index * size.upcoming % size.events < size.upcoming:
            first = now + dt.timedelta(days=12 + 9 * rank)
        else:
            first = now - dt.timedelta(days=3 + 3 * (index - rank))
        event = Event.objects.create(
            title=f"Netværksmøde {index}: ladeinfrastruktur og delebiler",
            slug=f"bench-{index}",
            series=series if index % 3 == 0 else None,
            main_theme=themes[index % len(themes)],
            summary="Et møde i netværket om grøn mobilitet i kommunerne.",
            description=DESCRIPTION,
            format=Event.Format.IN_PERSON if index % 2 else Event.Format.ONLINE,
            language="da" if index % 2 else "sv",
            registration_opens_at=first - dt.timedelta(days=60),
            registration_closes_at=first - dt.timedelta(hours=1),
            organization_quota=4,
            status=Event.Status.PUBLISHED,
            published_at=first - dt.timedelta(days=61),
        )
        event.themes.set(themes[(index + 1) % len(themes) :][:2])
        event.contacts.add(contact)
        AgendaItem.objects.bulk_create(
            AgendaItem(
                event=event,
                day_part=1,
                starts=dt.time(9 + n),
                ends=dt.time(10 + n),
                title=f"Programpunkt {n + 1}",
                kind=AgendaItem.Kind.DISCUSSION,
            )  # fmt: skip
            for n in range(5)
        )
        count = per_event + (1 if index < extra else 0)
        for number in range(count):
            starts = first + dt.timedelta(days=number, hours=9)
            ends = starts + dt.timedelta(hours=6)
            occasion = Occasion(event=event, label=f"Dag {number + 1}", capacity=30,
                                venue="Rådhuset", address="Rådhuspladsen 1\n1550 København V",
                                starts_at=starts, ends_at=ends)  # fmt: skip
            occasions.append(occasion)
            day_parts.append(DayPart(occasion=occasion, starts_at=starts, ends_at=ends))
        event.starts_at = first + dt.timedelta(hours=9)
        event.ends_at = first + dt.timedelta(days=count - 1, hours=15)
        events.append(event)
    Occasion.objects.bulk_create(occasions)
    for part_ in day_parts:
        part_.occasion_id = part_.occasion.pk
    DayPart.objects.bulk_create(day_parts)
    Event.objects.bulk_update(events, ["starts_at", "ends_at"])
    return events


def _registrations(size: Size, events: list, members: list) -> None:
    from events.models import Occasion, Registration

    if not events or not members:
        return
    per_event = size.registrations // size.events
    by_event = {}
    for occasion in Occasion.objects.filter(event__in=events).order_by("starts_at"):
        by_event.setdefault(occasion.event_id, []).append(occasion)
    cycle = itertools.cycle(members)
    rows = []
    for event in events:
        occasions = by_event[event.pk]
        for seat in range(min(per_event, len(members))):
            user = next(cycle)
            occasion = occasions[seat % len(occasions)]
            confirmed = seat < occasion.capacity * len(occasions)
            rows.append(Registration(
                user=user, event=event, occasion=occasion, organization_id=user.organization_id,
                status=Registration.Status.CONFIRMED if confirmed else Registration.Status.WAITLISTED,
                confirmed_at=event.registration_opens_at if confirmed else None,
                created_at=event.registration_opens_at, queued_at=event.registration_opens_at,
            ))  # fmt: skip
    Registration.objects.bulk_create(rows, batch_size=2000)
