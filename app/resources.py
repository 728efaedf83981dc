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
TRANSLATIONS = RESOURCES / "translations"


def example_names() -> list[str]:
    """Bundled examples by file stem (`abandoned_cart`), in English file order."""
    return sorted(path.stem for path in EXAMPLES.glob("*.json"))


def example_path(name: str, language: str = "en") -> Path:
    """The example `name` written in `language` (`resources/examples/ru/…`), else English."""
    if language != "en":
        translated = EXAMPLES / language / f"{name}.json"
        if translated.is_file():
            return translated
    return EXAMPLES / f"{name}.json"
