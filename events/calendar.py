"""Calendar files (RFC 5545): one registration to download, a private feed per member that
calendar apps subscribe to, and the network's public calendar of upcoming events.

Every day part becomes its own VEVENT: a workshop "lunch to lunch" is two meetings with a
night between, not one 24-hour block. UIDs are stable per registration and day part, so a file
imported again, or the feed fetched again, updates the entries instead of doubling them; the
registration's calendar_sequence (raised by events.services on every change the entries show)
tells calendar apps which file is newer. A file about a cancelled registration or event has
METHOD:CANCEL, the one method that makes calendar apps remove what they have.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from mail.links import absolute_url, site_host
from members.models import User
from network_portal.page_cache import public_page

from . import selectors
from .forms import chosen_topic, topic_title
from .models import Event, Registration
from .selectors import meeting_link_for
from .services import calendar_feeds
from .services.calendar_feeds import calendar_feed_for

# A member's calendar keeps recent meetings for a while, for reference; older ones drop out of
# the feed (calendar apps then remove them) so the feed stays small.
FEED_KEEPS_PAST = dt.timedelta(days=30)
# How often calendar apps that honour it should fetch the feed again.
FEED_REFRESH = dt.timedelta(hours=6)

# Each network meets in its own country's time: the event's language is the one thing every
# event has that says whose it is (the Swedish network writes in Swedish, the Danish network in
# Danish; an organizer team or a venue says nothing of a country, and online events have no
# venue). An English event keeps the portal's TIME_ZONE. Stockholm and Copenhagen have had the
# same offsets since 1980, so no time moves; calendar apps show the zone's name beside it.
_TIME_ZONE_OF_LANGUAGE = {"sv": "Europe/Stockholm", "da": "Europe/Copenhagen"}

_STATUS = {
    Registration.Status.CONFIRMED: "CONFIRMED",
    Registration.Status.WAITLISTED: "TENTATIVE",
    Registration.Status.CANCELLED: "CANCELLED",
}


def _prodid() -> str:
    return f"-//{settings.NETWORK_NAME}//Network portal//EN"


def event_time_zone(event: Event) -> ZoneInfo:
    """The time zone the event's times are written in (see _TIME_ZONE_OF_LANGUAGE)."""
    return ZoneInfo(_TIME_ZONE_OF_LANGUAGE.get(event.language, settings.TIME_ZONE))


def _organizer() -> icalendar.vCalAddress:
    # RFC 5546 asks for an ORGANIZER in PUBLISH and CANCEL alike; the portal's address is the
    # same in every file, so a cancellation matches the entry it removes.
    organizer = icalendar.vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL}")
    organizer.params["CN"] = settings.NETWORK_NAME
    return organizer


def _status(registration: Registration) -> str:
    if registration.event.status == Event.Status.CANCELLED:
        return "CANCELLED"
    return _STATUS[registration.status]


def calendar_method(registration: Registration) -> str:
    """The METHOD of the registration's own file: CANCEL once the registration or its event is
    cancelled (calendar apps keep an entry that is only marked CANCELLED), else PUBLISH."""
    return "CANCEL" if _status(registration) == "CANCELLED" else "PUBLISH"


def _uid(registration: Registration, part_number: int) -> str:
    return f"registration-{registration.pk}-part-{part_number}@{site_host()}"


def _add_attendee(vevent: icalendar.Event, registration: Registration) -> None:
    # A cancellation names whom it removes (RFC 5546, CANCEL); an erased account has no address.
    if registration.user is not None:
        vevent.add("attendee", f"mailto:{registration.user.email}")


def _summary(registration: Registration) -> str:
    if registration.status == Registration.Status.WAITLISTED:
        return _("%(title)s (waiting list)") % {"title": registration.event.title}
    return registration.event.title


