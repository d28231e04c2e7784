"""The signed link to a registration's evaluation, so that a participant evaluates from the
follow-up email without signing in. The signature covers the registration's id under a salt of
its own: no other signed link of the portal opens an evaluation, and no id can be guessed."""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

from mail.links import absolute_url

from .models import Registration

SALT = "events.evaluation"


def token_for(registration: Registration) -> str:
    return signing.Signer(salt=SALT).sign(str(registration.pk))


def registration_for(token: str) -> Registration | None:
    try:
        pk = signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None
    return Registration.objects.select_related("occasion__event", "user").filter(pk=pk).first()


def evaluation_path(registration: Registration) -> str:
    return reverse("events:evaluation", args=[token_for(registration)])


def evaluation_url(registration: Registration) -> str:
    return absolute_url(evaluation_path(registration))
