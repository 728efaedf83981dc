"""Translatable texts for a Qt-free engine.

The engine writes every text a user reads as `T(context, source, **args)`: a `Msg` that keeps
its English template and arguments and is turned into words only when shown, by whatever
translate function is installed (English by default; the editor and the CLI install Qt's
translator, see `app/i18n.py`). So a `Problem` keeps its code and formatting arguments, the
engine never imports Qt, and `tools/translations.py` finds every `T("…", "…")` call and every
catalog label to put them in the Qt `.ts` sources.

Templates use `str.format` fields (`{step}`); arguments that are themselves `Msg`s are
rendered in the same language. `%n` with `n=` is a plural: Qt picks the Russian form, and
English writes `day(s)` as `day`/`days`.
"""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Translate = Callable[[str, str, int], str]
"""(context, English source, plural count or -1) → the template in the current language."""

_PLURAL = re.compile(r"\((s|es)\)")


def english_plural(text: str, n: int) -> str:
    """`%n day(s)` read in English: the `(s)` goes for one, stays (unbracketed) for others."""
    return _PLURAL.sub("" if n == 1 else r"\1", text)


def english(context: str, source: str, n: int = -1) -> str:
    """The untranslated template: the English source itself, with `%n` filled in."""
    if n < 0:
        return source
    return english_plural(source.replace("%n", str(n)), n)


_translate: Translate = english
_locale: str | None = None
_on_change: list[Callable[[], None]] = []


def install(translate: Translate | None, locale: str | None = None) -> None:
    """Make `translate` the language every `Msg` is shown in (None: back to English), and
    `locale` (`ru`, `en_US`) the one numbers and money follow (None: each currency's own).

    Caches of rendered words (summaries, condition words) register with `on_change` and are
    emptied, so nothing stays in the previous language.
    """
    global _translate, _locale
    _translate = translate or english
    _locale = locale
    for clear in _on_change:
        clear()


def current_locale() -> str | None:
    return _locale


def on_change(cached: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for an `lru_cache`d function of words: emptied when the language changes."""
    _on_change.append(cached.cache_clear)  # type: ignore[attr-defined]
    return cached


def localized(context: str, source: str, n: int = -1) -> str:
    """A fixed text (a catalog label, a help line) in the current language, not formatted."""
    return _translate(context, source, n)


@dataclass(frozen=True, slots=True)
class Msg:
    """A text to show: context and English template, arguments, optional plural count."""

    context: str
    source: str
    args: tuple[tuple[str, Any], ...] = ()
    n: int = -1

    def render(self, translate: Translate | None = None) -> str:
        translate = translate or _translate
        values = {k: v.render(translate) if isinstance(v, Msg) else v for k, v in self.args}
        template = translate(self.context, self.source, self.n)
        if not values:
            return template  # no fields: braces in the text are literal
        try:
            return self._fill(template, values)
        except (KeyError, IndexError, ValueError):
            # A translation that names a field the source does not have: show the English.
            return self._fill(english(self.context, self.source, self.n), values)

    @staticmethod
    def _fill(template: str, values: dict[str, Any]) -> str:
        return template.format(**values)

    def __str__(self) -> str:
        return self.render()

    def with_args(self, **args: Any) -> Msg:
        """The same text with (more) arguments bound, e.g. a table entry filled in."""
        return dataclasses.replace(self, args=(*self.args, *args.items()))

    def arg(self, name: str) -> Any:
        return dict(self.args).get(name)


class DollarMsg(Msg):
    """A `Msg` whose fields are `${name}`, for texts full of braces (template syntax)."""

    __slots__ = ()

    @staticmethod
    def _fill(template: str, values: dict[str, Any]) -> str:
        return string.Template(template).substitute(values)


def T(context: str, source: str, count: int = -1, /, **args: Any) -> Msg:
    """Mark a text for translation. `context` groups it for translators (a rule's code, a
    module's subject); `source` must be a literal so the extractor finds it; `count` makes it
    a plural (`%n day(s)`)."""
    return Msg(context, source, tuple(args.items()), count)


def Tpl(context: str, source: str, /, **args: Any) -> Msg:
    """Like `T`, with `${name}` fields: `{% ${tag} %}` needs no doubled braces."""
    return DollarMsg(context, source, tuple(args.items()))


def join(parts: list[Any], separator: str = ", ") -> str:
    """Items (texts or `Msg`s) joined in the current language."""
    return separator.join(str(p) for p in parts)
