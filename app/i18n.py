"""The interface language: which one, and loading Qt's translators for it (QtCore only).

The language is the `language` preference ("system", "en" or "ru"), else the system locale;
`VORONKA_LANG` overrides both (tests, screenshots, a CI that wants English). It is chosen once
at start: widgets take their texts when built, so a change applies after a restart.

The editor installs the translators on the application, so `tr()` everywhere and the engine's
texts (`app.engine.i18n.Msg`, rendered through `qt_translate`) follow. The CLI has no
application: it reads the same `.qm` through a QTranslator of its own (`cli_translate`), so
there is one catalog, and Russian plural forms come from Qt for both.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import (
    QCoreApplication,
    QLibraryInfo,
    QLocale,
    QTranslator,
)

from app.engine import i18n
from app.engine.i18n import english_plural
from app.resources import TRANSLATIONS

LANGUAGES = ("en", "ru")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
CATALOG = "voronka"
_installed: list[QTranslator] = []


def system_language() -> str:
    """The first UI language of the system Voronka speaks, else English."""
    for name in QLocale.system().uiLanguages():
        language = name.replace("-", "_").split("_")[0].lower()
        if language in LANGUAGES:
            return language
    return "en"


def preferred_language() -> str:
    """The stored preference: "system", "en" or "ru" (the settings dialog's `language`)."""
    from app import preferences  # imported here: preferences is light, but Qt-free callers

    value = preferences.load().language
    return str(value) if value in LANGUAGES else "system"


def chosen_language(preference: str | None = None) -> str:
    """The language to run in: `VORONKA_LANG`, else the preference, else the system's."""
    override = os.environ.get("VORONKA_LANG", "").strip().lower()
    if override in LANGUAGES:
        return override
    preference = preference if preference is not None else preferred_language()
    return preference if preference in LANGUAGES else system_language()


def locale_name(language: str) -> str:
    """The QLocale numbers and dates follow: `ru_RU`, `en_US`."""
    return {"ru": "ru_RU", "en": "en_US"}.get(language, "en_US")


def qm_path(language: str) -> str:
    return str(TRANSLATIONS / f"{CATALOG}_{language}.qm")


def qt_translate(context: str, source: str, n: int = -1) -> str:
    """`app.engine.i18n.Translate` over the application's installed translators."""
    text = QCoreApplication.translate(context, source, None, n)
    return english_plural(text, n) if n >= 0 else text


def plural(text: str, n: int) -> str:
    """A plural UI text after `tr("%n step(s)", "", n)`: Russian forms come from the catalog;
    untranslated English reads `(s)` as `s` or nothing."""
    return english_plural(text, n)


def _load(language: str) -> list[QTranslator]:
    """Voronka's catalog and Qt's own (standard buttons, dialogs) for `language`."""
    loaded = []
    own = QTranslator()
    if own.load(qm_path(language)):
        loaded.append(own)
    qt_own = QTranslator()
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt_own.load(f"qtbase_{language}", qt_dir):
        loaded.append(qt_own)
    return loaded


def install_language(language: str) -> None:
    """Translate the running application into `language` ("en" removes translations)."""
    remove_language()
    QLocale.setDefault(QLocale(locale_name(language)))
    if language != "en":
        for translator in _load(language):
            QCoreApplication.installTranslator(translator)
            _installed.append(translator)
    i18n.install(qt_translate, locale_name(language))


def remove_language() -> None:
    """Back to the English sources (tests switch languages within one process)."""
    while _installed:
        QCoreApplication.removeTranslator(_installed.pop())
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    i18n.install(None)


def current_language() -> str:
    return "ru" if _installed else "en"


def cli_translate(language: str) -> Callable[[str, str, int], str]:
    """A translate function for headless commands: no QCoreApplication needed."""
    translators = _load(language) if language != "en" else []

    def translate(context: str, source: str, n: int = -1) -> str:
        text = next(
            (t for tr in translators if (t := tr.translate(context, source, None, n))), source
        )
        return english_plural(text.replace("%n", str(n)), n) if n >= 0 else text

    return translate


def install_cli_language() -> str:
    """Choose and install the language for a headless command; returns it."""
    language = chosen_language()
    if language == "en":
        i18n.install(None)
    else:
        i18n.install(cli_translate(language), locale_name(language))
    return language
