from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from . import services
from .forms import ProfileForm


@login_required
def profile(request):
    return render(request, "members/profile.html", {"member": request.user})


@login_required
@require_http_methods(["GET", "POST"])
def edit_profile(request):
    user = request.user
    first_time = not user.profile_complete
    options = services.organization_options(user)
    form = ProfileForm(
        request.POST or None,
        instance=user,
        organizations=options.organizations,
        proven_by_domain=options.proven_by_domain,
        initial={"preferred_language": user.preferred_language or request.LANGUAGE_CODE},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        organization = data.pop("organization")
        verified = services.update_profile(user, organization=organization, **data)
        if verified:
            messages.success(request, _("Your profile is saved."))
        else:
            messages.info(
                request,
                _("Your profile is saved. An organizer will verify that you work at %(organization)s.")
                % {"organization": organization.name},
            )
        next_url = request.POST.get("next") or request.GET.get("next")
        if next_url and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(next_url)
        return redirect("home" if first_time else "members:profile")
    return render(
        request,
        "members/profile_form.html",
        {"form": form, "first_time": first_time, "next": request.GET.get("next", "")},
    )


@require_POST
def set_language(request):
    """Django's language switch, and for a signed-in member also the remembered preference."""
    response = django_set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.set_preferred_language(request.user, language)
    return response
