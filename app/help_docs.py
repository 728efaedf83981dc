"""Help texts the editor shows, read from the product's own docs (no second copy to drift).

- Each validation rule's meaning and fix come from its row in docs/VALIDATION.md, so the
  Problems panel explains a code in the same words as the reference; in another language from
  the translated file (`docs/VALIDATION.ru.md`, same rows and codes), and a language or a rule
  that file lacks gets the English row.
- Help pages are Markdown files in resources/help, one per language (`NAME.en.md`,
  `NAME.ru.md`); a language without its own page gets the English one.
No Qt here: the command line can print the same texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from app.engine.i18n import T, Translate
from app.resources import DOCS, HELP

_ROW = re.compile(
    r"^\|\s*(?P<code>[A-Z]\d{3})(?P<note>[^|]*)\|(?P<meaning>[^|]*)\|(?P<fix>[^|]*)\|"
)
_HEADING = re.compile(r"^##\s+(?P<title>.+)$")
_SEVERITY_NOTE = re.compile(r"\*\((?P<severity>\w+)\)\*")  # `*(warning)*`, `*(предупреждение)*`
# The fixed words of a rule's page, in the language of the page (the `translate` it is given).
_MEANING = T("Help", "What it means.")
_FIX = T("Help", "How to fix it.")
_ALL_RULES = T("Help", "All rules are described in {file}.")


@dataclass(frozen=True)
class RuleDoc:
    """One rule as docs/VALIDATION.md (or its translation) explains it; texts are Markdown."""

    code: str
    section: str
    meaning: str
    fix: str
    severity_note: str = ""
    section_intro: str = ""
    source: str = "docs/VALIDATION.md"

    def markdown(self, title: str = "", translate: Translate | None = None) -> str:
        """A self-contained page: what the problem means, how to fix it, the section's notes.

        `translate` gives the page's fixed words in the language of the row (None: the
        language installed, see `app.engine.i18n`)."""
        parts = [
            f"# {self.code}" + (f" — {title}" if title else ""),
            f"*{self.section}*" + (f" — {self.severity_note}" if self.severity_note else ""),
            f"**{_MEANING.render(translate)}** {self.meaning}",
            f"**{_FIX.render(translate)}** {self.fix}",
        ]
        if self.section_intro:
            parts.append(self.section_intro)
        parts.append(_ALL_RULES.with_args(file=self.source).render(translate))
        return "\n\n".join(parts)


def validation_doc(language: str = "en") -> Path:
    """docs/VALIDATION.md, or its translation into `language` (`docs/VALIDATION.ru.md`)."""
    return DOCS / ("VALIDATION.md" if language == "en" else f"VALIDATION.{language}.md")


def rule_docs(language: str = "en") -> dict[str, RuleDoc]:
    """Every rule the file of `language` explains, by code (no English fallback here)."""
    return _read_rules(validation_doc(language))


def rule_doc(code: str, language: str = "en") -> RuleDoc | None:
    """The rule explained in `language`, else in English; None if neither file has its row."""
    return rule_docs(language).get(code) or rule_docs("en").get(code)


@cache
def _read_rules(path: Path) -> dict[str, RuleDoc]:
    """The rule rows of one file; a missing or unreadable file gives none (the caller then
    falls back to English, and tooltips say less)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    source = f"{path.parent.name}/{path.name}"
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
                source=source,
            )
        elif section and not in_table and not line.startswith("|"):
            intro.append(line.strip())
    return docs


def help_page(name: str, language: str = "en") -> str:
    """The Markdown text of a bundled help page in `language`, else in English."""
    for candidate in (HELP / f"{name}.{language}.md", HELP / f"{name}.en.md"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise FileNotFoundError(f"no help page ‘{name}’ in {HELP}")
