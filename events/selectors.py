"""Read-only queries for the event pages, the admin and the emails. Lists are a fixed number of
SQL queries however many events, occasions and registrations there are. Nothing here changes
anything, and nothing here imports events.services (services read through this module)."""

import datetime as dt
import functools
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    TextChoices,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy

from members.models import User
from network_portal.batching import run_together
from network_portal.prepared import Prepared
from network_portal.rows import columns, instances

# The public lists of events live in list_selectors; pages and other apps read them from here.
from .list_selectors import (  # noqa: F401
    TopicEvents,
    api_event,
    api_events,
    api_topic,
    event_list,
    latest_published_events,
    topic_events,
    upcoming_events,
)
from .member_selectors import (  # noqa: F401
    MemberInEvent,
    OccasionChoice,
    member_in_event,
    occasion_choices,
    organization_seats_left,
)
from .models import (
    AgendaItem,
    CalendarFeed,
    DayPart,
    Document,
    Evaluation,
    Event,
    Occasion,
    Registration,
    Series,
    Theme,
)
from .models.event import published_statuses
from .seats import Seats


def _occasions_with_seats() -> Prefetch:
    return Prefetch(
        "occasions",
        queryset=Occasion.objects.with_seats().prefetch_related(
            Prefetch("day_parts", queryset=DayPart.objects.order_by("number"))
        ),
    )


def event_for_page(slug: str, *, viewer=None) -> Event:
    """A published event, or a draft for its own team's organizers to preview."""
    events = Event.objects.published()
    if viewer is not None and viewer.is_staff:
        events = events | Event.objects.visible_to(viewer)
    # Themes, contacts, programme and documents are read by the shared parts of the page when
    # they are rendered (agenda_by_day_part), not on every request; the event with its occasions
    # is one of those parts (events.views._event_and_shared_parts).
    return (
        events.select_related("series", "main_theme").prefetch_related(_occasions_with_seats()).get(slug=slug)
    )


def agenda_by_day_part(event: Event) -> list[tuple[int, list[AgendaItem]]]:
    """The programme grouped by day part, in order, with the speakers."""
    parts: dict[int, list] = {}
    for item in event.agenda_items.prefetch_related("speakers"):
        parts.setdefault(item.day_part, []).append(item)
    return sorted(parts.items())


def published_events() -> QuerySet:
    """Every published event, past and upcoming (for a page found by its slug)."""
    return Event.objects.published()


def posted_occasion(slug: str, occasion_id: str | None) -> Occasion | None:
    """The occasion a registration form posts, with its published event (the page's `slug`):
    one query; None when the event has no such occasion (the form then says so)."""
    try:
        pk = int(occasion_id)
    except (TypeError, ValueError):
        return None
    low, high = connection.ops.integer_field_range(Occasion._meta.pk.get_internal_type())
    if not low <= pk <= high:
        return None
    statuses = {f"status{index}": str(status) for index, status in enumerate(published_statuses())}
    rows = run_together([(_posted_occasion(len(statuses)), {"occasion": pk, "slug": slug, **statuses})])
    if not rows:
        return None
    occasion, event = instances(rows[0], (Occasion, Event))
    occasion.event = event
    return occasion


@functools.cache
def _posted_occasion(statuses: int) -> Prepared:
    # Written out and prepared (network_portal.prepared): every member of a rush posts it, and
    # the ORM took longer to build the query than the database to run it.
    published = ", ".join(f"%(status{index})s" for index in range(statuses))
    return Prepared(
        "posted_occasion",
        f"""SELECT {columns(Occasion, "o")}, {columns(Event, "e")}
        FROM {Occasion._meta.db_table} o JOIN {Event._meta.db_table} e ON e.id = o.event_id
        WHERE o.id = %(occasion)s AND e.slug = %(slug)s AND e.status IN ({published})""",  # noqa: S608
    )


def is_visible_to(user, event_id: int) -> bool:
    """Whether `user` may see the event whatever its status (its team's organizers see drafts)."""
    return Event.objects.visible_to(user).filter(pk=event_id).exists()


