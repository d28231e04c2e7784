from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from members import privacy
        from members.dispatch import membership_verified

        from . import privacy as events_privacy
        from . import services

        def _promote_after_verification(sender, user, **kwargs):
            services.promote_user_waitlists(user)

        membership_verified.connect(_promote_after_verification, weak=False, dispatch_uid="events-promote")

        # Registrations in the member's data download; on erasure they are cancelled (future
        # seats, so waiting lists move up) and kept without the person, before the newsletter
        # (200) and the outbox (900) erase theirs.
        privacy.register(
            "registrations",
            export=events_privacy.export_registrations,
            erase=services.erase_member_registrations,
            order=100,
        )
