#!/usr/bin/env python3
"""The import graph of helpdesk/ and workers/: no cycles between packages, imports go down.

Reads the code with the standard library's ``ast`` (nothing is imported or run).
A node is a package: ``helpdesk.<feature>`` (``helpdesk/tickets/…`` → ``helpdesk.tickets``),
a top-level module of ``helpdesk`` (``helpdesk.permissions``), ``helpdesk`` itself (the
app factory) or ``workers``. Only imports that run when a module is loaded count as
edges of the cycle check: those at module level, outside ``if TYPE_CHECKING:``. An import
inside a function is allowed only with a comment on its line or the line above saying why
it is there, and it may not go up the stack either.

    python scripts/import_graph.py            # the check (exit 1 on a finding)
    python scripts/import_graph.py --graph    # also print each package's imports

The check fails on: a cycle between packages, an import from a lower layer into a higher
one (LAYERS below; docs/ARCHITECTURE.md explains them), and a function-level import
without a comment.
"""
from __future__ import annotations

import argparse
import ast
import io
import sys
import tokenize
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP_PACKAGES = ("helpdesk", "workers")

#: The stack, lowest first. A package may import its own layer's packages (without a
#: cycle) and any lower layer, never a higher one. Unlisted packages fail the check.
LAYERS: list[tuple[str, set[str]]] = [
    ("core", {"helpdesk.core", "helpdesk.extensions", "helpdesk.i18n", "helpdesk.events",
              "helpdesk.bus"}),
    ("org/accounts", {"helpdesk.org", "helpdesk.accounts", "helpdesk.audit"}),
    # every feature's models.py and pure rules: helpdesk.<feature>[model] (PURE_MODULES)
    ("domain model", set()),
    ("tickets", {"helpdesk.tickets", "helpdesk.permissions"}),
    ("features", {"helpdesk.sla", "helpdesk.inventory", "helpdesk.census", "helpdesk.mail",
                  "helpdesk.notify", "helpdesk.outbox", "helpdesk.reports", "helpdesk.ops",
                  "helpdesk.incidents", "helpdesk.kb", "helpdesk.canned",
                  "helpdesk.savedviews", "helpdesk.kbuse"}),
    # and every feature's web door, helpdesk.<feature>[web] (WEB_MODULES below)
    ("entry points", {"helpdesk.api", "helpdesk.demo", "helpdesk.cli", "helpdesk.app_setup",
                      "helpdesk.handlers", "helpdesk", "workers"}),
]



def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


#: Module names (the last part) that are the web door of their feature: its Flask views
#: and forms. They sit at the top with the API and the workers, so a feature's page may
#: show what a higher feature adds (the ticket page shows linked equipment).
WEB_MODULES = {"views", "forms"}


#: The pure policy modules (docs/ARCHITECTURE.md): no Flask, no database, ``now`` as an
#: argument. With each feature's models.py they are the feature's domain model, a node
#: ``helpdesk.<feature>[model]`` below the permission check and every service, so that
#: permissions.py may read any feature's tables and rules while the services ask it.
PURE_MODULES = {
    "helpdesk.tickets.states", "helpdesk.tickets.visibility", "helpdesk.census.rules",
    "helpdesk.notify.rules", "helpdesk.sla.clock", "helpdesk.sla.calendar",
    "helpdesk.mail.classify", "helpdesk.mail.threading", "helpdesk.mail.ids",
    "helpdesk.incidents.rules",
    "helpdesk.kb.rules", "helpdesk.canned.placeholders",
    "helpdesk.mail.meaning", "helpdesk.kbuse.rules",
}
#: What a pure module may not import.
IMPURE = ("flask", "flask_", "sqlalchemy", "helpdesk.extensions")
#: Packages that are not split into a model and the rest (they sit below it whole, but
#: for their web door and their administration).
UNSPLIT = {"helpdesk.org", "helpdesk.accounts", "helpdesk.audit", "helpdesk.core", "helpdesk.api"}
#: Administration of people and of the support organisation, and the ΠΣΔ sign-in:
#: writers that ask helpdesk.permissions (above org/accounts) and touch the API's tokens,
#: so they sit with the entry points as ``helpdesk.<package>[admin]``.
ADMIN_MODULES = ("helpdesk.accounts.people", "helpdesk.org.admin",
                 "helpdesk.accounts.cas_services")


def package_of(module: str) -> str:
    """The graph node a module belongs to: ``helpdesk.<feature>``, its domain model
    ``helpdesk.<feature>[model]`` or its web door ``helpdesk.<feature>[web]``, a
    top-level module, ``helpdesk`` or ``workers``."""
    parts = module.split(".")
    if parts[0] == "workers":
        return "workers"
    package = ".".join(parts[:2])
    if any(module == m or module.startswith(m + ".") for m in ADMIN_MODULES):
        return package + ("[web]" if parts[-1] in WEB_MODULES or parts[-1].endswith("_views")
                          else "[admin]")
    if len(parts) > 2 and package != "helpdesk.core" and (
            parts[-1] in WEB_MODULES or parts[-1].endswith("_views")):
        return package + "[web]"
    if len(parts) > 2 and package not in UNSPLIT:
        if parts[-1] in WEB_MODULES:
            return package + "[web]"
        if parts[-1] == "models" or module in PURE_MODULES:
            return package + "[model]"
    return package


