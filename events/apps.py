from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from members.dispatch import membership_verified

        from . import services

        def _promote_after_verification(sender, user, **kwargs):
            services.promote_user_waitlists(user)

        membership_verified.connect(_promote_after_verification, weak=False, dispatch_uid="events-promote")
