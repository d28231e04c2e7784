"""Dependencies run one way: `members` knows nothing of `events` or `newsletters`, `events`
knows nothing of `newsletters`, and no module imports a module that imports it back.

The graph is read from the source with `ast`, not from `sys.modules`, so it holds whatever the
test run happened to import. Every import counts wherever it is written: at the top of a module,
inside a function (a lazy import, usually there to dodge a cycle at load time, is still one
module knowing another) or under `if TYPE_CHECKING:`. Migrations and tests are left out: a
migration names the models of the apps it depends on by design."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("members", "events", "newsletters", "mail", "network_portal")
SKIPPED_DIRECTORIES = {"migrations", "tests", "__pycache__"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files() -> dict[str, Path]:
    files = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if SKIPPED_DIRECTORIES.isdisjoint(path.relative_to(ROOT).parts):
                files[_module_name(path)] = path
    return files


def _imported_names(module: str, path: Path) -> Iterator[str]:
    """Dotted names `module` imports, relative imports made absolute. For `from x import y`
    both `x.y` (when y is a module) and `x` are candidates; _project_module picks the one that
    exists."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:
                yield f"{origin}.{alias.name}"


def _project_module(name: str, modules: set[str]) -> str | None:
    """The longest prefix of `name` that is one of the project's modules (`members.models.User`
    is `members.models`), or None for the standard library and third parties."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def import_graph() -> dict[str, set[str]]:
    files = _source_files()
    modules = set(files)
    graph = {}
    for module, path in files.items():
        targets = {_project_module(name, modules) for name in _imported_names(module, path)}
        graph[module] = {target for target in targets if target is not None and target != module}
    return graph


def _in_app(module: str, app: str) -> bool:
    return module == app or module.startswith(app + ".")


def _imports_of(graph: dict[str, set[str]], importer: str, imported: str) -> list[str]:
    return sorted(
        f"{source} -> {target}"
        for source, targets in graph.items()
        if _in_app(source, importer)
        for target in targets
        if _in_app(target, imported)
    )


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan): every set of modules that
    reach each other through imports, a pair or a longer ring."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(components)


def test_the_graph_sees_imports_of_every_kind():
    """The reader itself: a relative import, an absolute one, and one inside a function (the
    lazy import of the registrations' eraser that events.apps makes in ready())."""
    graph = import_graph()
    assert "members.models" in graph["members.services"]  # from .models import ...
    assert "members.privacy" in graph["events.apps"]  # from members import privacy, inside ready()
    assert "mail.services" in graph["members.privacy"]  # from x import services
    assert len(graph) > 50


def test_members_imports_neither_events_nor_newsletters():
    graph = import_graph()
    found = _imports_of(graph, "members", "events") + _imports_of(graph, "members", "newsletters")
    assert not found, "\n".join(found)


def test_events_does_not_import_newsletters():
    found = _imports_of(import_graph(), "events", "newsletters")
    assert not found, "\n".join(found)


def test_no_two_modules_import_each_other():
    graph = import_graph()
    pairs = sorted(
        f"{source} <-> {target}"
        for source, targets in graph.items()
        for target in targets
        if source < target and source in graph.get(target, ())
    )
    assert not pairs, "\n".join(pairs)


def test_no_longer_import_cycles():
    cycles = _cycles(import_graph())
    assert not cycles, "\n".join(" <-> ".join(cycle) for cycle in cycles)


# The app's name in a string is knowledge too: a template included from another app, a URL name
# reversed, a module imported by name, a signal's sender compared by name.
_NAMES_ANOTHER_APP = re.compile(r"""["'](?:events|newsletters)(?:[.:/][^"'\s]*)?["']""")


def test_members_names_no_other_app_in_code_or_templates():
    sources = [
        path
        for path in [*(ROOT / "members").rglob("*.py"), *(ROOT / "templates" / "members").rglob("*")]
        if path.is_file() and SKIPPED_DIRECTORIES.isdisjoint(path.relative_to(ROOT).parts)
    ]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if _NAMES_ANOTHER_APP.search(line)
    ]
    assert not found, "\n".join(found)
