import json

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from . import privacy, registry, services
from .forms import ProfileForm


@login_required
def profile(request):
    # Panels other apps put on the profile (members.registry), such as the newsletter's.
    panels = [panel.template for panel in registry.profile_panels()]
    return render(request, "members/profile.html", {"member": request.user, "panels": panels})


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
            # A URL, never a view name: redirect() would try reverse() on a bare word.
            return HttpResponseRedirect(next_url)
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


# ---------------------------------------------------------------------------------------------
# Members' data rights (GDPR)


@require_GET
def privacy_notice(request):
    return render(
        request,
        "privacy.html",
        {
            "contact_email": settings.PRIVACY_CONTACT_EMAIL,
            "needs_days": settings.RETENTION_NEEDS_DAYS,
            "unconfirmed_days": settings.RETENTION_UNCONFIRMED_ACCOUNT_DAYS,
            "outbox_days": settings.OUTBOX_RETENTION_DAYS,
        },
    )


@never_cache
@login_required
@require_GET
def download_data(request):
    data = privacy.export_member_data(request.user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    filename = f"my-data-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    """Deleting the account asks again who is there: the password through allauth's
    reauthentication, or, for an account without a password (it signs in by code), a code
    sent to its address."""
    if request.user.has_usable_password():
        return _delete_after_reauthentication(request)
    return _delete_with_code(request)


# A POST without a recent reauthentication is held by allauth, which asks for the password and
# then replays it here.
@reauthentication_required(allow_get=True)
def _delete_after_reauthentication(request):
    if request.method == "POST":
        return _erase_and_sign_out(request)
    return render(request, "members/delete_account.html", {"by_code": False})


def _delete_with_code(request):
    code_sent = privacy.erasure_code_pending(request.session, request.user)
    error = ""
    if request.method == "POST" and "send_code" in request.POST:
        privacy.send_erasure_code(request.session, request.user)
        messages.info(request, _("We sent a code to %(email)s.") % {"email": request.user.email})
        return redirect("members:delete_account")
    if request.method == "POST":
        if privacy.check_erasure_code(request.session, request.user, request.POST.get("code", "")):
            return _erase_and_sign_out(request)
        error = _("The code is wrong or has expired. Ask for a new one.")
        code_sent = privacy.erasure_code_pending(request.session, request.user)
    return render(
        request, "members/delete_account.html", {"by_code": True, "code_sent": code_sent, "error": error}
    )


def _erase_and_sign_out(request):
    user = request.user
    privacy.erase_member(user, actor=user)
    logout(request)
    messages.success(request, _("Your account and your personal data are deleted."))
    return redirect("home")
