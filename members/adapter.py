import uuid

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language

from mail import services as outbox


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        # The profile comes before anything else; the middleware enforces it on every page,
        # this only spares a redirect.
        if not request.user.profile_complete:
            return reverse("members:edit")
        return super().get_login_redirect_url(request)

    def send_mail(self, template_prefix, email, context):
        """Account emails (verification, sign-in codes, password reset) take the same path as
        every other message: the outbox, with a plain-text and an HTML part."""
        context.setdefault("network_name", settings.NETWORK_NAME)
        message = self.render_mail(template_prefix, email, context)
        html = next(
            (
                content
                for content, mimetype in getattr(message, "alternatives", [])
                if mimetype == "text/html"
            ),
            None,
        )
        text = message.body
        if message.content_subtype == "html":
            html, text = message.body, ""
        if html is None:
            html = render_to_string(
                "emails/account_message.html",
                {
                    "subject": message.subject,
                    "body": text,
                    "network_name": settings.NETWORK_NAME,
                    "site_url": settings.SITE_URL,
                },
            )
        outbox.enqueue(
            # Each account email is its own message (a new code, a new link): no natural key.
            key=f"account:{uuid.uuid4()}",
            kind=template_prefix.rsplit("/", 1)[-1],
            recipient=email,
            subject=message.subject,
            text=text,
            html=html,
            language=get_language() or settings.LANGUAGE_CODE,
            sensitive=True,
        )
