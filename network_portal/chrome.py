"""The parts of every page around its content (the links in the head, the header with the
navigation, sign-in state and language form, the footer), rendered once per process for each
language, sign-in state and section, not on every request.

They depend on nothing that changes while a process runs (templates, translations, settings,
URLs) except three things, which are placeholders in the stored part and filled in for each
request: the member's name, the page's own address (the language form comes back to it) and
the CSRF token. A page rendered for the shared page cache keeps the token's placeholder, which
network_portal.page_cache fills in for each visitor.
"""

from functools import lru_cache

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from .page_cache import CSRF_PLACEHOLDER

register = template.Library()

PARTS = ("head", "header", "footer")
# Plain letters: neither HTML escaping nor a translation changes them.
_NAME = "chromePlaceholderForTheMembersName"
_PATH = "chromePlaceholderForTheAddressOfThePage"

# Which navigation entry is the current page: (app, url name) → section.
_SECTIONS_BY_NAME = {("", "home"): "home", ("events", "my_registrations"): "my_registrations"}
_SECTIONS_BY_APP = {"events": "events", "newsletters": "newsletters", "members": "members"}


@register.simple_tag(takes_context=True)
def chrome(context, part: str) -> str:
    request = context.get("request")
    user = context.get("user")
    signed_in = bool(user is not None and user.is_authenticated)
    html = _rendered(part, get_language(), signed_in, signed_in and user.is_staff, _section(request))
    if _NAME in html:
        html = html.replace(_NAME, escape(str(user)))
    if _PATH in html:
        html = html.replace(_PATH, escape(request.get_full_path() if request is not None else "/"))
    if CSRF_PLACEHOLDER in html and not getattr(request, "csrf_token_placeholder", False):
        html = html.replace(CSRF_PLACEHOLDER, get_token(request) if request is not None else "")
    return mark_safe(html)  # noqa: S308 - the portal's own templates; the values above are escaped


def _section(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    return _SECTIONS_BY_NAME.get((match.app_name, match.url_name)) or _SECTIONS_BY_APP.get(match.app_name, "")


@lru_cache(maxsize=256)
def _rendered(part: str, language: str, signed_in: bool, staff: bool, section: str) -> str:
    if part not in PARTS:
        raise template.TemplateSyntaxError(f"chrome: no part {part!r}; the parts are {', '.join(PARTS)}")
    return str(
        render_to_string(
            f"chrome/{part}.html",
            {
                "NETWORK_NAME": settings.NETWORK_NAME,
                "LANGUAGE_CODE": language,
                "signed_in": signed_in,
                "staff": staff,
                "section": section,
                "member_name": _NAME,
                "full_path": _PATH,
                "csrf_token": CSRF_PLACEHOLDER,
            },
        )
    )


def _forget(**kwargs) -> None:
    # Tests change settings (NETWORK_NAME, languages) within one process.
    _rendered.cache_clear()


setting_changed.connect(_forget)
