"""One simulation as the CLI and the editor run it: read the population, then simulate.

Both front ends go through `run_simulation`, so the editor's overlay shows exactly the numbers
`voronka simulate` prints for the same inputs. A `progress` callback reports each phase and may
raise `SimulationCancelled` to stop between phases (reading, each replication).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.engine import expressions
from app.engine.behaviour import Assumptions
from app.engine.contact_schema import ContactSchema
from app.engine.db import contact_schema, open_database, read_columns
from app.engine.db.models import Contact
from app.engine.i18n import T, current_locale
from app.engine.locale_format import format_number
from app.engine.model import Scenario
from app.engine.simulation import SimulationResult, simulate

# (what is happening, share done 0–1)
Progress = Callable[[str, float], None]
READ_SHARE = 0.3  # of the progress bar given to reading contacts


class SimulationCancelled(Exception):
    """The user stopped the run; nothing is reported."""


@dataclass(frozen=True)
class SimulationRequest:
    """Everything a run depends on besides the scenario: same request, same numbers."""

    database: str | None = None  # a URL; None is $VORONKA_DB or the default local file
    segment: str = ""
    horizon_days: int = 30
    seed: int = 1
    replications: int = 1
    start: datetime | None = None
    assumptions: Assumptions = field(default_factory=Assumptions)


@dataclass
class Population:
    """The contacts a run walks, as columns, with their database ids in walk order (a
    contact's position here keys its random draws, so a preview can repeat its walk)."""

    columns: dict[str, np.ndarray]
    count: int
    ids: np.ndarray
    schema: ContactSchema

    def index_of(self, contact_id: int) -> int | None:
        found = np.flatnonzero(self.ids == contact_id)
        return int(found[0]) if found.size else None


def read_population(engine: Engine, segment: str = "") -> Population:
    """Every contact's columns in id order, narrowed to `segment` when one is given.

    Raises `expressions.ExpressionError` for a segment that does not parse or check.
    """
    schema = contact_schema(engine)
    columns = dict(read_columns(engine))
    count = len(next(iter(columns.values()))) if columns else 0
    with engine.connect() as connection:
        ids = np.fromiter(
            connection.execute(sa.select(Contact.id).order_by(Contact.id)).scalars(),
            dtype=np.int64,
            count=count,
        )
    if segment.strip():
        condition = expressions.compile_condition(segment, schema).expr
        mask = expressions.evaluate_columns(condition, columns, count, schema)
        columns = {key: np.asarray(values)[mask] for key, values in columns.items()}
        ids = ids[mask]
        count = int(mask.sum())
    return Population(columns, count, ids, schema)


def run_simulation(
    scenario: Scenario, request: SimulationRequest, progress: Progress | None = None
) -> tuple[SimulationResult, Population]:
    """Read the population the request names and simulate the scenario over it.

    Raises DatabaseError, ExpressionError, SimulationError, AssumptionError with messages
    meant for the user, or SimulationCancelled when `progress` raised it.
    """
    report = progress or (lambda _text, _share: None)
    report(str(T("Simulation", "Reading contacts…")), 0.0)
    engine = open_database(request.database)
    try:
        population = read_population(engine, request.segment)
    finally:
        engine.dispose()
    total = request.replications

    def replication_done(done: int, _total: int) -> None:
        share = READ_SHARE + (1 - READ_SHARE) * done / total
        count = format_number(population.count, current_locale() or "en")
        if done >= total:
            text = T("Simulation", "Done")
        elif total > 1:
            text = T(
                "Simulation",
                "Simulating {count} contacts — run {run} of {total}…",
                count=count,
                run=done + 1,
                total=total,
            )
        else:
            text = T("Simulation", "Simulating {count} contacts…", count=count)
        report(str(text), share)

    result = simulate(
        scenario,
        population.columns,
        request.assumptions,
        horizon_days=request.horizon_days,
        seed=request.seed,
        replications=request.replications,
        start=request.start,
        n=population.count,
        schema=population.schema,
        progress=replication_done,
    )
    return result, population
