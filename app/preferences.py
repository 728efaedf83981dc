"""The user's settings, typed, in one INI file under the data directory (`settings.ini`).

Everything a user chooses once and keeps lives here: language, theme, grid, autosave interval,
the default contact database, default simulation assumptions, and the recent-files list and
window layout the editor remembers. It has no Qt in it, so the command line can read it too;
`VORONKA_DATA_DIR` moves the file (tests, portable installs).

Bad values in the file (edited by hand) fall back to the defaults rather than stopping the
editor from starting; `Preferences.check()` names what is wrong for the settings dialog.
"""

from __future__ import annotations

import base64
import binascii
import configparser
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from app.engine.behaviour import AssumptionError, Assumptions
from app.engine.contact_schema import CHANNELS
from app.settings_paths import data_dir

FILE_NAME = "settings.ini"
LANGUAGES = ("system", "en", "ru")
THEMES = ("light", "dark")
MAX_RECENT = 10
# Probabilities a user may set per channel; the engine's Assumptions accepts these keys.
CHANNEL_KEYS = ("deliver", "opened", "clicked", "purchase", "purchase_after_offer", "replied")
GRID_SIZES = (5, 200)
AUTOSAVE_SECONDS = (1, 3600)
# as the Simulation dock allows
HORIZON_DAYS = (1, 365)
REPLICATIONS = (1, 200)


class PreferencesError(ValueError):
    """A setting that cannot be used, with the setting's name in the message."""


@dataclass
class SimulationDefaults:
    """What a new simulation starts with; per-channel overrides are `Assumptions.channels`."""

    horizon_days: int = 30
    seed: int = 1
    replications: int = 1
    channels: dict[str, dict[str, float]] = field(default_factory=dict)

    def assumptions(self) -> Assumptions:
        return Assumptions(channels={k: dict(v) for k, v in self.channels.items()})


@dataclass
class Preferences:
    language: str = "system"
    theme: str = "light"
    grid_visible: bool = True
    snap_to_grid: bool = True
    grid_size: int = 20
    autosave_seconds: int = 3
    # An SQLAlchemy URL or a path to an SQLite file; empty means $VORONKA_DB or the default file.
    database: str = ""
    simulation: SimulationDefaults = field(default_factory=SimulationDefaults)
    recent_files: list[str] = field(default_factory=list)
    last_folder: str = ""
    window_state: bytes = b""

    def check(self) -> list[str]:
        """What is wrong, one message per setting, in the words the settings dialog shows."""
        problems = []
        if self.language not in LANGUAGES:
            problems.append(f"language: {self.language!r} is not one of {', '.join(LANGUAGES)}")
        if self.theme not in THEMES:
            problems.append(f"theme: {self.theme!r} is not one of {', '.join(THEMES)}")
        for name, value, (low, high) in (
            ("grid size", self.grid_size, GRID_SIZES),
            ("autosave interval", self.autosave_seconds, AUTOSAVE_SECONDS),
            ("simulation horizon", self.simulation.horizon_days, HORIZON_DAYS),
            ("replications", self.simulation.replications, REPLICATIONS),
        ):
            if not low <= value <= high:
                problems.append(f"{name}: {value} is outside {low}–{high}")
        if self.simulation.seed < 0:
            problems.append(f"seed: {self.simulation.seed} must be 0 or more")
        try:
            self.database_url()
        except PreferencesError as error:
            problems.append(str(error))
        for channel, values in self.simulation.channels.items():
            unknown = set(values) - set(CHANNEL_KEYS)
            if unknown:
                problems.append(f"{channel}: unknown assumption {', '.join(sorted(unknown))}")
        try:
            self.simulation.assumptions()
        except AssumptionError as error:
            problems.append(f"simulation assumptions: {error}")
        return problems

    def database_url(self) -> str | None:
        """The chosen database as a URL (a bare path is an SQLite file), or None for the default."""
        text = self.database.strip()
        if not text:
            return None
        url = text if "://" in text else f"sqlite:///{Path(text).expanduser()}"
        try:
            make_url(url).get_dialect()
        except NoSuchModuleError:  # a subclass of ArgumentError: first
            raise PreferencesError(
                f"database: {text!r} names a kind of database Voronka cannot open "
                "(use a path to an SQLite file, or postgresql+psycopg://…)"
            ) from None
        except ArgumentError as error:
            raise PreferencesError(f"database: {text!r} is not a URL or a path ({error})") from None
        return url


def settings_file() -> Path:
    return data_dir() / FILE_NAME


def effective_language(preferences: Preferences, system_locale: str) -> str:
    """`en` or `ru`: the chosen language, or the system's (`ru_RU` → `ru`) when it is `system`."""
    if preferences.language in ("en", "ru"):
        return preferences.language
    return "ru" if system_locale.lower().startswith("ru") else "en"


# --- reading and writing -------------------------------------------------------------------


