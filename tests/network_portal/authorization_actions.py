"""The authorization table of the admin's list actions.

The table is run by tests/network_portal/test_authorization_matrix.py; MATRIX in
tests/network_portal/authorization_table.py joins the parts."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.contrib.auth.models import Group
from django.urls import reverse

from tests.network_portal.authorization_admin import (
    _site,
)
from tests.network_portal.authorization_rules import (
    CHANGED,
    OK,
    UNCHANGED,
    Case,
    _with_member,
    staff,
)
from tests.portal_world import (
    World,
)

# --- list actions -------------------------------------------------------------------------------
# Each is posted to the model's changelist with an object of team A (or a superuser's account)
# selected: organizer B's attempt must change nothing and show nothing of team A.


def action(
    app_model: str,
    target: Callable[[World], object],
    rules: Mapping[str, str],
    data: Callable[[World], dict] | None = None,
    private: Callable[[World], tuple[str, ...]] | None = None,
    label: str = "",
) -> Case:
    app, model = app_model.split(".")

    def post_data(world: World) -> dict:
        return {
            "_selected_action": [target(world).pk],
            "index": "0",
            **(data(world) if data else {}),
        }

    return Case(
        rules,
        path=lambda world: reverse(f"admin:{app}_{model}_changelist"),
        method="post",
        data=post_data,
        private=private,
        label=label,
    )


def _delete_confirmed(world: World) -> dict:
    return {"post": "yes"}


def _team_a_action(app_model, target, rule_a=OK, data=None, private=None) -> Case:
    return action(
        app_model,
        target,
        staff(rule_a, UNCHANGED, rule_a),
        data=data,
        private=private,
    )


_registration_target = lambda w: w.registration  # noqa: E731
_event_target = lambda w: w.event_a  # noqa: E731

ACTIONS: dict[str, Case | tuple[Case, ...]] = {
    "action:auth.group.delete_selected": action(
        "auth.group", lambda w: Group.objects.get(name="Organizers"), staff(UNCHANGED, UNCHANGED, OK)
    ),
    "action:sites.site.delete_selected": action(
        "sites.site", lambda w: _site(), staff(UNCHANGED, UNCHANGED, OK)
    ),
    "action:account.emailaddress.delete_selected": action(
        "account.emailaddress", lambda w: w.member.emailaddress_set.get(), staff(UNCHANGED, UNCHANGED, OK)
    ),
    "action:account.emailaddress.make_verified": action(
        "account.emailaddress", lambda w: w.member.emailaddress_set.get(), staff(UNCHANGED, UNCHANGED, OK)
    ),
    "action:outbox.outgoingmessage.resend": _team_a_action(
        "outbox.outgoingmessage", lambda w: w.message_a, CHANGED
    ),
    "action:members.organization.delete_selected": action(
        "members.organization", lambda w: w.aarhus, staff(UNCHANGED, UNCHANGED, OK), data=_delete_confirmed
    ),
    # Hole 8: an action obeys the same rules as the change form.
    "action:members.user.verify_membership": (
        action("members.user", lambda w: w.superuser, staff(UNCHANGED, UNCHANGED, OK), label="a superuser"),
        action("members.user", lambda w: w.member, staff(CHANGED), label="a member"),
    ),
    "action:members.user.revoke_verification": (
        action(
            "members.user", lambda w: w.superuser, staff(UNCHANGED, UNCHANGED, CHANGED), label="a superuser"
        ),
        action("members.user", lambda w: w.member, staff(CHANGED), label="a member"),
    ),
    # Nobody erases their own account from the admin (the profile page does that).
    "action:members.user.erase_accounts": (
        action(
            "members.user",
            lambda w: w.superuser,
            staff(UNCHANGED, UNCHANGED, UNCHANGED),
            data=_delete_confirmed,
            label="a superuser",
        ),
        action("members.user", lambda w: w.member, staff(CHANGED), data=_delete_confirmed, label="a member"),
    ),
    "action:members.team.delete_selected": action(
        "members.team", lambda w: w.team_a, staff(UNCHANGED, UNCHANGED, OK), data=_delete_confirmed
    ),
    "action:events.theme.delete_selected": action(
        "events.theme", lambda w: w.event_a.main_theme, staff(OK), data=_delete_confirmed
    ),
    "action:events.contactperson.delete_selected": action(
        "events.contactperson", lambda w: w.contact, staff(CHANGED), data=_delete_confirmed
    ),
    "action:events.speaker.delete_selected": action(
        "events.speaker", lambda w: w.speaker, staff(CHANGED), data=_delete_confirmed
    ),
    "action:events.series.delete_selected": _team_a_action(
        "events.series", lambda w: w.series_a, OK, data=_delete_confirmed
    ),
    "action:events.occasion.delete_selected": _team_a_action(
        "events.occasion", lambda w: w.occasion_a1, OK, data=_delete_confirmed
    ),
    "action:events.event.publish": _team_a_action("events.event", _event_target, OK),
    "action:events.event.cancel_event": _team_a_action(
        "events.event", _event_target, CHANGED, data=lambda w: {"apply": "1", "note": "See you in May."}
    ),
    "action:events.event.duplicate": _team_a_action(
        "events.event",
        _event_target,
        CHANGED,
        data=lambda w: {"action": "duplicate", "apply": "1", "days": "7"},
    ),
    # Opens the event's message page (admin:events_event_message), which writes nothing by itself.
    "action:events.event.write_to_participants": _team_a_action("events.event", _event_target, OK),
    "action:events.registration.confirm_over_quota": _team_a_action(
        "events.registration", _registration_target, OK, private=_with_member
    ),
    "action:events.registration.cancel_registrations": _team_a_action(
        "events.registration", _registration_target, CHANGED, private=_with_member
    ),
    "action:events.registration.mark_attended": _team_a_action(
        "events.registration", _registration_target, OK, private=_with_member
    ),
    "action:events.registration.mark_not_attended": _team_a_action(
        "events.registration", _registration_target, OK, private=_with_member
    ),
    "action:events.registration.move_to_occasion": _team_a_action(
        "events.registration",
        _registration_target,
        CHANGED,
        data=lambda w: {"apply": "1", "occasion": w.occasion_a2.pk},
        private=_with_member,
    ),
    "action:events.registration.export_csv": _team_a_action(
        "events.registration", _registration_target, OK, private=_with_member
    ),
    "action:events.registration.export_xlsx": _team_a_action(
        "events.registration", _registration_target, OK, private=_with_member
    ),
    "action:events.registration.print_participant_list": _team_a_action(
        "events.registration", _registration_target, OK, private=_with_member
    ),
    "action:newsletters.subscriber.export_selected_csv": action(
        "newsletters.subscriber", lambda w: w.subscriber, staff(OK)
    ),
    "action:newsletters.subscriber.unsubscribe_selected": action(
        "newsletters.subscriber", lambda w: w.subscriber, staff(CHANGED)
    ),
    "action:newsletters.subscriber.delete_selected": action(
        "newsletters.subscriber", lambda w: w.subscriber, staff(CHANGED), data=_delete_confirmed
    ),
}
