"""Help texts the editor shows, read from the product's own docs (no second copy to drift).

- Each validation rule's meaning and fix come from its row in docs/VALIDATION.md, so the
  Problems panel explains a code in the same words as the reference.
- Help pages are Markdown files in resources/help, one per language (`NAME.en.md`,
  `NAME.ru.md`); a language without its own page gets the English one.
No Qt here: the command line can print the same texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from app.resources import DOCS, HELP

VALIDATION_DOC = DOCS / "VALIDATION.md"
_ROW = re.compile(
    r"^\|\s*(?P<code>[A-Z]\d{3})(?P<note>[^|]*)\|(?P<meaning>[^|]*)\|(?P<fix>[^|]*)\|"
)
_HEADING = re.compile(r"^##\s+(?P<title>.+)$")
_SEVERITY_NOTE = re.compile(r"\*\((?P<severity>[a-z]+)\)\*")


@dataclass(frozen=True)
class RuleDoc:
    """One rule as docs/VALIDATION.md explains it; texts are Markdown."""

    code: str
    section: str
    meaning: str
    fix: str
    severity_note: str = ""
    section_intro: str = ""

    def markdown(self, title: str = "") -> str:
        """A self-contained page: what the problem means, how to fix it, the section's notes."""
        parts = [
            f"# {self.code}" + (f" — {title}" if title else ""),
            f"*{self.section}*" + (f" — {self.severity_note}" if self.severity_note else ""),
            f"**What it means.** {self.meaning}",
            f"**How to fix it.** {self.fix}",
        ]
        if self.section_intro:
            parts.append(self.section_intro)
        parts.append("All rules are described in docs/VALIDATION.md.")
        return "\n\n".join(parts)


@cache
def rule_docs(path: Path = VALIDATION_DOC) -> dict[str, RuleDoc]:
    """Every documented rule by code; an unreadable file gives none (tooltips then say less)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    docs: dict[str, RuleDoc] = {}
    section, intro, in_table = "", [], False
    for line in lines:
        heading = _HEADING.match(line)
        if heading:
            section, intro, in_table = heading["title"].strip(), [], False
            continue
        row = _ROW.match(line)
        if row:
            in_table = True
            note = _SEVERITY_NOTE.search(row["note"])
            docs[row["code"]] = RuleDoc(
                code=row["code"],
                section=section,
                meaning=row["meaning"].strip(),
                fix=row["fix"].strip(),
                severity_note=note["severity"] if note else "",
                section_intro=" ".join(intro).strip(),
            )
        elif section and not in_table and not line.startswith("|"):
            intro.append(line.strip())
    return docs


def rule_doc(code: str) -> RuleDoc | None:
    return rule_docs().get(code)


def help_page(name: str, language: str = "en") -> str:
    """The Markdown text of a bundled help page in `language`, else in English."""
    for candidate in (HELP / f"{name}.{language}.md", HELP / f"{name}.en.md"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise FileNotFoundError(f"no help page ‘{name}’ in {HELP}")
