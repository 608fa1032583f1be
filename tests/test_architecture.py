"""The package's layout rules (docs/architecture.md), checked on the source: one-way imports, one seam to django-q2."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "wagtail_easycars"
NAME = "wagtail_easycars"


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules():
    return {
        module_name(path): path for path in PACKAGE.rglob("*.py") if "migrations" not in path.relative_to(PACKAGE).parts
    }


MODULES = package_modules()


def imports_of(module, path):
    """Every module ``module`` imports, at module level or inside functions, as absolute names."""
    is_package = path.name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            submodules = {f"{target}.{alias.name}" for alias in node.names} & MODULES.keys()
            # ``from package import module`` depends on that module, not on the package's __init__
            found.update(submodules if len(submodules) == len(node.names) else {target, *submodules})
    return found


GRAPH = {module: imports_of(module, path) for module, path in MODULES.items()}


def internal_edges(module):
    """Package modules ``module`` depends on (a package's ``__init__`` counts as its own module)."""
    return {target for target in GRAPH[module] if target in MODULES and target != module}


def test_django_q_is_imported_by_jobs_only():
    importers = sorted(m for m, targets in GRAPH.items() if any(t.split(".")[0] == "django_q" for t in targets))
    assert importers == [f"{NAME}.jobs"]


def test_the_client_imports_no_orm_and_no_models():
    for module, targets in GRAPH.items():
        if not module.startswith(f"{NAME}.client"):
            continue
        for target in targets:
            assert not target.startswith("django.db"), f"{module} imports {target}"
            assert not target.startswith(f"{NAME}.models"), f"{module} imports {target}"
            assert not target.startswith(f"{NAME}.sync"), f"{module} imports {target}"


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("models", ("sync", "client", "admin", "showroom", "tasks", "jobs")),
        ("sync", ("admin", "showroom", "tasks", "management")),
        ("client", ("sync", "models", "admin", "showroom", "tasks", "jobs")),
        ("jobs", ("sync", "models", "admin", "showroom", "tasks")),
    ],
)
def test_data_flows_one_way(layer, forbidden):
    """client -> sync -> models; tasks, admin and the showroom call in, never the reverse."""
    prefix = f"{NAME}.{layer}"
    for module, targets in GRAPH.items():
        if module != prefix and not module.startswith(prefix + "."):
            continue
        for target in targets:
            for name in forbidden:
                bad = f"{NAME}.{name}"
                assert target != bad, f"{module} imports {target}"
                assert not target.startswith(bad + "."), f"{module} imports {target}"


def test_no_two_modules_import_each_other_in_a_circle():
    # Tarjan's strongly connected components over every import, lazy ones included.
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in internal_edges(node):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in MODULES:
        if module not in index:
            visit(module)
    assert cycles == []
