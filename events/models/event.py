"""Events and what they are filed under: themes, series and contact persons, and the rule of who
sees which of them in the organizers' admin (team_visibility).

Registration state is changed only by events.services; the models hold data, read-only
QuerySets and the invariants a database can keep.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from members.models import Team
from members.text import PersonTextModel
from network_portal.collation import sorted_by_name

from ..markup import SanitizedHTMLField, StoredMarkdown


def _local(moment) -> str:
    """A moment in the organizer's time zone and date format, for messages."""
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


class Theme(StoredMarkdown, models.Model):
    """A main agenda of municipal green mobility (the Danish seed lists them)."""

    stored_markdown = {"description": "description_html"}

    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_da = models.CharField(_("name (Danish)"), max_length=100, blank=True)
    name_sv = models.CharField(_("name (Swedish)"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_html = SanitizedHTMLField(_("description as HTML"))
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


def default_content_language() -> str:
    """The site's language: what a new series or newsletter edition is most likely written in."""
    return settings.LANGUAGE_CODE


class SeriesQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(team_visibility(user, "team"))


class Series(StoredMarkdown, models.Model):
    """A network or project that events belong to, e.g. KL's network on green mobility."""

    stored_markdown = {"description": "description_html"}

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    description_html = SanitizedHTMLField(_("description as HTML"))
    organizing_bodies = models.CharField(_("organizing bodies"), max_length=300, blank=True)
    # Pages in another language mark the series' own text with it (WCAG 3.1.2 language of parts).
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=default_content_language,
        help_text=_("The language the title and description are written in."),
    )
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
            _("Enter whole days between 1 and %(max)d, separated by commas, e.g. 7, 1.")
            % {"max": MAX_REMINDER_DAYS}
        )


def published_statuses() -> list[str]:
    """An event anyone may read: published, or cancelled after it was."""
    return [Event.Status.PUBLISHED, Event.Status.CANCELLED]


class EventQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status__in=published_statuses())

    def upcoming(self):
        return self.filter(ends_at__gte=timezone.now())

    def past(self):
        return self.filter(ends_at__lt=timezone.now())

    def visible_to(self, user):
        """The events `user` may see and change in admin (their teams' events)."""
        return self.filter(team_visibility(user, "team"))


class Event(StoredMarkdown, models.Model):
    stored_markdown = {"description": "description_html"}

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
    description_html = SanitizedHTMLField(_("description as HTML"))
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
    sends_follow_up = models.BooleanField(
        _("follow-up email"),
        default=True,
        help_text=_(
            "The day after each occasion its participants get a thank-you with the materials for "
            "participants and a link to the evaluation."
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
                violation_error_message=_("Registration must close after it opens."),
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.slug])

    @property
    def public_documents(self) -> list:
        """The documents anyone may see on the event's page; those for participants only are sent
        to them after each occasion (prefetch "documents")."""
        return [document for document in self.documents.all() if not document.for_participants]

    @property
    def other_themes(self) -> list[Theme]:
        """The themes besides the main one, by name in the reader's language (prefetch "themes")."""
        others = [theme for theme in self.themes.all() if theme.pk != self.main_theme_id]
        return sorted_by_name(others, lambda theme: theme.display_name)

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    def clean(self) -> None:
        """Plausibility of the event's own dates and seats; what needs the occasions' seats is
        checked by the admin's forms (events.admin_views)."""
        super().clean()
        errors: dict[str, ValidationError] = {}
        opens, closes = self.registration_opens_at, self.registration_closes_at
        if opens and closes and closes <= opens:
            # Next to the field; the constraint's own message would stand above the form.
            errors["registration_closes_at"] = ValidationError(
                _("Registration must close after it opens."), code="registration_window_order"
            )
        # Closing after the start is allowed: with several occasions people still register for
        # the later ones, and late sign-ups on the day are common. After the end it is a typo.
        if closes and self.ends_at and closes > self.ends_at:
            errors.setdefault(
                "registration_closes_at",
                ValidationError(
                    _("Registration closes after the event has ended (%(end)s).")
                    % {"end": _local(self.ends_at)},
                    code="registration_after_end",
                ),
            )
        deadline = self.cancellation_deadline
        if deadline and self.ends_at and deadline > self.ends_at:
            errors["cancellation_deadline"] = ValidationError(
                _("The cancellation deadline is after the event has ended (%(end)s).")
                % {"end": _local(self.ends_at)},
                code="cancellation_after_end",
            )
        if self.organization_quota == 0:
            errors["organization_quota"] = ValidationError(
                _("With 0 seats per organization nobody could register. Leave it empty for no limit."),
                code="quota_zero",
            )
        if self.quota_release_at and opens and self.quota_release_at < opens:
            errors["quota_release_at"] = ValidationError(
                _(
                    "Unused seats would be released before registration opens (%(opens)s), so no "
                    "seats would be set aside for any organization."
                )
                % {"opens": _local(opens)},
                code="release_before_opening",
            )
        if errors:
            raise ValidationError(errors)

    def quota_applies(self, at=None) -> bool:
        if self.organization_quota is None:
            return False
        return self.quota_release_at is None or (at or timezone.now()) < self.quota_release_at
