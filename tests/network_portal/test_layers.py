"""Reads in selectors, writes in services: the modules that answer requests read nothing from
the database themselves.

The rule, read from the source with `ast` (like test_import_graph.py): a views module (every
`<app>/views.py`, and newsletters/archive.py, events/calendar.py, events/feeds.py and
events/list_views.py, which are views under another name) never names a model manager: no
`Model.objects…`, not even inside `get_object_or_404(...)`. A page asks its app's selectors (or
a QuerySet method reached through them) for what it shows, and a 404 on a missing row is
`get_object_or_404(selectors.x(), pk=pk)`. Passing the model class itself,
`get_object_or_404(Theme, slug=slug)`, is allowed: a lookup by key builds no query of its own,
so there is nothing to keep in a selector. Writes go through the app's services (e.g.
events.services.calendar_feeds for the calendar feed's address).

Admin modules are not covered: their `get_queryset` overrides and the team-scoping mixin are
the admin's own reads and stay there."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("members", "events", "newsletters", "mail", "network_portal")
VIEWS_UNDER_OTHER_NAMES = (
    "newsletters/archive.py", "events/calendar.py", "events/feeds.py", "events/list_views.py",
    "events/api.py",
)  # fmt: skip
# Every way to reach a model's manager from its class.
MANAGER_ATTRIBUTES = {"objects", "_default_manager", "_base_manager"}


def views_modules() -> list[Path]:
    paths = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("views.py"))]
    return paths + [ROOT / name for name in VIEWS_UNDER_OTHER_NAMES]


def manager_uses(source: str, filename: str = "<source>") -> list[str]:
    """`file:line: code` for every access to a model manager in `source`."""
    lines = source.splitlines()
    numbers = sorted(
        {
            node.lineno
            for node in ast.walk(ast.parse(source, filename=filename))
            if isinstance(node, ast.Attribute) and node.attr in MANAGER_ATTRIBUTES
        }
    )
    return [f"{filename}:{number}: {lines[number - 1].strip()}" for number in numbers]


def test_the_reader_finds_manager_uses_and_lets_selectors_pass():
    source = "\n".join(
        [
            "a = Event.objects.filter(status=1)",
            "b = get_object_or_404(Series.objects.prefetch_related('contacts'), slug=slug)",
            "c = get_object_or_404(selectors.published_events(), slug=slug)",
            "d = get_object_or_404(Theme, slug=slug)",
            "e = Theme._default_manager.all()",
            "f = event.occasions.all()",
        ]
    )
    found = manager_uses(source)
    assert [use.split(":")[1] for use in found] == ["1", "2", "5"]


def test_every_views_module_named_exists():
    missing = [str(path.relative_to(ROOT)) for path in views_modules() if not path.is_file()]
    assert not missing, missing
    assert len(views_modules()) >= 6  # the apps' views.py files are found too


def test_views_modules_read_through_selectors():
    found = [
        use for path in views_modules() for use in manager_uses(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert not found, "Read through the app's selectors instead:\n" + "\n".join(found)
