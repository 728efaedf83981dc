"""Where the bundled resources (examples, schemas, help pages, translations) live.

The project installs in editable mode (`pip install -e .`), so `resources/` stays beside `app/`.
"""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
EXAMPLES = RESOURCES / "examples"
SCHEMAS = RESOURCES / "schema"
HELP = RESOURCES / "help"
# The product's reference docs (docs/VALIDATION.md explains each problem code in the editor).
DOCS = RESOURCES.parent / "docs"
