"""Subscription rules: subscribe, confirm, opt in again, preferences, unsubscribe, and the
cleanup of stale sign-ups. Only newsletters.services changes a subscriber's state (imports and
erasure are its other modules); views, admin, commands and tests all call it, and every change
leaves a Consent record (the GDPR trail) in its transaction.

- Double opt-in: an address typed into the web form stays pending until its owner confirms from
  the signed link in the email. An address already verified by a signed-in member, or imported
  by an organizer with the consent they collected, is active at once.
- Nothing here tells a stranger what state an address is in: subscribing an address that is
  already active changes nothing and the form shows the same "check your inbox" page.
- Unsubscribed and bouncing addresses come back only through a new opt-in. An unsubscribe
  stands until its owner confirms a new one: a sign-up from the web form leaves the address
  unsubscribed and only sends the owner a re-opt-in link; the stale-pending cleanup never
  deletes a row with an unsubscribe in its history; imports never touch a known address.
- An address erased at its owner's request (erase_subscriber) leaves a hashed Suppression
  entry: imports skip it, and only the owner's own confirmed opt-in removes it.
- Each change locks the subscriber's row first (SELECT ... FOR UPDATE), so a double click or a
  mail scanner racing its owner never records a change twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Theme
from mail import services as outbox
from mail.models import OutgoingMessage
from members.errors import RuleError
from members.services import has_verified_email

from .. import tokens
from ..models import Consent, Subscriber
from ..suppression import lift

Status = Subscriber.Status
Action = Consent.Action


class SubscriptionError(RuleError):
    """A rule refused a subscription change; the message is translated and meant for the person."""


def pending_days() -> int:
    return settings.NEWSLETTER_PENDING_DAYS


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _lock(subscriber: Subscriber) -> Subscriber:
    locked = Subscriber.objects.select_for_update().filter(pk=subscriber.pk).first()
    if locked is None:  # removed meanwhile, e.g. an unconfirmed sign-up cleared by housekeeping
        raise SubscriptionError(_("This link is no longer valid."), "gone")
    return locked


def _consent(subscriber: Subscriber, action: str, *, source: str, text: str = "") -> Consent:
    return Consent.objects.create(subscriber=subscriber, action=action, source=source[:200], text=text)


def check_topics(topics: Iterable[Theme], all_topics: bool) -> list[Theme]:
    """The rule every way of choosing topics follows (web form, preferences page, admin): all
    topics, or at least one."""
    topics = list(topics)
    if not all_topics and not topics:
        raise SubscriptionError(_("Choose at least one topic, or all topics."), "no_topics")
    return topics


def _check_language(language: str) -> str:
    if language not in dict(settings.LANGUAGES):
        raise SubscriptionError(_("Choose one of the languages in the list."), "language")
    return language


def _link_email(subscriber: Subscriber, *, already_active: bool = False, link: str = "") -> OutgoingMessage:
    """The confirmation email with its signed link (`link`, or a first confirmation's), or for
    an address that is active already a note with the preferences link. Only the owner of the
    mailbox reads either."""
    if already_active:
        context = {
            "subscriber": subscriber,
            "already_active": True,
            "link": tokens.preferences_url(subscriber),
        }
        # One note a day at most, however often a stranger types the address into the form.
        key = f"newsletter-already-subscribed:{subscriber.pk}:{timezone.now():%Y-%m-%d}"
    else:
        context = {
            "subscriber": subscriber,
            "already_active": False,
            "link": link or tokens.confirm_url(subscriber),
            "valid_days": tokens.MAX_AGE[tokens.CONFIRM] // (24 * 3600),
        }
        key = f"newsletter-confirm:{subscriber.pk}:{timezone.now().timestamp()}"
    return outbox.write(
        "newsletter_confirm",
        context,
        key=key,
        recipient=subscriber.email,
        language=subscriber.language,
        user=subscriber.user,
    )


def _get_or_create_locked(email: str, defaults: dict) -> tuple[Subscriber, bool]:
    subscriber = Subscriber.objects.select_for_update().filter(email=email).first()
    if subscriber is not None:
        return subscriber, False
    try:
        # A second request for the same new address may insert first; the unique email then
        # refuses ours and we go on with its row.
        with transaction.atomic():
            return Subscriber.objects.create(email=email, **defaults), True
    except IntegrityError:
        return Subscriber.objects.select_for_update().get(email=email), False


# ---------------------------------------------------------------------------------------------
# Subscribing, confirming, preferences, unsubscribing


@transaction.atomic
def subscribe(
    email: str,
    *,
    language: str,
    topics: Iterable[Theme],
    all_topics: bool,
    event_alerts: bool,
    consent_text: str,
    source: str,
) -> Subscriber:
    """Ask to subscribe `email` from a form anyone can fill in.

    A new, pending or bouncing address becomes pending with the choices given and gets a
    confirmation email. An unsubscribed address stays unsubscribed, choices and all: whoever
    typed it in may not be its owner, and the unsubscribe must stand until the owner confirms;
    the owner gets a re-opt-in link that carries the choices. An active address is left
    exactly as it is (a stranger must not change someone's preferences) and its owner gets a
    short note with the preferences link. A suppressed (erased) address may ask like any new
    one: the confirmation is the owner's own opt-in.
    """
    email = normalize_email(email)
    validate_email(email)
    language = _check_language(language)
    topics = check_topics(topics, all_topics)
    subscriber, _created = _get_or_create_locked(email, {"language": language, "status": Status.PENDING})
    if subscriber.status == Status.ACTIVE:
        _link_email(subscriber, already_active=True)
        return subscriber
    if subscriber.status == Status.UNSUBSCRIBED:
        # The request is on the record; the row changes only when its owner confirms.
        _consent(subscriber, Action.SUBSCRIBED, source=source, text=consent_text)
        link = tokens.reoptin_url(
            subscriber, language=language, topics=topics, all_topics=all_topics, event_alerts=event_alerts
        )
        _link_email(subscriber, link=link)
        return subscriber
    subscriber.status = Status.PENDING
    subscriber.language = language
    subscriber.all_topics = all_topics
    subscriber.event_alerts = event_alerts
    subscriber.confirmed_at = None
    subscriber.save()
    subscriber.topics.set(topics)
    _consent(subscriber, Action.SUBSCRIBED, source=source, text=consent_text)
    _link_email(subscriber)
    return subscriber


@transaction.atomic
def subscribe_member(user, *, consent_text: str) -> Subscriber:
    """A signed-in member subscribes with one click. The address is verified already, so the
    subscription is active at once, in the member's preferred language."""
    if not has_verified_email(user):
        raise SubscriptionError(
            _("Verify your email address first; then you can subscribe with one click."), "unverified"
        )
    email = normalize_email(user.email)
    language = user.preferred_language or settings.LANGUAGE_CODE
    subscriber = (
        Subscriber.objects.select_for_update().filter(email=email).first()
        or Subscriber.objects.select_for_update().filter(user=user).first()
    )
    if subscriber is None:
        subscriber, _created = _get_or_create_locked(email, {"language": language, "status": Status.PENDING})
    elif subscriber.email != email:
        # Subscribed under an address the member has changed since; the verified one replaces it.
        subscriber.email = email
    if subscriber.user_id != user.pk:
        Subscriber.objects.filter(user=user).exclude(pk=subscriber.pk).update(user=None)
        subscriber.user = user
    if subscriber.status == Status.ACTIVE:
        subscriber.save(update_fields=["user", "email"])
        return subscriber
    subscriber.status = Status.ACTIVE
    subscriber.language = language
    subscriber.confirmed_at = timezone.now()
    subscriber.unsubscribed_at = None
    subscriber.bounce_count = 0
    subscriber.save()
    _consent(subscriber, Action.SUBSCRIBED, source="profile", text=consent_text)
    # The member's verified address and own click are a confirmed opt-in.
    lift(email)
    return subscriber


@transaction.atomic
def confirm(subscriber: Subscriber, *, source: str) -> Subscriber:
    """The owner of the address confirmed from the link: pending becomes active. Confirming
    twice changes nothing. An address unsubscribed since the link was sent stays unsubscribed:
    the later decision wins."""
    subscriber = _lock(subscriber)
    if subscriber.status == Status.ACTIVE:
        return subscriber
    if subscriber.status != Status.PENDING:
        raise SubscriptionError(
            _("This confirmation link is no longer valid. Subscribe again to get a new one."), "not_pending"
        )
    subscriber.status = Status.ACTIVE
    subscriber.confirmed_at = timezone.now()
    subscriber.unsubscribed_at = None
    # Confirming proves that the mailbox takes mail again.
    subscriber.bounce_count = 0
    subscriber.save(update_fields=["status", "confirmed_at", "unsubscribed_at", "bounce_count"])
    _consent(subscriber, Action.CONFIRMED, source=source)
    lift(subscriber.email)
    return subscriber


@transaction.atomic
def confirm_reoptin(request: tokens.ReOptIn, *, source: str) -> Subscriber:
    """The owner of an unsubscribed address confirmed from a re-opt-in link: it becomes active
    with the choices made in the sign-up form. Only this, the owner's own confirmed opt-in,
    undoes an unsubscribe. Confirming twice changes nothing; a link that answers an earlier
    unsubscribe than the address's latest is no longer valid (the later decision wins)."""
    subscriber = _lock(request.subscriber)
    if subscriber.status == Status.ACTIVE:
        return subscriber
    if not request.still_applies(subscriber):
        raise SubscriptionError(
            _("This confirmation link is no longer valid. Subscribe again to get a new one."), "not_pending"
        )
    language = _check_language(request.language)
    topics = list(Theme.objects.filter(slug__in=request.topic_slugs))
    if not request.all_topics and not topics:
        # The chosen topics are gone meanwhile; subscribing to everything would be more than
        # the person asked for.
        raise SubscriptionError(
            _("The topics you chose are no longer offered. Subscribe again to choose others."), "no_topics"
        )
    subscriber.status = Status.ACTIVE
    subscriber.language = language
    subscriber.all_topics = request.all_topics
    subscriber.event_alerts = request.event_alerts
    subscriber.confirmed_at = timezone.now()
    subscriber.unsubscribed_at = None
    subscriber.bounce_count = 0
    subscriber.save()
    subscriber.topics.set([] if request.all_topics else topics)
    _consent(subscriber, Action.CONFIRMED, source=source)
    lift(subscriber.email)
    return subscriber


@transaction.atomic
def update_preferences(
    subscriber: Subscriber,
    *,
    topics: Iterable[Theme],
    all_topics: bool,
    language: str,
    event_alerts: bool,
    source: str,
) -> Subscriber:
    """Change what the subscriber hears about and in which language. The status stays as it
    is: preferences never subscribe anyone again."""
    language = _check_language(language)
    topics = check_topics(topics, all_topics)
    subscriber = _lock(subscriber)
    subscriber.language = language
    subscriber.all_topics = all_topics
    subscriber.event_alerts = event_alerts
    subscriber.save(update_fields=["language", "all_topics", "event_alerts"])
    subscriber.topics.set(topics)
    # What was chosen, for the record (organizers read it in admin).
    summary = "language: {}; topics: {}; event alerts: {}".format(
        language,
        "all" if all_topics else ", ".join(sorted(theme.slug for theme in topics)),
        "on" if event_alerts else "off",
    )
    _consent(subscriber, Action.PREFERENCES, source=source, text=summary)
    return subscriber


@transaction.atomic
def unsubscribe(subscriber: Subscriber, *, source: str) -> Subscriber:
    """Stop all newsletter mail to the address at once. A second call changes nothing.
    Senders select Subscriber.objects.active(), so the address gets nothing more."""
    subscriber = _lock(subscriber)
    if subscriber.status == Status.UNSUBSCRIBED:
        return subscriber
    subscriber.status = Status.UNSUBSCRIBED
    subscriber.unsubscribed_at = timezone.now()
    subscriber.save(update_fields=["status", "unsubscribed_at"])
    _consent(subscriber, Action.UNSUBSCRIBED, source=source)
    return subscriber


@transaction.atomic
def remove_stale_pending(older_than: dt.timedelta | None = None) -> int:
    """Delete sign-ups never confirmed within NEWSLETTER_PENDING_DAYS (or `older_than`), with
    their consent records: an unconfirmed address is not ours to keep. A row whose latest
    request to subscribe is recent stays, even if the row itself is old. A row with an
    unsubscribe in its history is never deleted: the unsubscribe and its record must outlive
    a stranger's sign-up (earlier versions made such rows pending). Returns how many were
    deleted."""
    cutoff = timezone.now() - (older_than if older_than is not None else dt.timedelta(days=pending_days()))
    recent_request = Consent.objects.filter(action=Action.SUBSCRIBED, at__gte=cutoff)
    unsubscribed_once = Consent.objects.filter(action=Action.UNSUBSCRIBED)
    stale = (
        Subscriber.objects.filter(status=Status.PENDING, created_at__lt=cutoff, unsubscribed_at__isnull=True)
        .exclude(pk__in=recent_request.values("subscriber_id"))
        .exclude(pk__in=unsubscribed_once.values("subscriber_id"))
    )
    # Locked first, so that a confirmation arriving now either wins (the row is active and
    # stays) or waits and finds the row gone.
    pks = list(stale.select_for_update().values_list("pk", flat=True))
    deleted = Subscriber.objects.filter(pk__in=pks, status=Status.PENDING).delete()[1]
    return deleted.get(Subscriber._meta.label, 0)
