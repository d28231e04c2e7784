"""The member's registrations in the GDPR download (registered with members.privacy)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from members.models import User

from .models import Registration, RegistrationLog


def _when(value) -> str | None:
    return value.isoformat() if value is not None else None


def _by(log: RegistrationLog, member: User) -> str:
    """Who made the change, without naming anybody else: the member's download is no place for
    organizers' or colleagues' addresses."""
    if log.actor_id is None:
        return "system"
    if log.actor_id == member.pk:
        return "you"
    return "organizer" if log.actor.is_staff else "coordinator"


def export_registrations(user: User) -> list[dict[str, Any]]:
    registrations = (
        Registration.objects.filter(user=user)
        .select_related("event", "occasion", "organization")
        .prefetch_related(
            Prefetch("log", queryset=RegistrationLog.objects.select_related("actor")),
            "evaluation__item_ratings__agenda_item",
        )
        .order_by("created_at", "pk")
    )
    return [
        {
            "event": registration.event.title,
            "occasion": registration.occasion.display_label,
            "occasion_starts_at": _when(registration.occasion.starts_at),
            "occasion_ends_at": _when(registration.occasion.ends_at),
            "organization": registration.organization.name,
            "status": registration.status,
            "wait_reason": registration.wait_reason,
            "registered_at": _when(registration.created_at),
            "confirmed_at": _when(registration.confirmed_at),
            "cancelled_at": _when(registration.cancelled_at),
            "dietary_needs": registration.diet,
            "accessibility_needs": registration.accessibility,
            "listed_on_participant_list": registration.listed,
            "attended": registration.attended,
            "evaluation": _evaluation(registration),
            "log": [
                {"action": log.action, "at": _when(log.at), "by": _by(log, user), "detail": log.detail}
                for log in registration.log.all()
            ],
        }
        for registration in registrations
    ]


def _evaluation(registration: Registration) -> dict | None:
    evaluation = getattr(registration, "evaluation", None)
    if evaluation is None:
        return None
    return {
        "rating": evaluation.rating,
        "programme_items": {
            rating.agenda_item.title: rating.rating for rating in evaluation.item_ratings.all()
        },
        "take_home": evaluation.take_home,
        "theme_wish": evaluation.theme_wish,
        "given_at": _when(evaluation.created_at),
        "changed_at": _when(evaluation.changed_at),
    }
