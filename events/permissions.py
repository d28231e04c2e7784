"""Who may change which registrations: the organizers of an event's team, a member for
themselves, a coordinator for verified colleagues. Services check it before every change;
pages ask it before they offer one."""

from __future__ import annotations

from members.models import User

from .models import Event


def organizes(actor: User | None, event_id: int) -> bool:
    """An organizer of the event's team (or a superuser) who may change its registrations.
    Staff status alone is not enough: organizers see and change only their teams' events."""
    return (
        actor is not None
        and actor.is_staff
        and actor.has_perm("events.change_registration")
        and Event.objects.visible_to(actor).filter(pk=event_id).exists()
    )


def may_act_for(actor: User, member: User | None, *, event_id: int) -> bool:
    """Members act for themselves; an organization coordinator for verified colleagues; an
    organizer for anyone registered for their teams' events."""
    if organizes(actor, event_id):
        return True
    if member is None:  # the account was erased: only organizers change what is left
        return False
    if actor.pk == member.pk:
        return True
    return bool(
        actor.is_organization_coordinator
        and actor.organization_verified
        and member.organization_verified
        and actor.organization_id == member.organization_id
    )
