"""Whole public pages for visitors without a session, kept in the shared cache.

A visitor who is signed in, or carries a session or a pending message, always gets a page
rendered for them: their own seats and messages are never served from a shared cache. For
everyone else a page is rendered once per version of the public content and served from the
cache until:

- anything about events changes: `public_pages_changed()` gives the content a new version as
  the change commits (a registration's in its own transaction when the cache lives in the
  database, any other right after the commit; the version is read before the page is, so a page
  rendered from data older than the version it is stored under cannot exist);
- a moment the page depends on passes (registration opens or closes, an event starts or ends):
  the page's `until` says when, and the entry lives no longer;
- PAGE_CACHE_SECONDS pass at the latest (0 turns the cache off).

The CSRF token of forms on the page (language, newsletter) is a placeholder in the cache and the
visitor's own token in every response.
"""

import functools
import secrets
from collections.abc import Callable

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.connection import ConnectionProxy

# A cache of its own (settings.CACHES["pages"]): pages pushed out of it never push out anything else.
cache = ConnectionProxy(caches, "pages")
VERSION_KEY = "public-pages:version"
CSRF_PLACEHOLDER = "csrfPlaceholderForTheVisitorsOwnToken"


def public_pages_changed() -> None:
    """Call when something shown on a public page changes; takes effect when the change commits."""
    version = secrets.token_hex(8)
    # In a batch of rows on the cache's own database (a registration's, network_portal.batching)
    # the version goes with the rows, in their transaction: no statement or commit of its own.
    set_in_batch = getattr(cache, "set_in_batch", None)
    if set_in_batch is not None and set_in_batch(VERSION_KEY, version, None):
        return
    transaction.on_commit(lambda: cache.set(VERSION_KEY, version, None))


# A link from an email carries the language (network_portal.middleware.EmailLinkLanguageMiddleware).
ALWAYS_ALLOWED_PARAMETERS = frozenset({"lang"})


def public_page(until: Callable[..., object] | None = None, parameters: tuple[str, ...] = ()):
    """Serve the view's page from the cache to visitors without a session. `until(request, *args,
    **kwargs)` returns when the page next changes by itself (a datetime), or None. Only pages whose
    query holds nothing but the `parameters` the page reads are stored: a query with any other (a
    tracking tag, a made-up name) is rendered for the visitor and not kept. Stored pages live in a
    cache of their own, so however many there are they push out only pages."""
    allowed = ALWAYS_ALLOWED_PARAMETERS | set(parameters)

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not _cacheable(request) or not allowed.issuperset(request.GET):
                return view(request, *args, **kwargs)
            key = "public-page:" + ":".join(
                [request.get_host(), request.LANGUAGE_CODE, request.get_full_path()]
            )
            found = cache.get_many([VERSION_KEY, key])
            version = found.get(VERSION_KEY) or _first_version()
            entry = found.get(key)
            if entry is not None and entry[0] == version:
                response = _response(entry[1], entry[2])
            else:
                response = _rendered_for_the_cache(view, request, *args, **kwargs)
                seconds = _seconds(until and until(request, *args, **kwargs))
                if response.status_code == 200 and not response.streaming and seconds > 0:
                    cache.set(key, (version, response.content, response["Content-Type"]), seconds)
            # Pages differ by session and language; a shared proxy must not mix them up.
            patch_vary_headers(response, ["Cookie", "Accept-Language"])
            return _with_token(request, response)

        return wrapper

    return decorator


def shared_parts(
    name: str, vary: list, builders: dict[str, Callable[[dict], object]], *, shared: bool = True
) -> dict[str, object]:
    """What every visitor of a page sees alike (an event with its occasions and seats, its
    rendered description and programme), each built once per version of the public content and
    `vary` values; the version and every part come in one cache read. Builders run in order,
    each given the parts before it, so a fragment renders from the event part. Signed-in members
    get these too: what is theirs alone stays outside the parts. A builder that raises (an event
    that does not exist) stores nothing; with `shared` false every part is built for this
    caller and nothing is read or stored."""
    parts: dict[str, object] = {}
    if settings.PAGE_CACHE_SECONDS <= 0 or not shared:
        for part, build in builders.items():
            parts[part] = build(parts)
        return parts
    keys = {part: f"shared:{name}:{part}:" + ":".join(map(str, vary)) for part in builders}
    found = cache.get_many([VERSION_KEY, *keys.values()])
    version = found.get(VERSION_KEY) or _first_version()
    missing = {}
    for part, key in keys.items():
        entry = found.get(key)
        if entry is None or entry[0] != version:
            entry = missing[key] = (version, builders[part](parts))
        parts[part] = entry[1]
    if missing:
        cache.set_many(missing, settings.PAGE_CACHE_SECONDS)
    return parts


def csrf_placeholder(request) -> dict:
    """Context processor: the placeholder instead of a token in a page bound for the cache."""
    return {"csrf_token": CSRF_PLACEHOLDER} if getattr(request, "csrf_token_placeholder", False) else {}


def _rendered_for_the_cache(view, request, *args, **kwargs):
    # The placeholder is for this rendering only: a page rendered after the view raised (the
    # 404 page) or for another request needs the visitor's real token.
    request.csrf_token_placeholder = True
    try:
        response = view(request, *args, **kwargs)
        if not getattr(response, "is_rendered", True):
            response.render()
        return response
    finally:
        request.csrf_token_placeholder = False


def _cacheable(request) -> bool:
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
    )


def _first_version() -> str:
    cache.add(VERSION_KEY, secrets.token_hex(8), None)  # add: a concurrent first version wins
    return cache.get(VERSION_KEY)


def _seconds(until) -> int:
    if until is None:
        return settings.PAGE_CACHE_SECONDS
    return max(0, min(settings.PAGE_CACHE_SECONDS, int((until - timezone.now()).total_seconds())))


def _response(content: bytes, content_type: str) -> HttpResponse:
    return HttpResponse(content, content_type=content_type)


def _with_token(request, response):
    placeholder = CSRF_PLACEHOLDER.encode()
    if placeholder in response.content:
        response.content = response.content.replace(placeholder, get_token(request).encode())
    return response
