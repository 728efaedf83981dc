"""Where the bundled resources (examples, schemas, translations) live.

The project installs in editable mode (`pip install -e .`), so `resources/` stays beside `app/`.
"""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
EXAMPLES = RESOURCES / "examples"
SCHEMAS = RESOURCES / "schema"
TRANSLATIONS = RESOURCES / "translations"
