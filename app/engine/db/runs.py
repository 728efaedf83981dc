"""Stored simulation runs: save one with its inputs and results, list them, load one back.

A run is stored in the contact database it read, so "which contacts" is the database itself
plus the segment and the data version at the time. With the scenario document, the seed, the
horizon, the start and the assumptions stored too, a run can be repeated exactly (as long as
the contacts are unchanged: compare `data_version` with the database's current one).

    run_id = save_run(engine, scenario, request, result, label="baseline")
    for summary in list_runs(engine, scenario_id=scenario.id): ...
    stored = load_run(engine, run_id)   # StoredRun: summary, scenario, assumptions, results

Comparing two runs is `app.engine.run_comparison.compare_runs`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from app.engine.db.models import SimulationRun
from app.engine.db.versioning import data_version
from app.engine.i18n import T
from app.engine.model import Scenario
from app.engine.serialization import scenario_to_dict
from app.engine.simulation import SimulationResult

if TYPE_CHECKING:  # simulation_job imports the db package, which must not import it back
    from app.engine.simulation_job import SimulationRequest

LABEL_LENGTH = 200
_SEED_RANGE = (-(2**63), 2**63 - 1)  # a signed 64-bit column


class RunError(ValueError):
    """A run that cannot be stored, or an id that names no stored run."""


@dataclass(frozen=True)
class RunSummary:
    """What a list of runs shows: the inputs that tell runs apart and the headline figures."""

    id: int
    created_at: datetime
    label: str | None
    scenario_id: str
    scenario_name: str
    scenario_hash: str
    segment: str
    horizon_days: int
    seed: int
    replications: int
    start: datetime | None
    data_version: int | None
    contacts: int
    entered: int
    converted: int
    revenue: float

    @property
    def conversion_rate(self) -> float:
        return self.converted / self.entered if self.entered else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "label": self.label,
            "scenario_id": self.scenario_id,
            "scenario_name": self.scenario_name,
            "scenario_hash": self.scenario_hash,
            "segment": self.segment,
            "horizon_days": self.horizon_days,
            "seed": self.seed,
            "replications": self.replications,
            "start": self.start.isoformat() if self.start else None,
            "data_version": self.data_version,
            "contacts": self.contacts,
            "entered": self.entered,
            "converted": self.converted,
            "conversion_rate": self.conversion_rate,
            "revenue": self.revenue,
        }


@dataclass(frozen=True)
class StoredRun:
    """A run as stored: its summary, the scenario document it ran, the assumptions and the
    results (`SimulationResult.to_dict()`, JSON)."""

    summary: RunSummary
    scenario: dict[str, Any] | None
    assumptions: dict[str, Any]
    results: dict[str, Any]

    @property
    def id(self) -> int:
        return self.summary.id

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary.to_dict(),
            "assumptions": self.assumptions,
            "scenario": self.scenario,
            "results": self.results,
        }


def scenario_hash(scenario: Scenario) -> str:
    """sha256 of the scenario document without canvas positions and without the behaviour
    assumptions saved with it: moving steps around or changing a probability keeps the hash
    (runs store and compare their assumptions themselves), any change to what the funnel does
    (or says) gives a new one."""
    document = scenario_to_dict(scenario)
    document.pop("simulation", None)
    for node in document["nodes"]:
        node.pop("position", None)
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_run(
    bind: Engine | Connection,
    scenario: Scenario,
    request: SimulationRequest,
    result: SimulationResult,
    *,
    label: str | None = None,
    created_at: datetime | None = None,
) -> int:
    """Store a finished run in the database it read its contacts from; returns its id."""
    label = (label or "").strip() or None
    if label is not None and len(label) > LABEL_LENGTH:
        raise RunError(
            str(
                T(
                    "Runs",
                    "the label is {length} characters long; at most {limit}",
                    length=len(label),
                    limit=LABEL_LENGTH,
                )
            )
        )
    if not _SEED_RANGE[0] <= request.seed <= _SEED_RANGE[1]:
        raise RunError(
            str(
                T(
                    "Runs",
                    "the seed {seed} does not fit in 64 bits and cannot be stored",
                    seed=request.seed,
                )
            )
        )
    row = {
        "created_at": created_at or datetime.now().replace(microsecond=0),
        "label": label,
        "scenario_id": scenario.id[:200],
        "scenario_name": scenario.name[:200],
        "scenario_hash": scenario_hash(scenario),
        "scenario": scenario_to_dict(scenario),
        "segment": request.segment.strip(),
        "horizon_days": request.horizon_days,
        "seed": request.seed,
        "replications": request.replications,
        "start_at": result.start.replace(tzinfo=None),
        "assumptions": request.assumptions.to_dict(),
        "contacts": result.contacts,
        "entered": result.entered,
        "converted": result.converted,
        "revenue": result.revenue,
        "results": result.to_dict(),
    }
    with _connection(bind, begin=True) as connection:
        row["data_version"] = data_version(connection)
        inserted = connection.execute(
            sa.insert(SimulationRun).values(**row).returning(SimulationRun.id)
        )
        return int(inserted.scalar_one())


_SUMMARY_COLUMNS = (
    SimulationRun.id,
    SimulationRun.created_at,
    SimulationRun.label,
    SimulationRun.scenario_id,
    SimulationRun.scenario_name,
    SimulationRun.scenario_hash,
    SimulationRun.segment,
    SimulationRun.horizon_days,
    SimulationRun.seed,
    SimulationRun.replications,
    SimulationRun.start_at,
    SimulationRun.data_version,
    SimulationRun.contacts,
    SimulationRun.entered,
    SimulationRun.converted,
    SimulationRun.revenue,
)


def list_runs(
    bind: Engine | Connection, *, scenario_id: str | None = None, limit: int | None = None
) -> list[RunSummary]:
    """Stored runs, newest first, of one scenario (by its id) or of all; the results
    themselves are not read."""
    query = sa.select(*_SUMMARY_COLUMNS).order_by(
        SimulationRun.created_at.desc(), SimulationRun.id.desc()
    )
    if scenario_id is not None:
        query = query.where(SimulationRun.scenario_id == scenario_id)
    if limit is not None:
        query = query.limit(limit)
    with _connection(bind) as connection:
        return [_summary(row) for row in connection.execute(query)]


def load_run(bind: Engine | Connection, run_id: int) -> StoredRun:
    """One stored run with its scenario, assumptions and results; RunError if there is none."""
    query = sa.select(
        *_SUMMARY_COLUMNS,
        SimulationRun.scenario,
        SimulationRun.assumptions,
        SimulationRun.results,
    ).where(SimulationRun.id == run_id)
    with _connection(bind) as connection:
        row = connection.execute(query).one_or_none()
    if row is None:
        raise RunError(str(T("Runs", "there is no stored run {id}", id=run_id)))
    return StoredRun(_summary(row), row.scenario, row.assumptions, row.results)


def _summary(row: sa.Row) -> RunSummary:
    return RunSummary(
        id=row.id,
        created_at=row.created_at,
        label=row.label,
        scenario_id=row.scenario_id,
        scenario_name=row.scenario_name,
        scenario_hash=row.scenario_hash,
        segment=row.segment,
        horizon_days=row.horizon_days,
        seed=row.seed,
        replications=row.replications,
        start=row.start_at,
        data_version=row.data_version,
        contacts=row.contacts,
        entered=row.entered,
        converted=row.converted,
        revenue=float(row.revenue),
    )


@contextmanager
def _connection(bind: Engine | Connection, *, begin: bool = False) -> Iterator[Connection]:
    """The given connection (the caller's transaction, left open), or a new one from an
    Engine, in a transaction of its own when `begin`."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.begin() if begin else bind.connect() as connection:
        yield connection