def _vevents(registration: Registration, stamp: dt.datetime) -> Iterable[icalendar.Event]:
    event, occasion = registration.event, registration.occasion
    zone = event_time_zone(event)
    event_url = absolute_url(event.get_absolute_url())
    place = ", ".join(occasion.place_lines)
    link = meeting_link_for(registration)
    description = [event.summary, event_url]
    if link:
        # Also in the description: a hybrid meeting's LOCATION is the room, and some calendar
        # apps do not make LOCATION clickable.
        description.append(_("Online meeting link: %(url)s") % {"url": link})
    location = place or link or (_("Online") if occasion.online_url else "")
    for part in occasion.day_parts.all():
        vevent = icalendar.Event.new(
            uid=_uid(registration, part.number),
            stamp=stamp,
            start=part.starts_at.astimezone(zone),
            end=part.ends_at.astimezone(zone),
            summary=_summary(registration),
            description="\n\n".join(description),
            url=event_url,
            status=_status(registration),
            organizer=_organizer(),
        )
        vevent.add("sequence", registration.calendar_sequence)
        if vevent["STATUS"] == "CANCELLED":
            _add_attendee(vevent, registration)
        if location:
            vevent.add("location", location)
        yield vevent


def _calendar(registrations: Iterable[Registration], method: str = "PUBLISH", **properties) -> bytes:
    stamp = timezone.now().astimezone(dt.UTC)
    vevents = (vevent for registration in registrations for vevent in _vevents(registration, stamp))
    return _assemble(vevents, method, **properties)


def _assemble(vevents: Iterable[icalendar.Event], method: str = "PUBLISH", **properties) -> bytes:
    calendar = icalendar.Calendar.new(prodid=_prodid(), method=method, **properties)
    for vevent in vevents:
        calendar.add_component(vevent)
    starts = [vevent.start for vevent in calendar.events]
    if starts:
        # VTIMEZONE only for the span of the meetings: the default span (1970–2038) lists about
        # a hundred daylight-saving dates in every file.
        ends = [vevent.end for vevent in calendar.events]
        calendar.add_missing_timezones(
            first_date=min(starts).date() - dt.timedelta(days=1),
            last_date=max(ends).date() + dt.timedelta(days=1),
        )
    return calendar.to_ical()


def registration_calendar(registration: Registration) -> bytes:
    """An .ics file of one registration, a VEVENT per day part of its occasion."""
    return _calendar(
        [registration],
        method=calendar_method(registration),
        uid=f"registration-{registration.pk}@{site_host()}",
    )


def moved_away_calendar(registration: Registration) -> bytes | None:
    """After a move: a CANCEL of the day parts the old occasion had beyond the new one's (the
    others keep their UIDs and are updated by the new file), or None when there are none.

    Which occasion it came from is not kept, so every day-part number another occasion of the
    event has is cancelled; a cancel of an entry a calendar never had changes nothing."""
    kept = {part.number for part in registration.occasion.day_parts.all()}
    gone = sorted(set(selectors.day_part_numbers(registration.event_id)) - kept)
    if not gone:
        return None
    stamp = timezone.now().astimezone(dt.UTC)
    calendar = icalendar.Calendar.new(
        prodid=_prodid(), method="CANCEL", uid=f"registration-{registration.pk}-moved@{site_host()}"
    )
    for number in gone:
        vevent = icalendar.Event.new(
            uid=_uid(registration, number),
            stamp=stamp,
            summary=registration.event.title,
            status="CANCELLED",
            organizer=_organizer(),
        )
        vevent.add("sequence", registration.calendar_sequence)
        _add_attendee(vevent, registration)
        calendar.add_component(vevent)
    return calendar.to_ical()


