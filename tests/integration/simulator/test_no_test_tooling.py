"""Importing the provider, the simulator included, needs no test tooling (only the pytest plugin does).

The simulator ships in the wheel (``make demo``, ``hubspot-assoc-sim`` and users' own tests use it),
so every module under ``airflow_provider_hubspot_assoc`` must import with the runtime dependencies
alone. A fresh interpreter blocks the dev-only packages with a ``sys.meta_path`` finder, then imports
every module of the package; any import that reaches for them fails the test.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import airflow_provider_hubspot_assoc

PACKAGE_DIR = Path(airflow_provider_hubspot_assoc.__file__).resolve().parent
PLUGIN = "airflow_provider_hubspot_assoc.testing.pytest_plugin"
# The dev extra's packages (pyproject.toml), by top-level import name. Airflow itself needs
# jsonschema and pluggy at run time, so those are refused only to the package's own imports; pytest
# and hypothesis are refused to everyone.
EVERYWHERE = ("pytest", "_pytest", "pytest_timeout", "hypothesis")
FROM_THE_PACKAGE = (*EVERYWHERE, "jsonschema", "pluggy", "mypy", "ruff")

SCRIPT = textwrap.dedent(
    """
    import builtins, importlib, importlib.abc, json, pkgutil, sys

    EVERYWHERE = set(sys.argv[1].split(","))
    FROM_THE_PACKAGE = set(sys.argv[2].split(","))
    PLUGIN = sys.argv[3]
    PACKAGE = "airflow_provider_hubspot_assoc"


    class Blocker(importlib.abc.MetaPathFinder):
        # Not importable at all, by anyone.
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in EVERYWHERE:
                raise ModuleNotFoundError(f"{name} is dev-only", name=name)
            return None


    real_import = builtins.__import__


    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        # Not importable by the package's own modules, even once something else has loaded it.
        importer = (globals or {}).get("__name__", "")
        ours = importer == PACKAGE or importer.startswith(PACKAGE + ".")
        if ours and level == 0 and name.partition(".")[0] in FROM_THE_PACKAGE and importer != PLUGIN:
            raise ModuleNotFoundError(f"{name} is dev-only (imported by {importer})", name=name)
        return real_import(name, globals, locals, fromlist, level)


    sys.meta_path.insert(0, Blocker())
    builtins.__import__ = guarded_import
    import airflow_provider_hubspot_assoc as package

    imported, failed = [], {}
    names = [package.__name__] + [
        info.name
        for info in pkgutil.walk_packages(
            package.__path__, package.__name__ + ".", onerror=lambda name: failed.setdefault(name, "walk")
        )
    ]
    for name in names:
        if name == PLUGIN:
            continue
        try:
            importlib.import_module(name)
            imported.append(name)
        except Exception as error:
            failed[name] = f"{type(error).__name__}: {error}"
    try:
        importlib.import_module(PLUGIN)
        plugin = "imported"
    except ModuleNotFoundError as error:
        plugin = error.name
    leaked = sorted(m for m in sys.modules if m.partition(".")[0] in EVERYWHERE)
    print(json.dumps({"imported": imported, "failed": failed, "plugin": plugin, "leaked": leaked}))
    """
)


def _run() -> dict[str, object]:
    env = os.environ.copy()
    # The package under test first (a worktree may shadow an editable install).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_DIR.parent), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(EVERYWHERE), ",".join(FROM_THE_PACKAGE), PLUGIN],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_every_module_imports_without_test_tooling() -> None:
    result = _run()
    assert result["failed"] == {}
    modules = {
        ".".join(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in PACKAGE_DIR.rglob("*.py")
    }
    assert set(result["imported"]) == modules - {PLUGIN}  # type: ignore[arg-type]
    assert result["leaked"] == []
    # The blocker works: the pytest plugin, which does need pytest, could not be imported.
    assert result["plugin"] == "pytest"


def test_no_module_but_the_plugin_imports_test_tooling_even_inside_a_function() -> None:
    """The import test above runs module code only; imports inside functions are read from the source."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        if module == PLUGIN:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found.setdefault(module, []).extend(n for n in names if n.partition(".")[0] in FROM_THE_PACKAGE)
    assert {module: names for module, names in found.items() if names} == {}
