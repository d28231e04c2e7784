"""What other apps add to members' pages and rules.

`members` knows nothing of events or newsletters; the apps that build on it register here, in
their AppConfig.ready(), what they need from it (as they register their personal data in
members.privacy):
- the permissions the organizers' group needs for the app's models;
- panels on the member's profile page;
- the paths a member who has not completed the profile may still reach;
- counts of what a team runs, as columns of the teams' list in admin;
- demo data for `manage.py seed_demo`.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------
# Organizers' permissions

# app label -> codenames, or None for every permission of the app
_organizer_permissions: dict[str, frozenset[str] | None] = {}


def register_organizer_permissions(app_label: str, codenames: Iterable[str] | None = None) -> None:
    """What organizers may do with the models of `app_label`: the given permissions, or all of
    them. The group is brought in step on every migrate (members.signals)."""
    _organizer_permissions[app_label] = frozenset(codenames) if codenames is not None else None


def organizer_permissions() -> dict[str, frozenset[str] | None]:
    return dict(_organizer_permissions)


# ---------------------------------------------------------------------------------------------
# Profile page


@dataclass(frozen=True)
class ProfilePanel:
    template: str  # rendered with the profile page's context (`member` is the signed-in member)
    order: int = 100  # panels appear in this order, between the profile and "Your data"


_profile_panels: dict[str, ProfilePanel] = {}


def register_profile_panel(template: str, *, order: int = 100) -> None:
    _profile_panels[template] = ProfilePanel(template=template, order=order)


def profile_panels() -> list[ProfilePanel]:
    return sorted(_profile_panels.values(), key=lambda panel: (panel.order, panel.template))


# ---------------------------------------------------------------------------------------------
# Reachable before the profile is complete

_open_paths: list[str] = []


def register_open_path(prefix: str) -> None:
    """Paths under `prefix` stay reachable for a signed-in member whose profile is incomplete
    (members.middleware.ProfileCompletionMiddleware), e.g. links that act for someone else.
    A lazy string (reverse_lazy) is fine: it is read when the first request comes in."""
    _open_paths.append(prefix)


def open_paths() -> tuple[str, ...]:
    return tuple(sorted({str(prefix) for prefix in _open_paths}))


# ---------------------------------------------------------------------------------------------
# What a team runs, counted in admin


@dataclass(frozen=True)
class TeamCount:
    relation: str  # the related name of another app's ForeignKey to members.Team
    label: str  # the column's heading (a lazy translation)


_team_counts: dict[str, TeamCount] = {}


def register_team_count(relation: str, label: str) -> None:
    _team_counts[relation] = TeamCount(relation=relation, label=label)


def team_counts() -> list[TeamCount]:
    return list(_team_counts.values())


# ---------------------------------------------------------------------------------------------
# Demo data


@dataclass(frozen=True)
class DemoSeeder:
    name: str
    # password for any account it makes -> lines to print (what to look at); idempotent
    seed: Callable[[str], list[str]]
    order: int = 100  # seeders run in this order, after the demo members exist


_demo_seeders: dict[str, DemoSeeder] = {}


def register_demo(name: str, seed: Callable[[str], list[str]], *, order: int = 100) -> None:
    _demo_seeders[name] = DemoSeeder(name=name, seed=seed, order=order)


def demo_seeders() -> list[DemoSeeder]:
    return sorted(_demo_seeders.values(), key=lambda seeder: (seeder.order, seeder.name))
