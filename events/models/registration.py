"""Registrations for seats, their history, and the members' private calendar feeds.

The database keeps one active registration per member and event; everything else about a
registration's state is decided by events.services.
"""

import secrets

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from members.models import Organization, User
from members.text import PersonTextModel

from .event import Event, team_visibility
from .programme import Occasion


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

    class Standing(models.TextChoices):
        """What a registration means to its member now (see `standing`)."""

        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("On the waiting list")
        CANCELLED = "cancelled", pgettext_lazy("registration status", "Cancelled")
        EVENT_CANCELLED = "event_cancelled", _("Event cancelled")

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
    # Neither foreign key has an index of its own: an index in Meta begins with each, and every
    # registration writes an entry in each index.
    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="registrations",
        editable=False,
        verbose_name=_("event"),
        db_index=False,
    )
    occasion = models.ForeignKey(
        Occasion,
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("occasion"),
        db_index=False,
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
    # The calendar entries' SEQUENCE (RFC 5545): raised by events.services whenever what the
    # member's calendar shows changes (a move, new times or place, a seat, a cancellation), so
    # calendar apps take the newer file instead of keeping the entry they have.
    calendar_sequence = models.PositiveIntegerField(default=0, editable=False)

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
                violation_error_message=_("This person is already registered for this event."),
            ),
        ]
        indexes = [
            models.Index(fields=["event", "status", "queued_at"]),
            # The seats taken on an occasion, counted under the event's lock on every registration:
            # without it PostgreSQL may count through the one-active-per-event index instead.
            models.Index(fields=["occasion", "status"], name="registration_occasion_status"),
        ]

    def __str__(self) -> str:
        # No user once the member's account was erased.
        return f"{self.user or gettext('(account deleted)')} – {self.occasion}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def standing(self) -> str:
        """The member's view of the registration: once the event is cancelled, a seat or a place
        in the queue is worth nothing, whatever `status` still records for the organizers."""
        if self.is_active and self.event.status == Event.Status.CANCELLED:
            return self.Standing.EVENT_CANCELLED
        return self.Standing(self.status).value

    @property
    def standing_label(self) -> str:
        return self.Standing(self.standing).label

    @property
    def holds_place(self) -> bool:
        """Whether the member has a seat or a waiting-list place to use, move or give up."""
        return self.standing in (self.Standing.CONFIRMED, self.Standing.WAITLISTED)


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

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="log", verbose_name=_("registration")
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    # A change the member or a coordinator made, counted for both against the limit on
    # registration changes (events.services.throttle) in the transaction that makes it; with it
    # the member whose registration it is, so that reading the counts needs no join.
    counted = models.BooleanField(_("counted towards the limit on changes"), default=False, editable=False)
    member = models.ForeignKey(
        User,
        # The history stays with the anonymized registration when the account is erased.
        on_delete=models.SET_NULL,
        null=True,
        editable=False,
        related_name="+",
        db_index=False,
        verbose_name=_("member"),
    )

    class Meta:
        verbose_name = _("registration log entry")
        verbose_name_plural = _("registration log")
        ordering = ["at", "pk"]
        indexes = [
            # The limit reads a person's recent counted changes, as the one who made them and as
            # the member they were made for.
            models.Index(
                fields=["actor", "at"], condition=Q(counted=True), name="registrationlog_counted_by"
            ),
            # Set only on counted entries; also what erasing an account sets to NULL through.
            models.Index(
                fields=["member", "at"], condition=Q(member__isnull=False), name="registrationlog_counted_for"
            ),
        ]

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
