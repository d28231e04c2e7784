from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from . import registry


class PreferredLanguageMiddleware:
    """A signed-in member's preferred language wins over the browser's and the cookie's."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._languages = dict(settings.LANGUAGES)

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.preferred_language in self._languages:
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = user.preferred_language
        return self.get_response(request)


class ProfileCompletionMiddleware:
    """After the first login the member completes the profile before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response
        # Still reachable with an incomplete profile: the account pages (logout, email
        # verification and change), the language switch, health checks, admin, assets, the
        # member's data rights (reading the privacy page, downloading one's data and deleting
        # the account must not require giving more data first), and what other apps registered
        # (members.registry), such as links that act for someone other than the signed-in member.
        self._exempt = (
            "/accounts/",
            "/privacy/",
            "/profile/data/",
            "/profile/delete/",
            "/i18n/",
            "/healthz",
            "/admin/",
            "/" + settings.STATIC_URL.lstrip("/"),
            *registry.open_paths(),
        )

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.profile_complete:
            target = reverse("members:edit")
            if request.path != target and not request.path.startswith(self._exempt):
                if request.method == "GET":
                    return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
                return redirect(target)
        return self.get_response(request)
