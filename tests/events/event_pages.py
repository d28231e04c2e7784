"""Helpers shared by the tests of the event pages."""

from django.urls import reverse


def detail_page(event):
    return reverse("events:detail", args=[event.slug])
