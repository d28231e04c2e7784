"""The banner that tells organizers in admin that all sending is paused, and why."""

from django import template
from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import smtp

register = template.Library()

# Replies to AUTH: the login itself was refused (530 asks for one, 534 for a stronger one).
_LOGIN_CODES = {530, 534, 535}


def pause_notice(pause) -> str:
    """What the banner says: who refused what, when, and when sending tries again."""
    minutes = max(1, settings.MAIL_PAUSE_SECONDS // 60)
    values = {
        "code": pause.code or "?",
        "at": formats.date_format(timezone.localtime(pause.at), "DATETIME_FORMAT"),
        "every": ngettext("every minute", "every %(count)d minutes", minutes) % {"count": minutes},
    }
    if pause.code in _LOGIN_CODES or "Authentication" in pause.reason:
        return (
            _(
                "Sending is paused: the SMTP server refused the portal's login (%(code)s) at %(at)s; "
                "retrying %(every)s. No message is lost: they wait and go out once the server accepts "
                "the login again (check EMAIL_URL)."
            )
            % values
        )
    return (
        _(
            "Sending is paused: the SMTP server refused the portal's mail settings (%(code)s) at %(at)s; "
            "retrying %(every)s. No message is lost: they wait and go out once the server accepts "
            "them again (check EMAIL_URL and DEFAULT_FROM_EMAIL)."
        )
        % values
    )


@register.inclusion_tag("admin/_sending_pause.html")
def sending_pause_banner() -> dict:
    pause = smtp.current_pause()
    return {"notice": pause_notice(pause) if pause else "", "reason": pause.reason if pause else ""}