def may_read_participant_material(user, event_id: int) -> bool:
    """Material for participants only: the event's confirmed participants and its organizers."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        is_visible_to(user, event_id)
        or Registration.objects.confirmed().filter(user=user, event_id=event_id).exists()
    )


def participant_documents(event: Event) -> list[Document]:
    """What the follow-up email sends the participants: the event's documents for them."""
    return list(event.documents.filter(for_participants=True).order_by("added_at", "pk"))


def series_for_page() -> QuerySet:
    return Series.objects.prefetch_related("contacts", "documents")


def all_themes() -> QuerySet:
    return Theme.objects.all()


def downloadable_documents() -> QuerySet:
    """Documents with an uploaded file (not only a link), with their event."""
    return Document.objects.select_related("event").exclude(file="")


def registrations_with_people() -> QuerySet:
    """Registrations with their event, occasion and member, to act on one."""
    return Registration.objects.select_related("event", "occasion", "user")


def attendance_list(occasion: Occasion) -> list[Registration]:
    """The confirmed participants of an occasion by name, with what the door and the meeting
    tool know them by (name, organization, address)."""
    return list(
        occasion.registrations.confirmed()
        .select_related("user", "organization")
        .order_by("user__full_name", "user__email", "pk")
    )


def evaluation_of(registration: Registration) -> Evaluation | None:
    return Evaluation.objects.prefetch_related("item_ratings").filter(registration=registration).first()


def evaluated_items(event: Event) -> list[AgendaItem]:
    """The programme items a participant rates: all but breaks, in the programme's order."""
    return list(event.agenda_items.exclude(kind=AgendaItem.Kind.BREAK).order_by("day_part", "starts", "pk"))


def evaluation_initial(evaluation: Evaluation | None) -> dict:
    """An evaluation as its form's initial values, to change it."""
    if evaluation is None:
        return {}
    return {
        "rating": evaluation.rating,
        "take_home": evaluation.take_home,
        "theme_wish": evaluation.theme_wish,
        **{f"item_{rating.agenda_item_id}": rating.rating for rating in evaluation.item_ratings.all()},
    }


def registrations_with_schedule() -> QuerySet:
    """Registrations with what a calendar entry shows: event, occasion and its day parts, and
    the member (a cancellation names its attendee)."""
    return Registration.objects.select_related("event", "occasion", "user").prefetch_related(
        "occasion__day_parts"
    )


def day_part_numbers(event_id: int) -> list[int]:
    """Every day-part number any occasion of the event has (1, 2 for lunch to lunch)."""
    return list(
        DayPart.objects.filter(occasion__event_id=event_id)
        .order_by("number")
        .values_list("number", flat=True)
        .distinct()
    )


def feed_registrations(user: User, *, ended_since: dt.datetime) -> QuerySet:
    """The member's active registrations whose occasion ended at `ended_since` or later, for the
    member's calendar feed."""
    return (
        registrations_with_schedule()
        .active()
        .filter(user=user, occasion__ends_at__gte=ended_since)
        .order_by("occasion__starts_at", "pk")
    )


class MessageRecipients(TextChoices):
    """Whom an organizer's message to the participants of an event goes to."""

    CONFIRMED = "confirmed", gettext_lazy("Confirmed participants")
    WAITLISTED = "waitlisted", gettext_lazy("People on the waiting list")
    BOTH = "both", gettext_lazy("Both confirmed and waiting")


_STATUSES_OF = {
    MessageRecipients.CONFIRMED: (Registration.Status.CONFIRMED,),
    MessageRecipients.WAITLISTED: (Registration.Status.WAITLISTED,),
    MessageRecipients.BOTH: Registration.ACTIVE,
}


def message_recipients(
    event: Event, *, recipients: str = MessageRecipients.CONFIRMED, occasion: Occasion | None = None
) -> QuerySet:
    """The registrations an organizer's message reaches: the one rule behind both the count the
    message page shows and the messages lifecycle.message_participants writes. An erased
    account's registration stays as a count but has nobody to write to."""
    registrations = Registration.objects.filter(
        event=event, status__in=_STATUSES_OF[MessageRecipients(recipients)], user__isnull=False
    )
    if occasion is not None:
        registrations = registrations.filter(occasion=occasion)
    return registrations


def calendar_feed_by_token(token: str) -> CalendarFeed | None:
    return CalendarFeed.objects.select_related("user").filter(token=token).first()


