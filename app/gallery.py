"""The template gallery: the bundled example funnels, with a name and one sentence each.

The name and the sentence come from the scenario file itself (its name and the first sentence
of its description), so a template translated into another language brings its own words.
The five funnel types by goal (qualification, pre-sales, active base, win-back, post-sales) come
first, in the order a business meets them; the trigger mechanics and the product matrix follow.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from app.resources import EXAMPLES

# Funnel types by goal (docs: DOMAIN.md, "Funnel types by goal") and the template of each.
GOALS: dict[str, str] = {
    "qualification": "bant_qualification",
    "pre_sales": "pre_sales",
    "active_base": "active_base",
    "win_back": "win_back",
    "post_sales": "post_sale_nps",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZА-ЯЁ«“‘])")


@dataclass(frozen=True)
class Template:
    path: Path
    name: str
    summary: str
    goal: str | None  # a key of GOALS, or None for the trigger and product-matrix funnels


def first_sentence(text: str) -> str:
    """The description's first sentence (a summary must not cut a sentence in half)."""
    text = " ".join(text.split())
    return _SENTENCE_END.split(text, maxsplit=1)[0] if text else ""


def _name_from(path: Path) -> str:
    return path.stem.replace("_", " ").capitalize()


def templates(folder: Path = EXAMPLES, language: str = "en") -> list[Template]:
    """The gallery in display order; a file that cannot be read is left out, not fatal.
    Each template is in `language` where a translation exists (`resources/examples/ru/`),
    else in English.

    Only the name and description are read here (plain JSON, no schema check: a third of a
    second for ten files); choosing a template loads it fully, with every check."""
    goal_of = {stem: goal for goal, stem in GOALS.items()}
    found = []
    for english in sorted(folder.glob("*.json")):
        translated = folder / language / english.name
        path = translated if language != "en" and translated.is_file() else english
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(data, dict) or data.get("format") != "voronka.scenario":
            continue
        name, description = data.get("name"), data.get("description")
        found.append(
            Template(
                path=path,
                name=name if isinstance(name, str) and name else _name_from(path),
                summary=first_sentence(description if isinstance(description, str) else ""),
                goal=goal_of.get(path.stem),
            )
        )
    order = list(GOALS)
    return sorted(
        found,
        key=lambda t: (t.goal is None, order.index(t.goal) if t.goal else 0, t.name.casefold()),
    )
