"""Addresses built from SITE_URL: links in emails, calendar files and feeds must be absolute,
and Message-IDs and calendar UIDs name the site's host."""

from urllib.parse import urlsplit

from django.conf import settings


def absolute_url(path: str) -> str:
    """The whole address of a site-relative path; an address that is absolute already stays."""
    if not path.startswith("/"):
        return path
    return settings.SITE_URL.rstrip("/") + path


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"
