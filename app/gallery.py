"""The template gallery: the bundled example funnels, with a name and one sentence each.

The name and the sentence come from the scenario file itself (its name and the first sentence
of its description), so a template translated into another language brings its own words.
The five funnel types by goal (qualification, pre-sales, active base, win-back, post-sales) come
first, in the order a business meets them; the trigger mechanics and the product matrix follow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from app.engine.serialization import ScenarioFileError, load_scenario
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


def templates(folder: Path = EXAMPLES) -> list[Template]:
    """The gallery in display order; a file that cannot be read is left out, not fatal."""
    goal_of = {stem: goal for goal, stem in GOALS.items()}
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            scenario = load_scenario(path).scenario
        except ScenarioFileError:
            continue
        found.append(
            Template(
                path=path,
                name=scenario.name or path.stem.replace("_", " ").capitalize(),
                summary=first_sentence(scenario.description),
                goal=goal_of.get(path.stem),
            )
        )
    order = list(GOALS)
    return sorted(
        found,
        key=lambda t: (t.goal is None, order.index(t.goal) if t.goal else 0, t.name.casefold()),
    )
