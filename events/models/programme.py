"""What an event offers: its occasions (dates with their own seats) and their day parts, the
programme with its speakers, and documents."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members.text import PersonTextModel

from .. import uploads
from .event import Event, Series, team_visibility


class OccasionQuerySet(models.QuerySet):
    def with_seats(self):
        """Annotate confirmed and waitlisted counts in the same query (no N+1 on lists)."""
        # Registration.Status's values, spelled out: registration.py imports this module, so it
        # cannot be imported back (the unique constraint on Registration spells them out too).
        return self.annotate(
            confirmed_count=Count("registrations", filter=Q(registrations__status="confirmed")),
            waitlisted_count=Count("registrations", filter=Q(registrations__status="waitlisted")),
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
    def place_lines(self) -> list[str]:
        """Where it happens, one line each: the venue, then the address as the organizer wrote
        its lines. Pages put them on lines of their own, text emails and calendars join them
        with ", " (venue and street ran together otherwise)."""
        return [line.strip() for line in [self.venue, *self.address.splitlines()] if line.strip()]

    def clean(self) -> None:
        super().clean()
        if self.capacity is not None and self.capacity < 1:
            raise ValidationError(
                {"capacity": ValidationError(_("An occasion needs at least one seat."), code="no_seats")}
            )

    @property
    def seats_left(self) -> int:
        """Needs OccasionQuerySet.with_seats()."""
        return max(self.capacity - self.confirmed_count, 0)


class DayPart(models.Model):
    """A half-day or day of an occasion ("lunch to lunch" makes two)."""

    occasion = models.ForeignKey(
        Occasion, on_delete=models.CASCADE, related_name="day_parts", verbose_name=_("occasion")
    )
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
            models.UniqueConstraint(
                fields=["occasion", "number"],
                name="daypart_unique_number",
                violation_error_message=_("There is already a day part with this number."),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="daypart_ends_after_start",
                violation_error_message=_("A day part must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}"

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.number is not None and self.number < 1:
            errors["number"] = ValidationError(_("Day parts are numbered from 1."), code="number_from_one")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = ValidationError(
                _("A day part must end after it starts."), code="ends_before_start"
            )
        if errors:
            raise ValidationError(errors)


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

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="agenda_items", verbose_name=_("event")
    )
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
                condition=Q(ends__gt=models.F("starts")),
                name="agenda_item_ends_after_start",
                violation_error_message=_("A programme item must end after it starts."),
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        """One item's own rules; whether its day part exists and holds its times is checked
        against the event's day parts by the admin's programme formset (events.admin_views)."""
        super().clean()
        errors = {}
        if self.day_part is not None and self.day_part < 1:
            errors["day_part"] = ValidationError(_("Day parts are numbered from 1."), code="number_from_one")
        if self.starts and self.ends and self.ends <= self.starts:
            errors["ends"] = ValidationError(
                _("A programme item must end after it starts."), code="ends_before_start"
            )
        if errors:
            raise ValidationError(errors)


class Document(models.Model):
    """Material for an event or a series: an invitation, slides after a meeting, a report."""

    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("event"),
    )
    series = models.ForeignKey(
        Series,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("series"),
    )
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to="documents/%Y/", blank=True)
    url = models.URLField(_("link"), blank=True)
    for_participants = models.BooleanField(
        _("for participants only"),
        default=False,
        help_text=_(
            "Not shown on the public page: sent to the participants the day after each occasion, "
            "and downloadable by them when signed in."
        ),
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-added_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(event__isnull=False) | Q(series__isnull=False)),
                name="document_belongs_somewhere",
                violation_error_message=_("A document belongs to an event or a series."),
            ),
            models.CheckConstraint(
                condition=~(Q(file="") & Q(url="")),
                name="document_has_file_or_link",
                violation_error_message=_("Upload a file or enter a link."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if self.for_participants and self.event_id is None:
            raise ValidationError(
                {"for_participants": _("Only an event's documents can be for its participants.")}
            )
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
