"""Stored simulation runs: save, list, load and compare, on SQLite and PostgreSQL, and the
`voronka simulate --save` / `voronka runs` commands over a real demo base."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import pytest
import sqlalchemy as sa
from test_db import database_url_fixture, engine_fixture, postgres_url_fixture  # noqa: F401
from test_simulation import population

from app.cli import main
from app.engine.behaviour import Assumptions
from app.engine.db.models import SimulationRun
from app.engine.db.runs import RunError, list_runs, load_run, save_run, scenario_hash
from app.engine.db.session import create_database_engine, migrate, open_database
from app.engine.flow import FlowFigures
from app.engine.run_comparison import assumption_changes, compare_results, compare_runs
from app.engine.serialization import load_scenario
from app.engine.simulation import SimulationResult, simulate
from app.engine.simulation_job import SimulationRequest
from app.resources import EXAMPLES

CART = EXAMPLES / "abandoned_cart.json"
START = datetime(2026, 3, 2, 8, 30)
PEOPLE = population(400, seed=4)


def _run(scenario, **request_fields):
    request = SimulationRequest(start=START, **request_fields)
    result = simulate(
        scenario,
        PEOPLE,
        request.assumptions,
        horizon_days=request.horizon_days,
        seed=request.seed,
        replications=request.replications,
        start=START,
    )
    return request, result


def test_a_run_is_stored_listed_and_loaded_back_as_it_was(engine: sa.Engine) -> None:
    cart = load_scenario(CART).scenario
    request, result = _run(cart, segment="age >= 30", seed=2**63 - 1, replications=3)
    first = save_run(engine, cart, request, result, label="  baseline  ")
    other = load_scenario(EXAMPLES / "win_back.json").scenario
    second = save_run(engine, other, *_run(other, horizon_days=20))

    newest_first = list_runs(engine)
    assert [run.id for run in newest_first] == [second, first]
    (mine,) = list_runs(engine, scenario_id=cart.id)
    assert mine.id == first and mine.label == "baseline" and mine.segment == "age >= 30"
    assert (mine.seed, mine.replications, mine.horizon_days) == (2**63 - 1, 3, 30)
    assert (mine.entered, mine.converted) == (result.entered, result.converted)
    assert mine.revenue == pytest.approx(result.revenue)
    assert mine.start == START and mine.contacts == len(PEOPLE)
    assert mine.scenario_hash == scenario_hash(cart) and mine.data_version is not None

    stored = load_run(engine, first)
    assert stored.results == json.loads(json.dumps(result.to_dict()))
    assert stored.assumptions == request.assumptions.to_dict()
    assert stored.scenario["id"] == cart.id and stored.summary == mine
    assert list_runs(engine, scenario_id="no such funnel") == []
    with pytest.raises(RunError, match="no stored run 999"):
        load_run(engine, 999)


def test_a_stored_result_comes_back_as_a_result_that_draws_the_same(engine: sa.Engine) -> None:
    cart = load_scenario(CART).scenario
    request, result = _run(cart, seed=5, replications=2)
    stored = load_run(engine, save_run(engine, cart, request, result))
    again = SimulationResult.from_dict(stored.results)
    assert again.to_dict() == stored.results
    assert again.nodes == result.nodes and again.start == result.start
    assert FlowFigures.from_result(again, cart) == FlowFigures.from_result(result, cart)


def test_what_cannot_be_stored_is_refused_with_the_reason(engine: sa.Engine) -> None:
    cart = load_scenario(CART).scenario
    request, result = _run(cart, seed=2**64)
    with pytest.raises(RunError, match="64 bits"):
        save_run(engine, cart, request, result)
    request, result = _run(cart)
    with pytest.raises(RunError, match="at most 200"):
        save_run(engine, cart, request, result, label="x" * 201)
    assert list_runs(engine) == []


def test_the_scenario_hash_ignores_positions_and_behaviour_assumptions_only() -> None:
    cart = load_scenario(CART).scenario
    moved = copy.deepcopy(cart)
    for node in moved.nodes.values():
        node.position = (node.position[0] + 40, node.position[1] - 12)
    moved.extra["simulation"] = {"nodes": {"wait_purchase": {"happened": 0.9}}}
    assert scenario_hash(moved) == scenario_hash(cart)
    moved.nodes["wait_purchase"].params["timeout"] = "P5D"
    assert scenario_hash(moved) != scenario_hash(cart)


def test_comparison_gives_differences_per_figure_stage_and_step(engine: sa.Engine) -> None:
    cart = load_scenario(CART).scenario
    base = save_run(engine, cart, *_run(cart))
    sure = Assumptions(nodes={"wait_purchase": {"happened": 1.0}})
    boosted = save_run(engine, cart, *_run(cart, assumptions=sure, replications=4))
    a, b = load_run(engine, base), load_run(engine, boosted)

    same = compare_runs(a, a)
    assert same.inputs == [] and not any(change.changed for change in same.headline)
    assert not any(node.changed for node in same.nodes)

    comparison = compare_runs(a, b)
    assert (comparison.a_id, comparison.b_id) == (base, boosted)
    assert {change.name for change in comparison.inputs} == {"replications", "assumptions"}
    converted = next(c for c in comparison.headline if c.name == "converted")
    mean = b.results["replications"]["converted"]["mean"]
    assert converted.a == a.results["converted"] and converted.b == mean
    assert converted.delta == pytest.approx(mean - a.results["converted"])
    assert converted.b_range is not None and converted.overlap is False
    wait = next(node for node in comparison.nodes if node.node == "wait_purchase")
    timeouts = next(change for change in wait.exits if change.name == "timeout")
    assert timeouts.b == 0 and timeouts.a == a.results["nodes"]["wait_purchase"]["exits"]["timeout"]
    assert wait.title == cart.nodes["wait_purchase"].display_title
    assert [node.node for node in comparison.nodes] == b.results["node_ids"]
    (stage,) = comparison.stages
    assert stage.conversions.b == b.results["replications"][f"stage:{stage.stage}"]["mean"]
    assert json.loads(json.dumps(comparison.to_dict()))["b"] == boosted


def test_steps_only_one_version_has_compare_against_nothing() -> None:
    cart = load_scenario(CART).scenario
    _, before = _run(cart)
    edited = copy.deepcopy(before.to_dict())
    gone = edited["nodes"].pop("tag_lost")
    edited["node_ids"].remove("tag_lost")
    comparison = compare_results(before.to_dict(), edited)
    (tag,) = [node for node in comparison.nodes if node.node == "tag_lost"]
    assert tag.entered.a == gone["entered"] and tag.entered.b is None
    assert tag.entered.delta is None and tag.entered.relative is None


def test_an_old_runs_table_is_upgraded_and_its_rows_kept(database_url: str) -> None:
    old = create_database_engine(database_url)
    migrate(old, "0003")
    with old.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO simulation_runs (scenario_hash, parameters, seed, results, "
                "created_at) VALUES ('abc', '{}', 5, :results, :at)"
            ),
            {"results": json.dumps({"entered": 3}), "at": datetime(2025, 1, 2)},
        )
    old.dispose()
    engine = open_database(database_url)
    try:
        (run,) = list_runs(engine)
        assert (run.seed, run.scenario_hash, run.horizon_days, run.label) == (5, "abc", 30, None)
        assert load_run(engine, run.id).results == {"entered": 3}
        with engine.connect() as connection:
            assert connection.scalar(sa.select(SimulationRun.assumptions)) == {}
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- the commands


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('runs') / 'contacts.db'}"
    assert main(["db", "demo", "--db", url, "--contacts", "500", "--seed", "2"]) == 0
    return url


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_simulate_saves_and_runs_lists_shows_and_compares(demo_url: str, capsys) -> None:
    common = ["--db", demo_url, "--start", "2026-11-02"]
    status, out, _ = _cli(capsys, "simulate", str(CART), *common, "--save", "--label", "base")
    assert status == 0 and "Saved as run 1." in out
    status, out, _ = _cli(
        capsys, "simulate", str(CART), *common, "--save", "--format", "json",
        "--set", "wait_purchase.happened=0.9",
    )  # fmt: skip
    assert status == 0 and json.loads(out)["run_id"] == 2

    status, out, _ = _cli(capsys, "runs", "list", str(CART), "--db", demo_url)
    assert status == 0 and "base" in out and "Runs of" in out
    status, out, _ = _cli(capsys, "runs", "list", "--db", demo_url, "--format", "json")
    assert [run["id"] for run in json.loads(out)] == [2, 1]

    status, out, _ = _cli(capsys, "runs", "show", "1", "--db", demo_url)
    assert status == 0 and "Run 1" in out and "Funnel stages" in out and "Steps" in out
    status, out, _ = _cli(capsys, "runs", "show", "1", "--db", demo_url, "--format", "json")
    shown = json.loads(out)
    assert shown["label"] == "base" and shown["results"]["entered"] == shown["entered"]

    status, out, _ = _cli(capsys, "runs", "compare", "1", "2", "--db", demo_url)
    assert status == 0 and "Inputs that differ" in out and "wait_purchase" in out
    assert "Steps that differ" in out
    status, out, _ = _cli(capsys, "runs", "compare", "1", "2", "--db", demo_url, "--format", "json")
    compared = json.loads(out)
    assert (compared["a"], compared["b"]) == (1, 2)
    assert [i["name"] for i in compared["inputs"]] == ["assumptions"]


def test_run_commands_say_what_is_wrong(demo_url: str, capsys) -> None:
    status, _, err = _cli(capsys, "runs", "show", "77", "--db", demo_url)
    assert status == 1 and "no stored run 77" in err
    status, _, err = _cli(capsys, "simulate", str(CART), "--db", demo_url, "--label", "x")
    assert status == 1 and "--save" in err
    status, _, err = _cli(capsys, "runs", "list", "missing.json", "--db", demo_url)
    assert status == 2 and "cannot be read" in err


def test_assumption_changes_name_each_setting_that_differs() -> None:
    first = {"nodes": {"wait": {"happened": 0.5}}, "channels": {}, "event_entry": "history"}
    second = {
        "nodes": {"wait": {"happened": 0.9}, "offer": {"delivered": 0.8}},
        "channels": {"email": {"open": 0.4}},
        "event_entry": "history",
    }
    assert assumption_changes(first, second) == [
        (("nodes", "wait", "happened"), 0.5, 0.9),
        (("nodes", "offer", "delivered"), None, 0.8),
        (("channels", "email", "open"), None, 0.4),
    ]
    assert assumption_changes(second, second) == []
    assert assumption_changes(None, {"event_rates": {}}) == []
