"""The consent wording on pages, from the one definition the consent record stores."""

from django import template

from newsletters.forms import member_consent_text as _member_consent_text

register = template.Library()


@register.simple_tag
def member_consent_text() -> str:
    """The text next to the profile page's subscribe button; services.subscribe_member stores
    the same text as what the member agreed to."""
    return _member_consent_text()
