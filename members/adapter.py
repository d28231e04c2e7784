import uuid

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from mail import services as outbox
from mail.links import current_site, in_language

# The links allauth puts in its emails; each opens in the email's language.
_LINKS = ("activate_url", "password_reset_url", "signup_url")


def _recipient_language(email: str, user=None) -> str:
    """A member's stored language when the address is theirs; otherwise the language of the
    page that caused the email (a sign-up, a request for an address nobody has)."""
    if user is None or not getattr(user, "pk", None):
        address = EmailAddress.objects.filter(email__iexact=email).select_related("user").first()
        user = address.user if address else None
    if user is not None and user.preferred_language in dict(settings.LANGUAGES):
        return user.preferred_language
    return translation.get_language() or settings.LANGUAGE_CODE


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        # The profile comes before anything else; the middleware enforces it on every page,
        # this only spares a redirect.
        if not request.user.profile_complete:
            return reverse("members:edit")
        return super().get_login_redirect_url(request)

    def send_notification_mail(self, template_prefix, user, context=None, email=None):
        # allauth leaves the member out of a notice's context; send_mail needs it for the
        # language, as the old address of an email change belongs to nobody by then.
        super().send_notification_mail(template_prefix, user, {**(context or {}), "user": user}, email)

    def send_mail(self, template_prefix, email, context):
        """Account emails (verification, sign-in codes, password reset, notices) take the same
        path as every other message: the outbox, with a plain-text and an HTML part, in the
        recipient's language."""
        language = _recipient_language(email, context.get("user"))
        site = current_site()
        context = {
            "request": allauth_context.request,
            "email": email,
            **context,
            # allauth's templates greet with the site's name ("Hello from …!").
            "current_site": site,
            "network_name": settings.NETWORK_NAME,
        }
        for name in _LINKS:
            if context.get(name):
                context[name] = in_language(context[name], language)
        with translation.override(language):
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
            language=language,
            sensitive=True,
        )
