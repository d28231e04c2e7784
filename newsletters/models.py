"""Newsletter subscribers with their consent, editions, and one delivery row per (edition,
subscriber): the row, unique in the database, is what makes sending exactly-once."""

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.markup import SanitizedHTMLField, StoredMarkdown
from events.models import Theme
from events.models.event import default_content_language


class SubscriberQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Subscriber.Status.ACTIVE)

    def for_topics(self, themes):
        """Active subscribers who want to hear about any of `themes` (or about everything).
        An empty `themes` means the edition is for everyone."""
        subscribers = self.active()
        theme_ids = [theme.pk for theme in themes]
        if not theme_ids:
            return subscribers
        return subscribers.filter(Q(all_topics=True) | Q(topics__in=theme_ids)).distinct()


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting confirmation")
        ACTIVE = "active", _("Subscribed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCING = "bouncing", _("Bouncing")

    email = models.EmailField(_("email address"), unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="subscriber",
        verbose_name=_("member"),
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    all_topics = models.BooleanField(_("all topics"), default=True)
    topics = models.ManyToManyField(Theme, blank=True, related_name="subscribers", verbose_name=_("topics"))
    event_alerts = models.BooleanField(
        _("event alerts"),
        default=False,
        help_text=_("A short email when a new event on one of the topics opens for registration."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    bounce_count = models.PositiveSmallIntegerField(_("hard bounces"), default=0)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["email"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class Consent(models.Model):
    """What a subscriber agreed to (or withdrew), when, and from where: the GDPR record."""

    class Action(models.TextChoices):
        SUBSCRIBED = "subscribed", _("Asked to subscribe")
        CONFIRMED = "confirmed", _("Confirmed the subscription")
        IMPORTED = "imported", _("Imported by an organizer")
        PREFERENCES = "preferences", _("Changed preferences")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="consents", verbose_name=_("subscriber")
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    text = models.TextField(_("consent text"), blank=True, help_text=_("The text the person agreed to."))
    source = models.CharField(
        _("source"),
        max_length=200,
        help_text=_("Where it happened, e.g. web form, profile, import: list name."),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.source})"


class Edition(StoredMarkdown, models.Model):
    stored_markdown = {"body": "body_html"}

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    subject = models.CharField(_("subject"), max_length=200)
    preheader = models.CharField(
        _("preheader"),
        max_length=200,
        blank=True,
        help_text=_("The line mail programs show after the subject."),
    )
    body = models.TextField(_("body"), help_text=_("Markdown."))
    body_html = SanitizedHTMLField(_("body as HTML"))
    # The archive page marks the edition's text with it when the visitor reads another language.
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=default_content_language,
        help_text=_("The language the edition is written in."),
    )
    topics = models.ManyToManyField(
        Theme,
        blank=True,
        related_name="editions",
        verbose_name=_("audience by topics"),
        help_text=_("Subscribers of any of these topics get it; none means everyone."),
    )
    include_upcoming_events = models.BooleanField(_("add upcoming events"), default=True)
    include_recent_materials = models.BooleanField(_("add recent materials"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("finished"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("edition")
        verbose_name_plural = _("editions")
        ordering = ["-sent_at", "-created_at"]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("newsletters:edition", args=[self.pk])

    def delivery_counts(self) -> dict[str, int]:
        counts = dict(self.deliveries.values_list("status").annotate(n=Count("id")).order_by())
        return {status: counts.get(status, 0) for status in Delivery.Status.values}


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    # No index of its own: the unique (edition, subscriber) and the (edition, status) index begin
    # with it, and every claim and "sent" mark would write a third entry.
    edition = models.ForeignKey(
        Edition,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("edition"),
        db_index=False,
    )
    # Empty once the subscriber is erased (GDPR): the row stays, naming nobody, so that the
    # edition's counts of sent, failed and skipped messages stay right.
    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("subscriber"),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    # Not before this time: the back-off after a temporary failure or while sending is paused
    # (the mail package's claims). Empty means due at once.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["edition", "subscriber"], name="delivery_once_per_edition_and_subscriber"
            )
        ]
        indexes = [models.Index(fields=["edition", "status"])]

    def __str__(self) -> str:
        return f"{self.edition} → {self.subscriber or _('an erased subscriber')}"


class Suppression(models.Model):
    """An address erased at its owner's request (GDPR), kept only as a keyed hash so that no
    import or organizer adds it again. Only the owner's own confirmed opt-in removes it.
    newsletters.suppression makes and checks the hashes."""

    class Reason(models.TextChoices):
        ERASURE_REQUEST = "erasure_request", _("Erased at the person's request")
        ACCOUNT_DELETED = "account_deleted", _("Erased with the member's account")

    email_hash = models.CharField(_("hashed email address"), max_length=64, unique=True)
    reason = models.CharField(_("reason"), max_length=30, choices=Reason.choices)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")

    def __str__(self) -> str:
        return f"{self.email_hash[:12]}… ({self.get_reason_display()})"


class EventAlert(models.Model):
    """The subscribers' alerts about an event were written (once, when its registration opened).
    The periodic job claims an event by creating this row, so overlapping runs alert once."""

    event = models.OneToOneField(
        "events.Event", on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("event")
    )
    sent_at = models.DateTimeField(_("alerts written"), default=timezone.now)

    class Meta:
        verbose_name = _("event alert")
        verbose_name_plural = _("event alerts")

    def __str__(self) -> str:
        return f"{self.event_id} @ {self.sent_at:%Y-%m-%d %H:%M}"
