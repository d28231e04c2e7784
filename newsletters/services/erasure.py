"""Erasure of a subscriber at the person's request (GDPR), from admin or with the member's
account, and which subscription rows are a member's."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from mail.models import OutgoingMessage
from members.services import has_verified_email

from ..models import Delivery, Subscriber, Suppression
from ..suppression import suppress
from .subscriptions import normalize_email

# Outbox messages about the subscription, addressed to the subscriber: they go with it.
_NEWSLETTER_MESSAGE_KINDS = ("newsletter_confirm", "event_alert")


@transaction.atomic
def erase_subscriber(email: str, *, reason: str = Suppression.Reason.ERASURE_REQUEST) -> bool:
    """Erase the subscriber with `email` at the person's request: the row, its consent records,
    the newsletter emails queued or sent to it, and its name in the admin's history. The
    edition statistics keep their counts: each delivery row stays, naming nobody, and one not
    sent yet is skipped. A hashed Suppression entry keeps imports and organizers from adding
    the address again; only the owner's own confirmed opt-in lifts it. Returns whether there
    was a subscriber to erase (without one, nothing is written: there is nothing to keep the
    address from)."""
    email = normalize_email(email)
    subscriber = Subscriber.objects.select_for_update().filter(email=email).first()
    if subscriber is None:
        return False
    erased_note = "The subscriber was erased."
    deliveries = Delivery.objects.filter(subscriber=subscriber)
    deliveries.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]).update(
        status=Delivery.Status.SKIPPED, error=erased_note
    )
    # An SMTP error quotes the address it refused.
    deliveries.exclude(error="").update(error=erased_note)
    deliveries.update(subscriber=None)
    OutgoingMessage.objects.filter(recipient__iexact=email, kind__in=_NEWSLETTER_MESSAGE_KINDS).delete()
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Subscriber), object_id=str(subscriber.pk)
    ).update(object_repr=_("#%(id)d (erased)") % {"id": subscriber.pk})
    suppress(email, reason)
    subscriber.delete()  # its consent records and topics go with it
    return True


def subscribers_of_member(user) -> QuerySet:
    """The subscription rows that are the member's: linked to the account, or under its address
    once verified (until then anyone may have typed anyone's address into a sign-up)."""
    mine = Q(user=user)
    if user.email and has_verified_email(user):
        mine |= Q(email=normalize_email(user.email))
    return Subscriber.objects.filter(mine)
