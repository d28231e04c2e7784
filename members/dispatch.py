"""Signals other apps listen to, so that members need not know about them."""

from django.dispatch import Signal

# Sent with `user` when an organization membership became verified (by domain or organizer).
membership_verified = Signal()
