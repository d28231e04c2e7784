"""Events, their occasions and programme, and registrations for seats.

Registration state is changed only by events.services; the models hold data, read-only
QuerySets and the invariants a database can keep (one active registration per member and event).
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from members.models import Organization, Team, User
from members.text import PersonTextModel

from . import uploads


class Theme(models.Model):
    """A main agenda of municipal green mobility (the Danish seed lists them)."""

    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_da = models.CharField(_("name (Danish)"), max_length=100, blank=True)
    name_sv = models.CharField(_("name (Swedish)"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    colour = models.CharField(
        _("colour"),
        max_length=7,
        default="#1d5b32",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour as #rrggbb."))],
        help_text=_("A dark colour (hex) for white text, e.g. #1d5b32."),
    )

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("events:theme", args=[self.slug])

    @property
    def display_name(self) -> str:
        """The name in the active language, falling back to English."""
        return getattr(self, f"name_{get_language()}", "") or self.name


class ContactPerson(PersonTextModel, models.Model):
    person_text_fields = ("name", "phone", "organization")  # members.text: no invisible or bidi characters

    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email address"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    organization = models.CharField(_("organization"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def team_visibility(user, team_path: str = "team") -> Q:
    """The one rule of who sees what in the organizers' admin: a superuser sees everything, an
    organizer what their teams own (found by following `team_path` from the model to its
    team), anyone else nothing. Rows without a team are the superusers' alone."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    return Q(**{f"{team_path}__in": Team.objects.of(user)})


class SeriesQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(team_visibility(user, "team"))


class Series(models.Model):
    """A network or project that events belong to, e.g. KL's network on green mobility."""

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    organizing_bodies = models.CharField(_("organizing bodies"), max_length=300, blank=True)
    contacts = models.ManyToManyField(ContactPerson, blank=True, verbose_name=_("contact persons"))
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="series",
        verbose_name=_("organizer team"),
        help_text=_("The team that runs the series; only its organizers see and change it."),
    )

    objects = SeriesQuerySet.as_manager()

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:series", args=[self.slug])


# Reminders go out at most this many days before an occasion; the reminder job reads only
# occasions starting within this horizon.
MAX_REMINDER_DAYS = 60


def _default_reminder_days() -> list[int]:
    return [7, 1]


def _validate_reminder_days(value) -> None:
    if not isinstance(value, list) or not all(
        isinstance(d, int) and 1 <= d <= MAX_REMINDER_DAYS for d in value
    ):
        raise ValidationError(
            _("Enter a list of whole days between 1 and %(max)d, e.g. [7, 1].") % {"max": MAX_REMINDER_DAYS}
        )


class EventQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED])

    def upcoming(self):
        return self.filter(ends_at__gte=timezone.now())

    def past(self):
        return self.filter(ends_at__lt=timezone.now())

    def visible_to(self, user):
        """The events `user` may see and change in admin (their teams' events)."""
        return self.filter(team_visibility(user, "team"))


