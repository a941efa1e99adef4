"""The import rules of docs/architecture.md, read from the source: layers only import downwards, the
service packages only import those below them, no dialect imports storage or another dialect, and
no two modules import each other (directly or through others)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "comptoir"

# What each top-level part may import of ours (besides itself). The codec (exact JSON, timestamps)
# and domain are the floor every layer stands on.
LAYERS = {
    "domain": set(),
    "codec": set(),
    "concurrency": set(),
    "settings": set(),
    "storage": {"domain", "codec", "settings"},
    "services": {"domain", "codec", "storage", "settings"},
    "auth": {"domain", "codec", "services", "settings"},
    "context": {"auth", "storage", "settings", "services"},
    "routing": set(),  # our FastAPI apps' router (comptoir/routing.py)
    "wire": {"codec", "routing"},
    "serving": set(),  # what uvicorn writes: header names as the dialects document them
    "jobs": {"domain", "codec", "services", "storage", "settings"},
    "dialects": {"domain", "codec", "services", "auth", "context", "wire", "routing", "settings"},
    "web": {"domain", "codec", "services", "auth", "context", "wire", "settings"},
    "app": {"domain", "codec", "services", "auth", "context", "wire", "settings", "dialects", "web", "jobs",
            "storage", "serving"},
    "cli": {"domain", "codec", "services", "auth", "context", "wire", "settings", "dialects", "web", "jobs",
            "storage", "app", "serving"},
}
LAYERS["__init__"] = set()  # the package's version, which any part may show
LAYERS["__main__"] = {"cli"}
for allowed in LAYERS.values():
    allowed.update({"__init__", "concurrency"})  # the package's version; blocking calls off the event loop

# Each package of services/ imports only those to its right in its chain (docs/architecture.md).
SERVICE_PACKAGES = {
    "kernel": set(),
    "access": {"kernel"},
    "masterdata": {"kernel"},
    "ledger": {"kernel", "masterdata"},
    "settlement": {"kernel", "masterdata", "ledger"},
    "documents": {"kernel", "masterdata", "ledger", "settlement", "access"},
    "reporting": {"kernel", "masterdata", "ledger", "settlement", "documents", "access"},
    "tenancy": {"kernel", "masterdata", "ledger", "access"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (a name imported from a package counts as its
    submodule when there is one)."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in (SRC / PACKAGE).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != PACKAGE:
                    continue
                for alias in node.names:
                    candidate = f"{target}.{alias.name}"
                    exists = (SRC / candidate.replace(".", "/")).with_suffix(".py").exists() or \
                        (SRC / candidate.replace(".", "/")).is_dir()
                    found[module].add(candidate if exists else target)
            elif isinstance(node, ast.Import):
                found[module].update(alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE)
    return found


IMPORTS = _imports()


def _part(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def test_layers_import_only_downwards():
    wrong = sorted(f"{module} imports {target}" for module, targets in IMPORTS.items() for target in targets
                   if _part(target) != _part(module) and _part(target) not in LAYERS[_part(module)])
    assert not wrong, "\n".join(wrong)


def test_service_packages_import_only_those_below_them():
    wrong = []
    for module, targets in IMPORTS.items():
        if not module.startswith("comptoir.services."):
            continue
        own = module.split(".")[2]
        assert own in SERVICE_PACKAGES, f"{module}: services/ holds only the packages of docs/architecture.md"
        for target in targets:
            if target.startswith("comptoir.services.") and target.split(".")[2] != own \
                    and target.split(".")[2] not in SERVICE_PACKAGES[own]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_dialects_never_reach_storage_or_each_other():
    wrong = []
    for module, targets in IMPORTS.items():
        if not module.startswith("comptoir.dialects."):
            continue
        own = module.split(".")[2]
        for target in targets:
            if target.startswith("comptoir.storage"):
                wrong.append(f"{module} imports {target}")
            if target.startswith("comptoir.dialects.") and len(target.split(".")) > 2 and target.split(".")[2] != own:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycles():
    """Between modules, whatever the import's place in the file (a cycle hidden in a function is
    still a cycle of the design)."""
    graph = {module: {target for target in targets if target in IMPORTS or target in _all_modules()}
             for module, targets in IMPORTS.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target == module or _is_package_of(target, module):
                continue
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


def _is_package_of(package: str, module: str) -> bool:
    return module.startswith(package + ".")


def _all_modules() -> set[str]:
    return {_module_name(path) for path in (SRC / PACKAGE).rglob("*.py")}