def load(path: Path | None = None) -> Preferences:
    """The saved preferences; a missing file or a bad value gives the default for it."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path or settings_file(), encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError):
        return Preferences()
    defaults = Preferences()
    general, editor = _section(parser, "general"), _section(parser, "editor")
    simulation = _section(parser, "simulation")
    files, window = _section(parser, "files"), _section(parser, "window")
    preferences = Preferences(
        language=_choice(general, "language", LANGUAGES, defaults.language),
        theme=_choice(general, "theme", THEMES, defaults.theme),
        grid_visible=_bool(editor, "grid_visible", defaults.grid_visible),
        snap_to_grid=_bool(editor, "snap_to_grid", defaults.snap_to_grid),
        grid_size=_int(editor, "grid_size", GRID_SIZES, defaults.grid_size),
        autosave_seconds=_int(editor, "autosave_seconds", AUTOSAVE_SECONDS, 3),
        database=_section(parser, "database").get("url", "").strip(),
        simulation=SimulationDefaults(
            horizon_days=_int(simulation, "horizon_days", HORIZON_DAYS, 30),
            seed=_int(simulation, "seed", (0, 2**63 - 1), 1),
            replications=_int(simulation, "replications", REPLICATIONS, 1),
            channels=_channels(parser),
        ),
        recent_files=[line for line in files.get("recent", "").splitlines() if line.strip()],
        last_folder=files.get("last_folder", ""),
        window_state=_bytes(window.get("state", "")),
    )
    if preferences.check():  # e.g. a hand-typed database URL that cannot be read
        preferences.database = ""
    return preferences


def save(preferences: Preferences, path: Path | None = None) -> None:
    """Write atomically (a temporary file, then a rename), so a crash never leaves half a file."""
    problems = preferences.check()
    if problems:
        raise PreferencesError("; ".join(problems))
    parser = configparser.ConfigParser(interpolation=None)
    parser["general"] = {"language": preferences.language, "theme": preferences.theme}
    parser["editor"] = {
        "grid_visible": _text(preferences.grid_visible),
        "snap_to_grid": _text(preferences.snap_to_grid),
        "grid_size": str(preferences.grid_size),
        "autosave_seconds": str(preferences.autosave_seconds),
    }
    parser["database"] = {"url": preferences.database}
    simulation = preferences.simulation
    parser["simulation"] = {
        "horizon_days": str(simulation.horizon_days),
        "seed": str(simulation.seed),
        "replications": str(simulation.replications),
    }
    for channel, values in sorted(simulation.channels.items()):
        if values:
            parser[f"channel.{channel}"] = {k: repr(float(v)) for k, v in sorted(values.items())}
    parser["files"] = {
        "recent": "\n".join(preferences.recent_files),
        "last_folder": preferences.last_folder,
    }
    parser["window"] = {"state": base64.b64encode(preferences.window_state).decode("ascii")}
    target = path or settings_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    with temp.open("w", encoding="utf-8") as handle:
        parser.write(handle)
    temp.replace(target)


def update(**changes: object) -> Preferences:
    """Load, change some fields, save; returns what was saved."""
    names = {f.name for f in fields(Preferences)}
    unknown = set(changes) - names
    if unknown:
        raise PreferencesError(f"unknown settings: {', '.join(sorted(unknown))}")
    preferences = replace(load(), **changes)
    save(preferences)
    return preferences


# --- recent files --------------------------------------------------------------------------


def recent_files(include_missing: bool = True) -> list[Path]:
    """Most recent first; missing files stay listed (the welcome screen shows them greyed)."""
    paths = [Path(p) for p in load().recent_files]
    return paths if include_missing else [p for p in paths if p.exists()]


def remember_recent(path: Path) -> None:
    path = path.resolve()
    kept = [p for p in load().recent_files if Path(p) != path]
    update(recent_files=[str(path), *kept][:MAX_RECENT], last_folder=str(path.parent))


def forget_recent(path: Path) -> None:
    update(recent_files=[p for p in load().recent_files if Path(p) != path])


# --- parsing helpers -----------------------------------------------------------------------


def _section(parser: configparser.ConfigParser, name: str) -> configparser.SectionProxy | dict:
    return parser[name] if parser.has_section(name) else {}


def _choice(section, key: str, choices: tuple[str, ...], default: str) -> str:
    value = section.get(key, default).strip()
    return value if value in choices else default


def _bool(section, key: str, default: bool) -> bool:
    value = section.get(key, "").strip().lower()
    if value in ("true", "yes", "on", "1"):
        return True
    if value in ("false", "no", "off", "0"):
        return False
    return default


def _int(section, key: str, bounds: tuple[int, int], default: int) -> int:
    try:
        value = int(section.get(key, ""))
    except ValueError:
        return default
    return value if bounds[0] <= value <= bounds[1] else default


def _channels(parser: configparser.ConfigParser) -> dict[str, dict[str, float]]:
    channels: dict[str, dict[str, float]] = {}
    for channel in CHANNELS:
        section = _section(parser, f"channel.{channel}")
        values = {}
        for key in CHANNEL_KEYS:
            try:
                value = float(section.get(key, ""))
            except ValueError:
                continue
            if 0 <= value <= 1:
                values[key] = value
        if values:
            channels[channel] = values
    return channels


def _bytes(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return b""


def _text(value: bool) -> str:
    return "true" if value else "false"
