"""The portal's own middleware: requests no page can mean, refused at the door with 400 before any
view or form sees them; the site record as the settings say; the language of pages opened from
emails."""

from django.contrib.sites import models as sites
from django.core.exceptions import SuspiciousOperation

from mail.links import LANGUAGE_PARAMETER, current_site

from . import languages

_NUL = "\x00"


class NullCharacterInRequest(SuspiciousOperation):
    """A NUL character in the address, the query string or the submitted form."""


def _carries_nul(request) -> bool:
    if _NUL in request.path or _NUL in request.path_info:
        return True
    # Uploaded file names need no check: Django drops unprintable characters from them.
    return any(
        _NUL in key or any(_NUL in value for value in values)
        for data in (request.GET, request.POST)
        for key, values in data.lists()
    )


class RefuseNullCharactersMiddleware:
    """Answer 400 to any request whose path, query string or form data (names or values) holds
    a NUL character.

    PostgreSQL text cannot hold NUL, so psycopg raises ValueError for any query that carries one:
    a calendar token, a changelist filter, an admin search term would each become a 500. No
    address, name or form value of the portal has a use for NUL, so one refusal here covers
    every view, form and third-party page instead of a check in each. Raised as a
    SuspiciousOperation: Django answers 400 and logs it under django.security.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _carries_nul(request):
            raise NullCharacterInRequest("NUL character in the request")
        return self.get_response(request)


class SiteFromSettingsMiddleware:
    """Django's sites framework (feeds' absolute links, the admin's "view on site", allauth) reads
    the site from its cache before the database; filling the cache with the site as NETWORK_NAME
    and SITE_URL say now makes a changed SITE_URL count from the next start, without a migrate.
    Per request, because saving a Site record or a test changing the settings empties the cache.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        site = current_site()
        sites.SITE_CACHE[site.id] = site
        return self.get_response(request)


class EmailLinkLanguageMiddleware:
    """A page opened from a link in an email speaks the email's language, which the link carries
    as `?lang=` (mail.links.in_language), until the visitor chooses a language; see
    network_portal.languages. After the members' preferred-language middleware, which it must
    not overrule."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.GET.get(LANGUAGE_PARAMETER)
        if language is None and hasattr(request, "session"):
            language = request.session.get(languages.SESSION_KEY)
        if language:
            languages.speak_language_of_email(request, language)
        return self.get_response(request)
