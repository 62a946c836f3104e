"""The package layering of nas/__init__.py: every import in nas/ goes down the layers, never up."""
from __future__ import annotations

import ast
from pathlib import Path

import nas

PACKAGE_DIR = Path(nas.__file__).parent
LAYER_OF = {name: depth for depth, names in enumerate(nas.LAYERS) for name in names}


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_cli(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return module in nas.CLI_MODULES or last == "cli" or last.endswith("_cli")


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, at any depth (functions, TYPE_CHECKING)."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
    return [(line, name) for line, name in found if name == "nas" or name.startswith("nas.")]


def top_package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def source_files(root: Path) -> list[Path]:
    # nas/firmware links to the C sources (its benchmark scripts are no package code)
    return sorted(p for p in root.rglob("*.py") if "firmware" not in p.relative_to(root).parts)


def upward_imports(root: Path = PACKAGE_DIR) -> list[str]:
    problems = []
    for path in source_files(root):
        where = path.relative_to(root.parent)
        module = module_name(path, root)
        if is_cli(module):
            continue
        here = top_package(module)
        for line, target in imported_modules(path, root):
            there = top_package(target)
            if there == here or there == "":
                continue
            for name in (here, there):
                if name not in LAYER_OF:
                    problems.append(f"{where}:{line}: nas.{name} is in no layer of nas.LAYERS")
            if here in LAYER_OF and there in LAYER_OF and LAYER_OF[there] >= LAYER_OF[here]:
                problems.append(f"{where}:{line}: nas.{here} (layer {LAYER_OF[here]}) "
                                f"imports {target} (layer {LAYER_OF[there]})")
    return problems


def test_every_import_goes_down_the_layers():
    assert upward_imports() == []


def test_every_package_and_top_level_module_has_a_layer():
    names = {p.name for p in PACKAGE_DIR.iterdir() if (p / "__init__.py").is_file()}
    names |= {p.stem for p in PACKAGE_DIR.glob("*.py") if not is_cli(f"nas.{p.stem}") and p.stem != "__init__"}
    assert sorted(names - set(LAYER_OF)) == []


def test_the_walk_sees_imports_inside_functions_and_relative_ones(tmp_path):
    fake = tmp_path / "nas"
    (fake / "cost").mkdir(parents=True)
    (fake / "cost" / "__init__.py").write_text("from .budget import Budget\n")
    (fake / "cost" / "budget.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from nas.spaces import Candidate\n"
        "def f():\n    from nas.report import tables\n")
    found = upward_imports(fake)
    assert any("imports nas.spaces" in p for p in found) and any("imports nas.report" in p for p in found)
    assert len(found) == 2  # the relative import stays inside nas.cost
