"""Where Voronka keeps per-user files: recovery copies, the default database, settings.

`VORONKA_DATA_DIR` overrides the platform's data directory (tests, portable installs).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    override = os.environ.get("VORONKA_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir("voronka", "Voronka"))


def recovery_dir() -> Path:
    return data_dir() / "recovery"


def recovery_files() -> list[Path]:
    """Recovery copies left by sessions that did not close cleanly, newest first."""
    folder = recovery_dir()
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
