"""One small portal with something of everything, for the authorization matrix and the fuzz
tests: two organizer teams with an event each, a member registered on team A's event, her
colleague, her organization's coordinator, a member of another organization, a newsletter
subscriber, an edition, an outbox message of team A, and a superuser.

Team A's private data carries markers (`MARKER_*`) that must never reach organizer B, whatever
page or action they try.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.files.base import ContentFile
from django.utils import timezone

from events.models import (
    AgendaItem,
    CalendarFeed,
    ContactPerson,
    Document,
    Event,
    Registration,
    Series,
    Speaker,
)
from events.services import registrations
from mail.models import OutgoingMessage
from members import services as member_services
from members.models import Organization, OrganizationDomain, Team, User
from newsletters.models import Consent, Edition, Subscriber
from newsletters.services import subscriptions

from . import factories
from .conftest import make_member

ROLES = (
    "anonymous",
    "member",
    "colleague",
    "other_member",
    "coordinator",
    "organizer_a",
    "organizer_b",
    "superuser",
)

# Strings only team A (and superusers) may read: the member's needs, team A's titles.
MARKER_DIET = "MarkerDietTeamA"
MARKER_ACCESS = "MarkerWheelchairTeamA"
MARKER_EVENT = "Team A harbour workshop"
MARKER_SERIES = "Team A cycling network"
MARKER_MESSAGE = "Team A outbox subject"
MARKER_TEAM = "Team A (KL)"


@dataclass
class World:
    users: dict[str, User | None]
    kl: Organization
    aarhus: Organization
    team_a: Team
    team_b: Team
    event_a: Event
    event_b: Event
    event_open: Event  # team A, nobody registered: where every role tries to register
    draft_a: Event
    series_a: Series
    registration: Registration  # the member's, on event A
    registration_b: Registration  # the other member's, on event B
    document: Document
    contact: ContactPerson
    speaker: Speaker
    subscriber: Subscriber
    consent: Consent
    edition: Edition
    sent_edition: Edition
    message_a: OutgoingMessage
    feed_token: str
    extra: dict = field(default_factory=dict)

    @property
    def member(self) -> User:
        return self.users["member"]

    @property
    def superuser(self) -> User:
        return self.users["superuser"]

    @property
    def occasion_a1(self):
        return self.event_a.occasions.order_by("pk")[0]

    @property
    def occasion_a2(self):
        return self.event_a.occasions.order_by("pk")[1]


def _organizer(email: str, kl: Organization, team: Team) -> User:
    user = make_member(email, kl, full_name=email.split("@")[0].replace(".", " ").title())
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(member_services.ensure_organizer_group())
    team.members.add(user)
    return user


def _event(title: str, team: Team, **kwargs) -> Event:
    event = factories.event(title=title, event_format=Event.Format.IN_PERSON, **kwargs)
    event.team = team
    event.save(update_fields=["team"])
    return event


def build_world(member: User, colleague: User, other_member: User, aarhus: Organization) -> World:
    """The portal's data, built in the calling test's transaction (MEDIA_ROOT must point to a
    temporary directory: a document is uploaded)."""
    kl, _ = Organization.objects.get_or_create(
        country="DK", kind="other", official_code="KL", defaults={"name": "KL"}
    )
    OrganizationDomain.objects.get_or_create(organization=kl, domain="kl.dk")
    team_a = Team.objects.create(name=MARKER_TEAM)
    team_b = Team.objects.create(name="Team B (county boards)")

    coordinator = make_member("coordinator@aarhus.dk", aarhus, full_name="Coordinator Aarhus")
    coordinator.is_organization_coordinator = True
    coordinator.save(update_fields=["is_organization_coordinator"])
    assert coordinator.organization_verified and member.organization_verified

    superuser = make_member("root@kl.dk", kl, full_name="Root Admin")
    superuser.is_staff = superuser.is_superuser = True
    superuser.save(update_fields=["is_staff", "is_superuser"])

    users = {
        "anonymous": None,
        "member": member,
        "colleague": colleague,
        "other_member": other_member,
        "coordinator": coordinator,
        "organizer_a": _organizer("organizer.a@kl.dk", kl, team_a),
        "organizer_b": _organizer("organizer.b@kl.dk", kl, team_b),
        "superuser": superuser,
    }

    series_a = Series.objects.create(title=MARKER_SERIES, slug="team-a-cycling", team=team_a)
    event_a = _event(MARKER_EVENT, team_a, capacities=(20, 20))
    event_a.series = series_a
    event_a.save(update_fields=["series"])
    event_b = _event("Team B county meeting", team_b)
    event_open = _event("Team A open seminar", team_a)
    draft_a = _event("Team A draft plan", team_a, status=Event.Status.DRAFT)

    registration = registrations.register(
        member, event_a.occasions.order_by("pk")[0], diet=MARKER_DIET, accessibility=MARKER_ACCESS
    )
    registration_b = registrations.register(other_member, event_b.occasions.get())

    document = Document.objects.create(
        event=event_a, title="Slides", file=ContentFile(b"%PDF-1.4 slides", name="slides.pdf")
    )
    contact = ContactPerson.objects.create(name="Karen Holm", email="kh@kl.dk")
    speaker = Speaker.objects.create(name="Maria Ek", organization="KL")
    talk = AgendaItem.objects.create(
        event=event_a,
        day_part=1,
        starts=dt.time(13, 0),
        ends=dt.time(13, 30),
        title="Welcome",
        kind="external_talk",
    )
    talk.speakers.add(speaker)

    subscriber = subscriptions.subscribe(
        member.email,
        language="en",
        topics=[],
        all_topics=True,
        event_alerts=True,
        consent_text="Yes, send me the newsletter.",
        source="test",
    )
    consent = subscriber.consents.order_by("pk").first()
    edition = Edition.objects.create(subject="Draft edition", body="Hello *all*.", created_by=superuser)
    sent_edition = Edition.objects.create(
        subject="Sent edition",
        body="Sent.",
        status=Edition.Status.SENT,
        started_at=timezone.now() - dt.timedelta(days=2),
        sent_at=timezone.now() - dt.timedelta(days=1),
    )
    # A failed message about team A's event: resending it is a change organizer B may not make.
    message_a = OutgoingMessage.objects.create(
        idempotency_key="matrix:team-a",
        kind="event-message",
        recipient=member.email,
        user=member,
        team=team_a,
        from_email="portal@localhost",
        subject=MARKER_MESSAGE,
        body_text="Dear participant",
        body_html="<p>Dear participant</p>",
        status=OutgoingMessage.Status.FAILED,
        message_id="<matrix-team-a@localhost>",
    )
    feed_token = CalendarFeed.objects.get_or_create(user=member)[0].token
    # allauth's admin lists addresses: the member's is the one acted on.
    assert EmailAddress.objects.filter(user=member).exists()

    return World(
        users=users,
        kl=kl,
        aarhus=aarhus,
        team_a=team_a,
        team_b=team_b,
        event_a=event_a,
        event_b=event_b,
        event_open=event_open,
        draft_a=draft_a,
        series_a=series_a,
        registration=registration,
        registration_b=registration_b,
        document=document,
        contact=contact,
        speaker=speaker,
        subscriber=subscriber,
        consent=consent,
        edition=edition,
        sent_edition=sent_edition,
        message_a=message_a,
        feed_token=feed_token,
    )


# The rows a refused request must leave as they were: every table of the portal's apps, and the
# accounts' addresses and groups (not sessions, the admin's log, or the last sign-in time).
WATCHED_APPS = ("members", "events", "newsletters", "outbox", "account", "auth", "sites")
UNWATCHED = {"auth.permission", "auth.group_permissions"}


def _watched_models() -> list:
    models = []
    for label in WATCHED_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if model._meta.label_lower not in UNWATCHED:
                models.append(model)
    return models


def snapshot() -> str:
    digest = hashlib.sha256()
    for model in _watched_models():
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "last_login"]
        for row in model.objects.order_by("pk").values_list(*fields):
            digest.update(repr(row).encode())
    return digest.hexdigest()
