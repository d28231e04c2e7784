"""Which language a page speaks when the visitor came from an email: the email's, unless the
visitor has chosen one (the language switch's cookie, or a signed-in member's stored
preference, which members.middleware applies)."""

from django.conf import settings
from django.utils import translation

# The session remembers an email link's language for the pages that follow it: allauth moves a
# password-reset key into the session and redirects, forms post to addresses without the link's
# query string.
SESSION_KEY = "email_link_language"


def visitor_chose_language(request) -> bool:
    languages = dict(settings.LANGUAGES)
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) in languages:
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.preferred_language in languages)


def speak_language_of_email(request, language: str, *, remember: bool = True) -> None:
    """Show this page (and, through the session when `remember`, the pages after it) in
    `language`, the language of the email whose link was opened, unless the visitor has chosen
    another."""
    if language not in dict(settings.LANGUAGES) or visitor_chose_language(request):
        return
    translation.activate(language)
    request.LANGUAGE_CODE = language
    session = getattr(request, "session", None)
    if remember and session is not None and session.get(SESSION_KEY) != language:
        session[SESSION_KEY] = language
