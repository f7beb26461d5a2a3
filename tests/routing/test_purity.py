"""The engine imports only the standard library: no Flask, no database, no clock, no randomness.

Two exceptions, each in one module: the command line (`cli.py`) uses click, and the account
keys (`names.py`) use cleanco and publicsuffixlist, pure packages with bundled data.
"""

import ast
import sys
from pathlib import Path

import pytest

import intake.routing

PACKAGE = Path(intake.routing.__file__).parent
# The command line is the engine's edge: it may use click, as Flask's own commands do. The account
# keys use two pure, offline packages with bundled data (legal forms, the Public Suffix List).
ALLOWED = {"cli.py": {"click"}, "names.py": {"cleanco", "publicsuffixlist"}}
# Standard library, but a clock or a die: the same input must always give the same decision.
NONDETERMINISTIC = {"datetime", "random", "secrets", "time", "uuid"}


def _imported_modules(path: Path) -> set[str]:
    """Top-level names of the absolute imports in a module; relative imports stay in the package."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


MODULES = sorted(PACKAGE.glob("*.py"))


def test_the_package_has_the_modules_we_check():
    assert {"__init__.py", "engine.py", "model.py", "parse.py", "cli.py", "names.py"} <= {path.name for path in MODULES}


def test_the_account_keys_use_exactly_their_two_packages():
    outside = {name for name in _imported_modules(PACKAGE / "names.py") if name not in sys.stdlib_module_names}
    assert outside == {"cleanco", "publicsuffixlist"}


@pytest.mark.parametrize("path", [path for path in MODULES if path.name != "names.py"], ids=lambda path: path.name)
def test_no_other_module_imports_the_account_key_packages(path):
    assert not _imported_modules(path) & {"cleanco", "publicsuffixlist"}


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_routing_module_imports_only_the_standard_library(path):
    allowed = ALLOWED.get(path.name, set())
    outside = {name for name in _imported_modules(path) if name not in sys.stdlib_module_names} - allowed
    assert not outside, f"{path.name} imports {sorted(outside)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_routing_module_uses_no_clock_or_randomness(path):
    assert not _imported_modules(path) & NONDETERMINISTIC


def test_importing_the_engine_does_not_import_its_command_line_edge():
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module)
            imported.update(alias.name for alias in node.names)
    assert "cli" not in imported