def feed_calendar(user: User) -> bytes:
    """The member's subscribed calendar: every active registration, a VEVENT per day part.

    Cancelled registrations are left out, so calendar apps drop them at the next fetch; a
    cancelled event stays in, marked CANCELLED, so the member sees why it went.
    """
    # Calendar apps fetch without a session, so the member's language is chosen here.
    language = user.preferred_language if user.preferred_language in dict(settings.LANGUAGES) else None
    with translation.override(language or settings.LANGUAGE_CODE):
        return _calendar(
            # Recent meetings stay a while, for reference; older ones drop out of the feed.
            selectors.feed_registrations(user, ended_since=timezone.now() - FEED_KEEPS_PAST),
            uid=f"calendar-feed-{user.pk}@{site_host()}",
            name=_("%(network)s: my events") % {"network": settings.NETWORK_NAME},
            refresh_interval=FEED_REFRESH,
        )


def _public_vevents(event: Event, stamp: dt.datetime) -> Iterable[icalendar.Event]:
    # What the public event page shows, nothing more: the place, never the meeting link (it
    # lets anyone into the meeting) nor anybody's address.
    zone = event_time_zone(event)
    event_url = absolute_url(event.get_absolute_url())
    for occasion in event.occasions.all():
        location = ", ".join(occasion.place_lines) or (
            _("Online") if event.format == Event.Format.ONLINE else ""
        )
        for part in occasion.day_parts.all():
            vevent = icalendar.Event.new(
                uid=f"event-{event.pk}-occasion-{occasion.pk}-part-{part.number}@{site_host()}",
                stamp=stamp,
                start=part.starts_at.astimezone(zone),
                end=part.ends_at.astimezone(zone),
                summary=event.title,
                description=f"{event.summary}\n\n{event_url}",
                url=event_url,
                status="CANCELLED" if event.status == Event.Status.CANCELLED else "CONFIRMED",
                organizer=_organizer(),
            )
            if location:
                vevent.add("location", location)
            yield vevent


def events_calendar(events: Iterable[Event], name: str) -> bytes:
    """The network's public calendar: every day part of the upcoming events' occasions."""
    stamp = timezone.now().astimezone(dt.UTC)
    vevents = (vevent for event in events for vevent in _public_vevents(event, stamp))
    return _assemble(vevents, name=name, refresh_interval=FEED_REFRESH)


def calendar_feed_url(user: User) -> str:
    """The absolute address to subscribe to in a calendar app."""
    return absolute_url(calendar_feed_for(user).get_absolute_url())


def _ics_response(content: bytes, filename: str | None = None) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    if filename:
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    # Personal content (and maybe a meeting link): no shared cache may keep it.
    patch_cache_control(response, private=True)
    return response


@login_required
@require_safe
def registration_ics(request, pk: int):
    # Only the owner: a 404 for everyone else, so that nobody learns others' registrations exist.
    # Organizers have the admin's exports.
    registration = get_object_or_404(selectors.registrations_with_schedule(), pk=pk, user=request.user)
    return _ics_response(registration_calendar(registration), filename=f"{registration.event.slug}.ics")


@require_safe
def calendar_feed(request, token: str):
    # No login: calendar apps cannot sign in, so the secret token in the address is the key.
    feed = selectors.calendar_feed_by_token(token)
    if feed is None or not feed.user.is_active:
        raise Http404
    response = _ics_response(feed_calendar(feed.user))
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
@public_page(until=lambda request: selectors.next_moment(), parameters=("theme", "series"))
def public_calendar(request):
    """The upcoming events to subscribe to in a calendar app, all or on a theme or series
    (`?theme=cycling`), linked from the embedded list."""
    topic = chosen_topic(request.GET)
    events = selectors.event_list(**topic)
    return HttpResponse(
        events_calendar(events, topic_title(topic)), content_type="text/calendar; charset=utf-8"
    )


@login_required
@require_POST
def reset_calendar_feed(request):
    """A new secret address; the old one stops working (for a link that was shared or leaked)."""
    calendar_feeds.reset_calendar_feed(request.user)
    messages.success(
        request,
        _("Your calendar has a new address. Calendar apps subscribed to the old one must subscribe again."),
    )
    return redirect("events:my_registrations")
