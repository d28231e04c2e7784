"""Addresses built from SITE_URL: links in emails, calendar files and feeds must be absolute,
and Message-IDs and calendar UIDs name the site's host."""

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings

if TYPE_CHECKING:
    from django.contrib.sites.models import Site

# The query parameter that carries an email's language to the page its link opens
# (network_portal.middleware.EmailLinkLanguageMiddleware).
LANGUAGE_PARAMETER = "lang"


def absolute_url(path: str) -> str:
    """The whole address of a site-relative path; an address that is absolute already stays."""
    if not path.startswith("/"):
        return path
    return settings.SITE_URL.rstrip("/") + path


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def in_language(url: str, language: str) -> str:
    """`url` with the language of the email it appears in, for the page it opens."""
    if language not in dict(settings.LANGUAGES):
        return url
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != LANGUAGE_PARAMETER]
    query.append((LANGUAGE_PARAMETER, language))
    return urlunsplit(parts._replace(query=urlencode(query)))


def current_site() -> "Site":
    """The site as NETWORK_NAME and SITE_URL say now: an unsaved record, so that what emails,
    feeds and the admin's "view on site" name follows the settings of the running process
    rather than what the database held when it was last migrated."""
    # Imported here, so that importing this module does not need the app registry ready.
    from django.contrib.sites.models import Site

    return Site(id=settings.SITE_ID, domain=urlsplit(settings.SITE_URL).netloc, name=settings.NETWORK_NAME)
