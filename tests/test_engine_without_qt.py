"""The engine must run headless, in CI and in runtime engines: it may never import Qt."""

import pkgutil
import subprocess
import sys

import app.engine

BLOCKER = """
import importlib.abc, sys

class BlockQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "PySide6" or name.startswith(("PySide6.", "shiboken6")):
            raise ImportError(f"the engine imported Qt: {name}")
        return None

sys.meta_path.insert(0, BlockQt())
import importlib
for name in sys.argv[1:]:
    importlib.import_module(name)
assert not any(m.startswith("PySide6") for m in sys.modules)
print("imported", len(sys.argv) - 1)
"""


def engine_modules() -> list[str]:
    return [info.name for info in pkgutil.walk_packages(app.engine.__path__, prefix="app.engine.")]


def test_every_engine_module_imports_with_qt_blocked() -> None:
    modules = engine_modules()
    assert "app.engine.model" in modules and "app.engine.serialization" in modules
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, *modules], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"imported {len(modules)}"


def test_the_blocker_really_blocks_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, "PySide6.QtCore"], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "the engine imported Qt: PySide6" in result.stderr
