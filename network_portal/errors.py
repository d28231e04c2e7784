"""The portal's error pages (400, 403, 404, 500, and a refused form's 403): the portal's layout,
the visitor's language, a way back.

The 500 page is rendered without the context processors: they read the session and the signed-in
member from the database, and a 500 is often the database failing. Everything the layout needs
(the network's name, the language switch) is handed to it directly.
"""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext_lazy as _

TEMPLATE = "errors/error.html"
# Under this path the open events API answers its errors in JSON, as its OpenAPI document says.
API_PATH = "/api/"

PAGES = {
    400: (
        _("The request could not be understood"),
        _(
            "The address or the form that was sent is not one the portal can read. "
            "Check the address, or go back and try again."
        ),
    ),
    403: (
        _("You do not have access to this page"),
        _(
            "This page is for other people or another organization. If you think you should "
            "have access, sign in with the right account or write to the organizers."
        ),
    ),
    404: (
        _("Page not found"),
        _(
            "There is no page at this address. The link may be mistyped, or the page may have "
            "been moved or removed."
        ),
    ),
    500: (
        _("Something went wrong"),
        _("An error on our side stopped this page. Please try again in a few minutes."),
    ),
}
FORM_EXPIRED = (
    _("The form could not be sent"),
    _(
        "The page was open for a long time, or your browser blocks cookies. Go back, reload "
        "the page and send the form again."
    ),
)


def _language(request) -> str:
    # Set by the locale middleware (and the member's preference after it); a request refused
    # before the locale middleware ran (a NUL character, a bad host) has none yet.
    return getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(request)


def _render(request, status: int, page=None, *, with_context_processors: bool = True) -> HttpResponse:
    title, explanation = page or PAGES[status]
    language = _language(request)
    if request.path.startswith(API_PATH):
        with translation.override(language):
            return JsonResponse({"detail": str(title)}, status=status)
    with translation.override(language):
        context = {"status": status, "title": title, "explanation": explanation}
        template = loader.get_template(TEMPLATE)
        if with_context_processors:
            content = template.render(context, request)
        else:
            content = template.render(
                {
                    **context,
                    "request": request,
                    "NETWORK_NAME": settings.NETWORK_NAME,
                    # The language switch posts a form; the token comes from the cookie.
                    "csrf_token": get_token(request),
                }
            )
    response = HttpResponse(content, status=status)
    response.headers.setdefault("Content-Language", language)
    return response


def bad_request(request, exception):
    return _render(request, 400)


def permission_denied(request, exception):
    return _render(request, 403)


def page_not_found(request, exception):
    return _render(request, 404)


def server_error(request):
    return _render(request, 500, with_context_processors=False)


def csrf_failure(request, reason=""):
    return _render(request, 403, FORM_EXPIRED)