def active_registration(user, event: Event) -> Registration | None:
    if not user.is_authenticated:
        return None
    return Registration.objects.active().filter(user=user, event=event).select_related("occasion").first()


def my_registrations(user) -> QuerySet:
    """The member's registrations, one per event: the current one, or the last cancelled one
    while its occasion is still to come (registering again after cancelling, or cancelling
    twice, would otherwise list the same occasion twice). Upcoming occasions first, soonest
    first; then past ones, latest first."""
    now = timezone.now()
    later = Registration.objects.filter(user=OuterRef("user"), event=OuterRef("event"), pk__gt=OuterRef("pk"))
    return (
        Registration.objects.filter(user=user)
        .exclude(status=Registration.Status.CANCELLED, occasion__ends_at__lt=now)
        .exclude(Exists(later))
        .select_related("event", "occasion", "event__main_theme")
        .prefetch_related(Prefetch("occasion__day_parts", queryset=DayPart.objects.order_by("number")))
        .annotate(
            is_past=Case(When(occasion__ends_at__lt=now, then=Value(True)), default=Value(False)),
            upcoming_start=Case(When(occasion__ends_at__gte=now, then=F("occasion__starts_at"))),
        )
        .order_by("is_past", F("upcoming_start").asc(nulls_last=True), "-occasion__starts_at", "-pk")
    )


def organization_registrations(user, event: Event) -> QuerySet:
    """The active registrations of the coordinator's organization in the event."""
    return (
        Registration.objects.active()
        .filter(event=event, organization_id=user.organization_id)
        .select_related("user", "occasion")
        .order_by("occasion__starts_at", "queued_at")
    )


def reply_address(event: Event) -> str:
    """Where a reply to an email about `event` goes: its first contact's address, or "" (the
    network's own From address then takes replies)."""
    contact = event.contacts.first()
    return contact.email if contact else ""


def meeting_link_for(registration: Registration) -> str:
    """The online meeting link `registration` may see, or "".

    The link lets anyone into the meeting, so it goes only to a confirmed participant of a
    published event: not to the waiting list, not for a draft, and not once the event is
    cancelled. The event page, the emails and the calendar files all ask here.
    """
    if (
        registration.status == Registration.Status.CONFIRMED
        and registration.event.status == Event.Status.PUBLISHED
    ):
        return registration.occasion.online_url
    return ""


# ---------------------------------------------------------------------------------------------
# Seats and waiting lists


def seats_by_organization(event: Event) -> list[dict]:
    """Per organization in the event, by name: its confirmed, waiting and over-quota counts (one
    aggregate query)."""
    confirmed = Q(status=Registration.Status.CONFIRMED)
    return list(
        Registration.objects.active()
        .filter(event=event)
        .values("organization_id", "organization__name")
        .annotate(
            confirmed=Count("pk", filter=confirmed),
            waitlisted=Count("pk", filter=Q(status=Registration.Status.WAITLISTED)),
            over_quota=Count("pk", filter=confirmed & Q(over_quota=True)),
        )
        .order_by("organization__name")
    )


@dataclass
class EventSeats:
    """The seats of one event as the occupancy page and the dashboard show them."""

    occasions: list[Occasion]  # with confirmed_count, waitlisted_count and free
    organizations: list[dict]  # seats_by_organization's rows with "left" (None: no quota applies)
    totals: dict[str, int]
    quota: int | None  # the seats per organization now; None without a quota or once released
    quota_released: bool


def event_seats(event: Event) -> EventSeats:
    """Seats per occasion and per organization, each from a single aggregate query."""
    occasions = list(event.occasions.with_seats().order_by("starts_at", "pk"))
    for occasion in occasions:
        occasion.free = max(occasion.capacity - occasion.confirmed_count, 0)
    quota = event.organization_quota if event.quota_applies() else None
    organizations = seats_by_organization(event)
    for row in organizations:
        row["left"] = None if quota is None else max(quota - row["confirmed"], 0)
    return EventSeats(
        occasions=occasions,
        organizations=organizations,
        totals={
            "capacity": sum(o.capacity for o in occasions),
            "confirmed": sum(o.confirmed_count for o in occasions),
            "waitlisted": sum(o.waitlisted_count for o in occasions),
            "free": sum(o.free for o in occasions),
        },
        quota=quota,
        quota_released=event.organization_quota is not None and quota is None,
    )


