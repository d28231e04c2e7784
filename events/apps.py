from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from mail import sending
        from members import privacy, registry
        from members.dispatch import membership_verified
        from network_portal.errors import API_PATH
        from network_portal.page_cache import public_pages_changed

        from . import demo, follow_ups, notifications
        from . import privacy as events_privacy
        from .services import erasure, registrations

        def _promote_after_verification(sender, user, **kwargs):
            registrations.promote_user_waitlists(user)

        membership_verified.connect(_promote_after_verification, weak=False, dispatch_uid="events-promote")

        # The outbox worker renders the registration and event emails when it sends them.
        for kind, renderer in notifications.RENDERERS.items():
            sending.register_renderer(kind, renderer)
        sending.register_renderer(follow_ups.KIND, follow_ups.render_follow_up)

        # Registrations in the member's data download; on erasure they are cancelled (future
        # seats, so waiting lists move up) and kept without the person, before the newsletter
        # (200) and the outbox (900) erase theirs.
        privacy.register(
            "registrations",
            export=events_privacy.export_registrations,
            erase=erasure.erase_member_registrations,
            order=100,
        )

        # Public pages show what this app stores: any write gives them a new version (the lock
        # of registrations does the same for conditional updates, events.services.registrations).
        def _changed(sender, **kwargs):
            public_pages_changed()

        # Evaluations are on no public page; a participant's answer keeps the cached pages.
        unseen = {"Evaluation", "ItemRating"}
        for model in self.get_models():
            if model.__name__ in unseen:
                continue
            uid = f"public-pages-{model.__name__}"
            post_save.connect(_changed, sender=model, weak=False, dispatch_uid=f"{uid}-save")
            post_delete.connect(_changed, sender=model, weak=False, dispatch_uid=f"{uid}-delete")
            for field in model._meta.local_many_to_many:
                m2m_changed.connect(
                    _changed, sender=field.remote_field.through, weak=False, dispatch_uid=f"pages-m2m-{field}"
                )

        # Organizers run events: every permission of the app (their teams limit which events).
        # The open events API is public data: a member halfway through their profile reads it too.
        registry.register_open_path(API_PATH)
        registry.register_organizer_permissions("events")
        registry.register_team_count("events", _("events"))  # in the teams' list in admin
        # The demo's events, occasions and registrations, after the demo members exist.
        registry.register_demo("events", demo.seed, order=100)