def _comment_lines(source: str) -> set[int]:
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            lines.add(tok.start[0])
    return lines


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool,
             known: set[str]) -> list[str]:
    """The project modules an import statement loads."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[:len(base) - node.level + 1]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        names = [f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in known else prefix
                 for alias in node.names]
    found = []
    for name in names:
        while name and name not in known:  # `import a.b.c` of a name inside a module
            name = name.rpartition(".")[0]
        if name and name.split(".")[0] in TOP_PACKAGES:
            found.append(name)
    return found


class Module:
    def __init__(self, path: Path, root: Path):
        self.path = path
        self.where = path.relative_to(root)
        self.name = module_name(path, root)
        self.is_package = path.name == "__init__.py"
        self.source = path.read_text(encoding="utf-8")
        self.tree = ast.parse(self.source, str(path))
        self.comments = _comment_lines(self.source)

    def imports(self, known: set[str]):
        """(module-level imports, function-level imports): lists of (line, target)."""
        top, inner = [], []

        def visit(node, in_function):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and _is_type_checking(child):
                    for sub in child.orelse:
                        visit_one(sub, in_function)
                    continue
                visit_one(child, in_function)

        def visit_one(child, in_function):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in _targets(child, self.name, self.is_package, known):
                    (inner if in_function else top).append((child.lineno, target))
                if in_function and not _targets(child, self.name, self.is_package, known):
                    inner.append((child.lineno, None))  # a third-party import
                return
            visit(child, in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

        visit(self.tree, False)
        return top, inner


    def absolute_imports(self) -> set[str]:
        """Every module name an import statement names (any depth, any package)."""
        names = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
        return names


def impure(modules: list[Module]) -> list[str]:
    """Pure modules that import Flask, SQLAlchemy or the app's extensions."""
    found = []
    for m in modules:
        if m.name in PURE_MODULES:
            for name in sorted(m.absolute_imports()):
                if name.split(".")[0] in ("flask", "sqlalchemy") or name.startswith(IMPURE):
                    found.append(f"{m.name} is a pure module but imports {name} ({m.where})")
    return found


def load(root: Path = ROOT) -> list[Module]:
    paths = sorted(p for top in TOP_PACKAGES for p in (root / top).rglob("*.py"))
    return [Module(p, root) for p in paths]


def package_graph(modules: list[Module]):
    known = {m.name for m in modules}
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    every: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    uncommented = []
    for m in modules:
        top, inner = m.imports(known)
        src = package_of(m.name)
        for line, target in top:
            dst = package_of(target)
            if dst != src:
                edges[src][dst].append(f"{m.where}:{line}")
                every[src][dst].append(f"{m.where}:{line}")
        inner_lines = {line for line, _target in inner}
        for line, target in inner:
            if target is not None and package_of(target) != src:
                every[src][package_of(target)].append(f"{m.where}:{line}")
            if not _explained(line, m.comments, inner_lines):
                uncommented.append(f"{m.where}:{line}")
        edges.setdefault(src, defaultdict(list))
    return edges, every, sorted(set(uncommented), key=_path_line)


def _explained(line: int, comments: set[int], import_lines: set[int]) -> bool:
    """A comment on the line or the line above; or the import just above is explained
    (a block of imports under one comment)."""
    while True:
        if line in comments or line - 1 in comments:
            return True
        if line - 1 not in import_lines:
            return False
        line -= 1


def _path_line(where: str):
    path, line = where.rsplit(":", 1)
    return path, int(line)


def cycles(edges) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            strong(v)
    return sorted(out)


def layer_of(package: str) -> int | None:
    if package.endswith(("[web]", "[admin]")):
        return len(LAYERS) - 1
    if package.endswith("[model]"):
        return next(i for i, (name, _m) in enumerate(LAYERS) if name == "domain model")
    for i, (_name, members) in enumerate(LAYERS):
        if package in members:
            return i
    return None


def upward(edges) -> list[tuple[str, str, str]]:
    found = []
    for src in sorted(edges):
        for dst in sorted(edges[src]):
            ls, ld = layer_of(src), layer_of(dst)
            if ls is not None and ld is not None and ld > ls:
                found.append((src, dst, f"{src} ({LAYERS[ls][0]}) imports {dst} "
                                        f"({LAYERS[ld][0]}) at {edges[src][dst][0]}"))
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--graph", action="store_true", help="print each package's imports")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project folder")
    args = parser.parse_args(argv)
    modules = load(args.root)
    edges, every, uncommented = package_graph(modules)
    failed = False
    for line in impure(modules):
        failed = True
        print("import graph: " + line)
    if args.graph:
        for i, (name, _members) in enumerate(LAYERS):
            print(f"[{i}] {name}")
            nodes = {n for n in edges if layer_of(n) == i}
            for src in sorted(nodes):
                print(f"    {src} -> {', '.join(sorted(edges[src])) or '(nothing)'}")
    unplaced = sorted(p for p in edges if layer_of(p) is None)
    if unplaced:
        failed = True
        print("import graph: packages in no layer (add them to LAYERS): " + ", ".join(unplaced))
    found_cycles = cycles(edges)
    for component in found_cycles:
        failed = True
        print("import graph: cycle between " + " ↔ ".join(component))
        for src in component:
            for dst in component:
                if dst in edges[src]:
                    print(f"    {src} -> {dst}: {', '.join(edges[src][dst][:3])}")
    for _src, _dst, line in upward(every):
        failed = True
        print("import graph: upward import: " + line)
    if uncommented:
        failed = True
        print(f"import graph: {len(uncommented)} function-level imports without a comment "
              "saying why (move them to the top, or say why on the line or the line above):")
        for where in uncommented:
            print("    " + where)
    if failed:
        print("import graph: FAILED")
    else:
        print(f"import graph: {len(edges)} packages in {len(LAYERS)} layers, no cycle, "
              "no upward import, every function-level import explained")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
