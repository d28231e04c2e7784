from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members and organizations")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import registry, signals

        post_migrate.connect(signals.sync_site_from_settings, sender=self)
        # Every app's senders: the group is synced once, after the last app (signals.py).
        post_migrate.connect(signals.sync_organizer_group)

        # Organizers verify members (view and change users and organizations) but do not delete
        # accounts or grant permissions; they read their own teams, only superusers form them
        # (admin_teams.py).
        registry.register_organizer_permissions(
            "members",
            [
                "view_user",
                "change_user",
                "view_organization",
                "change_organization",
                "add_organization",
                "view_organizationdomain",
                "add_organizationdomain",
                "change_organizationdomain",
                "delete_organizationdomain",
                "view_team",
            ],
        )
