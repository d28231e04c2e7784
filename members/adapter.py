from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        # The profile comes before anything else; the middleware enforces it on every page,
        # this only spares a redirect.
        if not request.user.profile_complete:
            return reverse("members:edit")
        return super().get_login_redirect_url(request)

    def send_mail(self, template_prefix, email, context):
        context.setdefault("network_name", settings.NETWORK_NAME)
        return super().send_mail(template_prefix, email, context)
