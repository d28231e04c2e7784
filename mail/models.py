"""The transactional outbox: every email the portal sends is first a row here, written in the
same transaction as the change that caused it, and sent by a Celery task that claims the row."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# What each kind of message is, for organizers reading the outbox (the kind is the template's
# name: the portal's own in templates/emails/, allauth's account emails by their prefix).
KIND_LABELS = {
    "registration_confirmed": _("Registration confirmed"),
    "registration_waitlisted": _("On the waiting list"),
    "registration_promoted": _("Moved up from the waiting list"),
    "registration_cancelled": _("Registration cancelled"),
    "event_changed": _("Event changed"),
    "event_cancelled": _("Event cancelled"),
    "organizer_message": _("Message from the organizers"),
    "reminder": _("Reminder"),
    "follow_up": _("Follow-up after the event"),
    "newsletter_confirm": _("Newsletter sign-up confirmation"),
    "event_alert": _("New event alert"),
    "login_code": _("Sign-in code"),
    "password_reset_key": _("Password reset link"),
    "email_confirmation": _("Email address confirmation"),
    "email_confirmation_signup": _("Sign-up confirmation"),
    "email_changed": _("Email address changed"),
    "password_changed": _("Password changed"),
    "password_set": _("Password set"),
    "unknown_account": _("Password reset for an unknown address"),
    "account_already_exists": _("Sign-up with an existing address"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


class OutgoingMessageQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=OutgoingMessage.Status.PENDING)

    def due(self, at=None):
        """Pending and not waiting for a retry's back-off."""
        return self.pending().filter(next_attempt_at__lte=at or timezone.now())

    def visible_to(self, user):
        """What `user` may see in admin: a superuser everything; an organizer the messages about
        their teams' events. Messages about no event (account emails with their secrets,
        newsletter notices) concern no team, so only superusers see them."""
        if user.is_superuser:
            return self.all()
        if not user.is_staff:
            return self.none()
        return self.filter(team__members=user)

    def to_member(self, user):
        """Every message the portal wrote to `user`: linked to the account, or addressed to one
        of its email addresses (messages written before the account existed or was linked)."""
        addresses = {user.email, *user.emailaddress_set.values_list("email", flat=True)}
        to_address = models.Q()
        for address in filter(None, addresses):
            to_address |= models.Q(recipient__iexact=address)
        return self.filter(models.Q(user=user) | to_address)


class OutgoingMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # What the message is about, e.g. "registration-log:42" or "reminder:17:7d": a second
    # enqueue of the same thing (a retried job, a periodic scan) finds the row already there.
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=50)
    recipient = models.EmailField(_("recipient"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outgoing_messages",
        verbose_name=_("member"),
    )
    # The organizer team whose event the message is about: organizers see only their teams'
    # messages; messages about no event (account emails, newsletter notices) only superusers.
    team = models.ForeignKey(
        "members.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organizer team"),
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    from_email = models.CharField(_("from"), max_length=300)
    reply_to = models.CharField(_("reply to"), max_length=300, blank=True)
    # Empty until rendered for a message written with `about` (see below).
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body_text = models.TextField(_("plain text"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    # What a message rendered when it is sent is about, e.g. {"registration_log": 42} or
    # {"registration": 7, "days": 1}: the state change writes only this small row (under the
    # event's lock), and the worker renders subject, bodies and calendar file from the database
    # as it is then, with the renderer its app registered for the kind (sending.register_renderer).
    # None for a message rendered when it was written (account emails with their secrets,
    # newsletter notices).
    about = models.JSONField(_("about"), null=True, blank=True)
    # [{"filename": ..., "content": ..., "mimetype": ...}] with text content (calendar files).
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    # Account emails carry secrets (sign-in codes, password-reset links): organizers must not
    # read them in admin, and their bodies are wiped once sent.
    # Their bodies are stored encrypted (outbox/secrets.py) and withdrawn after OUTBOX_SECRET_TTL.
    sensitive = models.BooleanField(_("contains a secret"), default=False)
    # When the bodies and attachments were removed: a secret once sent, failed or expired, any
    # message after OUTBOX_RETENTION_DAYS. The row stays as the record that it was sent.
    body_removed_at = models.DateTimeField(_("body removed"), null=True, blank=True)
    # When the send task was last handed to the broker: the sweep does not publish it again
    # while it is likely still queued.
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    # Extra headers, e.g. List-Unsubscribe on newsletter alerts.
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=300)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    objects = OutgoingMessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["kind"], name="outbox_message_kind"),
        ]
        # Index and uniqueness in Meta, not on the fields: on PostgreSQL a field's own adds a
        # second index for LIKE, which nothing asks of these two and every message writes.
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"],
                name="outbox_message_id_unique",
                violation_error_message=_("Another message has this Message-ID."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject or kind_label(self.kind)} → {self.recipient}"

    @property
    def rendered_when_sent(self) -> bool:
        return self.about is not None


class SendingPause(models.Model):
    """One row (pk 1): when the SMTP server refused the portal itself (its login, its sender
    address, its TLS set-up), every sender stops claiming until `until`, and organizers see why
    in admin. In the database, not the cache: the web process that shows the banner and the
    workers that check it share nothing else (the default cache is per process)."""

    at = models.DateTimeField(_("refused at"))
    until = models.DateTimeField(_("paused until"))
    code = models.PositiveSmallIntegerField(_("SMTP reply code"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("sending pause")
        verbose_name_plural = _("sending pauses")

    def __str__(self) -> str:
        return f"{self.code or ''} {self.at:%Y-%m-%d %H:%M} → {self.until:%H:%M}".strip()
