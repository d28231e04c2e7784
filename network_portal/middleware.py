"""Requests no page can mean: refused at the door with 400, before any view or form sees them."""

from django.core.exceptions import SuspiciousOperation

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