def waitlist_position(registration: Registration) -> int | None:
    """1 for the next in line on the registration's occasion, in the event's waiting-list order
    (someone whose organization's seats are used may still be passed by others)."""
    if registration.status != Registration.Status.WAITLISTED:
        return None
    if registration.event.waitlist_policy == Event.WaitlistPolicy.FAIR:
        waiting = (
            Registration.objects.waitlisted()
            .filter(occasion_id=registration.occasion_id)
            .order_by("queued_at", "pk")
            .values_list("pk", "organization_id")
        )
        seated = set(
            Registration.objects.confirmed()
            .filter(event_id=registration.event_id)
            .values_list("organization_id", flat=True)
        )
        # The same order _promote uses: organizations without a seat first, then first come.
        queue = [pk for pk, organization in sorted(waiting, key=lambda row: row[1] in seated)]
        return queue.index(registration.pk) + 1
    ahead = (
        Registration.objects.waitlisted()
        .filter(occasion_id=registration.occasion_id)
        .filter(
            Q(queued_at__lt=registration.queued_at)
            | Q(queued_at=registration.queued_at, pk__lt=registration.pk)
        )
        .count()
    )
    return ahead + 1


def occasions_with_a_seat_for(user: User, event: Event, *, exclude_id: int | None = None) -> list[Occasion]:
    """Other occasions of the event where the member would get a seat now (to offer them when
    the chosen one is full)."""
    if not user.is_authenticated:
        return []
    seats = Seats.count(event, timezone.now())
    current = Registration.objects.confirmed().filter(user=user, event=event).first()
    if current is not None:
        seats.release(current.occasion_id, current.organization_id)
    return [
        occasion
        for occasion in event.occasions.all()
        if occasion.pk != exclude_id and not seats.reason_to_wait(occasion.pk, user, user.organization_id)
    ]


def colleagues_for(coordinator: User) -> list[User]:
    """Verified colleagues a coordinator may register (the coordinator included)."""
    if not (coordinator.is_organization_coordinator and coordinator.organization_verified):
        return []
    return [
        user
        for user in User.objects.filter(organization_id=coordinator.organization_id, is_active=True)
        .exclude(organization_verified_at=None)
        .order_by("full_name")
        if user.profile_complete
    ]


def schedule_snapshot(event: Event) -> dict[int, dict]:
    """What participants rely on, per occasion: times, place and meeting link."""
    return {
        occasion.pk: {
            "time": tuple((part.starts_at, part.ends_at) for part in occasion.day_parts.order_by("number")),
            "place": (occasion.venue, occasion.address),
            "link": occasion.online_url,
        }
        for occasion in Occasion.objects.filter(event=event).prefetch_related("day_parts")
    }


def people_told_of_cancellation(events: QuerySet) -> dict[str, int]:
    """How many people a cancellation of `events` tells: the confirmed and the waiting of the
    events not cancelled yet, with an account to write to (events.notifications.event_cancelled)."""
    return Registration.objects.filter(
        event__in=events.exclude(status=Event.Status.CANCELLED), user__isnull=False
    ).aggregate(
        confirmed=Count("pk", filter=Q(status=Registration.Status.CONFIRMED)),
        waiting=Count("pk", filter=Q(status=Registration.Status.WAITLISTED)),
    )


_MOMENTS = (
    "registration_opens_at", "registration_closes_at", "quota_release_at", "cancellation_deadline",
    "starts_at", "ends_at", "occasions__starts_at", "occasions__ends_at",
)  # fmt: skip


def next_moment(events: QuerySet | None = None, at: dt.datetime | None = None) -> dt.datetime | None:
    """The next time a published event's public page or lists change by the clock alone
    (registration opens or closes, seats are released, it starts or ends); one query."""
    at = at or timezone.now()
    events = Event.objects.published() if events is None else events
    found = events.aggregate(
        **{field.replace("__", "_"): Min(field, filter=Q(**{f"{field}__gt": at})) for field in _MOMENTS}
    )
    return min((moment for moment in found.values() if moment is not None), default=None)


def next_moment_of_event(slug: str) -> dt.datetime | None:
    return next_moment(Event.objects.published().filter(slug=slug))