class Event(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", pgettext_lazy("event status", "Cancelled")

    class Format(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        ONLINE = "online", _("Online")
        HYBRID = "hybrid", _("Hybrid")

    class WaitlistPolicy(models.TextChoices):
        FIRST_COME = "first_come", _("First come, first served")
        FAIR = "fair", _("Organizations without a seat first")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True, max_length=200)
    series = models.ForeignKey(
        Series,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("series"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("organizer team"),
        help_text=_(
            "The team that runs the event: only its organizers see and change the event, its "
            "registrations and participants' needs."
        ),
    )
    main_theme = models.ForeignKey(
        Theme, on_delete=models.PROTECT, related_name="main_events", verbose_name=_("main theme")
    )
    themes = models.ManyToManyField(Theme, blank=True, related_name="events", verbose_name=_("other themes"))
    summary = models.CharField(_("summary"), max_length=300)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    audience = models.JSONField(
        _("target audience"), default=list, blank=True, help_text=_("Roles the event is for.")
    )
    format = models.CharField(_("format"), max_length=20, choices=Format.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    contacts = models.ManyToManyField(ContactPerson, blank=True, verbose_name=_("contact persons"))
    registration_opens_at = models.DateTimeField(_("registration opens"))
    registration_closes_at = models.DateTimeField(_("registration closes"))
    cancellation_deadline = models.DateTimeField(
        _("cancellation deadline"),
        null=True,
        blank=True,
        help_text=_("Until then participants can cancel themselves; empty means until the start."),
    )
    organization_quota = models.PositiveSmallIntegerField(
        _("seats per organization"),
        null=True,
        blank=True,
        help_text=_("Seats set aside for each organization across all occasions; empty means no limit."),
    )
    quota_release_at = models.DateTimeField(
        _("unused organization seats released"),
        null=True,
        blank=True,
        help_text=_(
            "After this time seats an organization has not used go to anyone, first come first served."
        ),
    )
    waitlist_policy = models.CharField(
        _("waiting-list order"),
        max_length=20,
        choices=WaitlistPolicy.choices,
        default=WaitlistPolicy.FIRST_COME,
    )
    reminder_days = models.JSONField(
        _("reminders (days before)"),
        default=_default_reminder_days,
        blank=True,
        validators=[_validate_reminder_days],
        help_text=_(
            "Confirmed participants get a reminder this many days before their occasion, e.g. [7, 1]."
        ),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    # Derived from the occasions' day parts by events.services; kept for list queries.
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True, editable=False, db_index=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True, editable=False, db_index=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["starts_at", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(registration_closes_at__gt=models.F("registration_opens_at")),
                name="event_registration_window_order",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.slug])

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    def quota_applies(self, at=None) -> bool:
        if self.organization_quota is None:
            return False
        return self.quota_release_at is None or (at or timezone.now()) < self.quota_release_at


class OccasionQuerySet(models.QuerySet):
    def with_seats(self):
        """Annotate confirmed and waitlisted counts in the same query (no N+1 on lists)."""
        return self.annotate(
            confirmed_count=Count(
                "registrations", filter=Q(registrations__status=Registration.Status.CONFIRMED)
            ),
            waitlisted_count=Count(
                "registrations", filter=Q(registrations__status=Registration.Status.WAITLISTED)
            ),
        )

    def visible_to(self, user):
        return self.filter(team_visibility(user, "event__team"))


class Occasion(models.Model):
    """One date of an event (the Swedish workshop runs on three), with its own seats."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="occasions", verbose_name=_("event")
    )
    label = models.CharField(_("label"), max_length=100, blank=True, help_text=_("e.g. 4–5 November"))
    capacity = models.PositiveIntegerField(_("seats"))
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    address = models.TextField(_("address"), blank=True)
    online_url = models.URLField(
        _("online meeting link"), blank=True, help_text=_("Shown only to confirmed participants.")
    )
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True, editable=False)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True, editable=False)

    objects = OccasionQuerySet.as_manager()

    class Meta:
        verbose_name = _("occasion")
        verbose_name_plural = _("occasions")
        ordering = ["starts_at", "pk"]

    def __str__(self) -> str:
        return f"{self.event}: {self.display_label}"

    @property
    def display_label(self) -> str:
        """The organizer's label, or else the local start date in the reader's format."""
        if self.label:
            return self.label
        if self.starts_at:
            return date_format(timezone.localtime(self.starts_at), "DATE_FORMAT")
        return gettext("date to be announced")

    @property
    def seats_left(self) -> int:
        """Needs OccasionQuerySet.with_seats()."""
        return max(self.capacity - self.confirmed_count, 0)


class DayPart(models.Model):
    """A half-day or day of an occasion ("lunch to lunch" makes two)."""

    occasion = models.ForeignKey(Occasion, on_delete=models.CASCADE, related_name="day_parts")
    number = models.PositiveSmallIntegerField(
        _("number"), default=1, help_text=_("1 for the first day part.")
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))

    class Meta:
        verbose_name = _("day part")
        verbose_name_plural = _("day parts")
        ordering = ["occasion", "number"]
        constraints = [
            models.UniqueConstraint(fields=["occasion", "number"], name="daypart_unique_number"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="daypart_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}"


class Speaker(PersonTextModel, models.Model):
    person_text_fields = ("name", "organization")  # members.text: no invisible or bidi characters

    name = models.CharField(_("name"), max_length=200)
    organization = models.CharField(_("organization"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("speaker")
        verbose_name_plural = _("speakers")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.organization})" if self.organization else self.name


class AgendaItem(models.Model):
    """The programme, entered once per event and shown for each occasion's day parts."""

    class Kind(models.TextChoices):
        EXTERNAL_TALK = "external_talk", _("External talk")
        ORGANIZER_TALK = "organizer_talk", _("Talk by the organizer")
        MEMBER_TALK = "member_talk", _("Talk by a member")
        WORKSHOP = "workshop", _("Workshop exercise")
        DISCUSSION = "discussion", _("Discussion")
        BREAK = "break", _("Break or lunch")
        NETWORKING = "networking", _("Networking")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="agenda_items")
    day_part = models.PositiveSmallIntegerField(_("day part"), default=1)
    starts = models.TimeField(_("start time"))
    ends = models.TimeField(_("end time"))
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    speakers = models.ManyToManyField(Speaker, blank=True, verbose_name=_("speakers"))
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["event", "day_part", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__gt=models.F("starts")), name="agenda_item_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Document(models.Model):
    """Material for an event or a series: an invitation, slides after a meeting, a report."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="documents"
    )
    series = models.ForeignKey(
        Series, on_delete=models.CASCADE, null=True, blank=True, related_name="documents"
    )
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to="documents/%Y/", blank=True)
    url = models.URLField(_("link"), blank=True)
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-added_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(event__isnull=False) | Q(series__isnull=False)),
                name="document_belongs_somewhere",
            ),
            models.CheckConstraint(condition=~(Q(file="") & Q(url="")), name="document_has_file_or_link"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        # Only a new upload is checked: a file stored before the allow-list stays editable
        # (its title, its link) and is served as a download (events.views.document_file).
        if self.file and not self.file._committed:
            try:
                uploads.validate_document_upload(self.file)
            except ValidationError as error:
                raise ValidationError({"file": error}) from None

    @property
    def href(self) -> str:
        return reverse("events:document", args=[self.pk]) if self.file else self.url


class RegistrationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=Registration.ACTIVE)

    def confirmed(self):
        return self.filter(status=Registration.Status.CONFIRMED)

    def waitlisted(self):
        return self.filter(status=Registration.Status.WAITLISTED)

    def visible_to(self, user):
        """The registrations of the events `user` may see in admin: who registered, with what."""
        return self.filter(team_visibility(user, "event__team"))


class Registration(PersonTextModel, models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("On the waiting list")
        CANCELLED = "cancelled", pgettext_lazy("registration status", "Cancelled")

    class WaitReason(models.TextChoices):
        NONE = "", _("None")
        FULL = "full", _("The occasion is full")
        QUOTA = "quota", _("The organization's seats are used")
        UNVERIFIED = "unverified", _("Organization membership not yet verified")

    ACTIVE = (Status.CONFIRMED, Status.WAITLISTED)
    # Members write their needs themselves: normalized on every validation (members.text).
    person_text_fields = ("diet", "accessibility")

    # Empty once the member's account was erased: the registration stays as a count (seats,
    # quotas and statistics stay right) without the person.
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="registrations",
        verbose_name=_("member"),
    )
    # Denormalized from the occasion so the database can keep one active registration per event.
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations", editable=False)
    occasion = models.ForeignKey(
        Occasion, on_delete=models.PROTECT, related_name="registrations", verbose_name=_("occasion")
    )
    # The organization at registration time: a member who changes job keeps the seat it was counted on.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="registrations", verbose_name=_("organization")
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    wait_reason = models.CharField(_("why waiting"), max_length=20, choices=WaitReason.choices, blank=True)
    created_at = models.DateTimeField(_("registered"), default=timezone.now, db_index=True)
    # When the registration joined its current waiting list: the first-come order. Equal to
    # created_at unless it moved to another occasion's list.
    queued_at = models.DateTimeField(_("in the queue since"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    over_quota = models.BooleanField(
        _("confirmed over quota"), default=False, help_text=_("An organizer confirmed it beyond the quota.")
    )
    diet = models.CharField(_("dietary needs"), max_length=200, blank=True)
    accessibility = models.CharField(_("accessibility needs"), max_length=200, blank=True)
    listed = models.BooleanField(
        _("show me on the participant list"),
        default=False,
        help_text=_("Colleagues from your organization and other participants may see that you take part."),
    )
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    # The smallest reminder offset (days) already sent, so each reminder goes once.
    last_reminder_days = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event"],
                condition=Q(status__in=["confirmed", "waitlisted"]),
                name="registration_one_active_per_event",
            ),
        ]
        indexes = [models.Index(fields=["event", "status", "queued_at"])]

    def __str__(self) -> str:
        # No user once the member's account was erased.
        return f"{self.user or gettext('(account deleted)')} – {self.occasion}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class RegistrationLog(models.Model):
    """What happened to a registration, when, and who did it: the history organizers read in
    admin. The member's emails about these changes are written by events.notifications."""

    class Action(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("Put on the waiting list")
        PROMOTED = "promoted", _("Promoted from the waiting list")
        CANCELLED = "cancelled", pgettext_lazy("registration log", "Cancelled")
        MOVED = "moved", _("Moved to another occasion")
        OVERRIDDEN = "overridden", _("Confirmed over quota by an organizer")
        ATTENDANCE = "attendance", _("Attendance recorded")

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="log")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("registration log entry")
        verbose_name_plural = _("registration log")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


def _feed_token() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeed(models.Model):
    """A private calendar address per member: whoever has the link sees the member's meetings."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=_feed_token)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)

    def get_absolute_url(self) -> str:
        return reverse("events:calendar_feed", args=[self.token])
