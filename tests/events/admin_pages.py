"""Helpers for the tests of the organizers' admin for events."""

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from tests.conftest import make_member


def registrations_url() -> str:
    return reverse("admin:events_registration_changelist")


def events_url() -> str:
    return reverse("admin:events_event_changelist")


def run_action(client, url: str, action: str, objects, **extra):
    """Post an admin action for the selected objects, as the changelist's form does."""
    data = {"action": action, "_selected_action": [obj.pk for obj in objects], **extra}
    return client.post(url, data, follow=True)


def messages_of(response) -> list[tuple[int, str]]:
    return [(message.level, str(message)) for message in response.context["messages"]]


def admin_log(obj, user, flag=CHANGE):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        user=user,
        action_flag=flag,
    )


def make_members(organization, count, prefix="p"):
    domain = organization.domains.first().domain
    return [make_member(f"{prefix}{index}@{domain}", organization) for index in range(count)]


def other_team_organizer(organizer, email: str = "outsider@kl.dk"):
    """An organizer with `organizer`'s permissions in a team of their own: none of the test
    team's events are theirs."""
    from members.models import Team

    outsider = make_member(email, organizer.organization)
    outsider.is_staff = True
    outsider.save()
    outsider.user_permissions.set(organizer.user_permissions.all())
    Team.objects.create(name=f"Team of {email}").members.add(outsider)
    return outsider
