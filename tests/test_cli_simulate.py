"""`voronka simulate`: the funnel over a real SQLite contact base, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.resources import EXAMPLES

CART = str(EXAMPLES / "abandoned_cart.json")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'contacts.db'}"
    assert main(["db", "demo", "--db", url, "--contacts", "600", "--seed", "3"]) == 0
    return url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["simulate", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_json_result_conserves_contacts_and_is_reproducible(database: str, capsys) -> None:
    options = ["--db", database, "--start", "2026-11-02", "--format", "json", "--seed", "5"]
    status, out, _ = run(capsys, CART, *options)
    assert status == 0
    result = json.loads(out)
    assert result["entered"] > 0
    ended = sum(result["outcomes"].values())
    assert ended + result["waiting"] == result["entered"]
    assert run(capsys, CART, *options)[1] == out


def test_table_shows_stages_and_steps(database: str, capsys) -> None:
    status, out, _ = run(capsys, CART, "--db", database, "--start", "2026-11-02")
    assert status == 0
    assert "Funnel stages" in out and "Cart recovered" in out and "left by exit" in out


def test_segment_and_overrides_change_the_run(database: str, capsys) -> None:
    base = ["--db", database, "--start", "2026-11-02", "--format", "json"]
    everyone = json.loads(run(capsys, CART, *base)[1])
    women = json.loads(run(capsys, CART, *base, "--segment", 'gender == "f"')[1])
    assert 0 < women["entered"] < everyone["entered"]
    sure = json.loads(run(capsys, CART, *base, "--set", "wait_purchase.happened=1")[1])
    reached = sure["nodes"]["wait_purchase"]
    assert reached["exits"].get("timeout", 0) == 0 and reached["exits"]["happened"] > 0


def test_bad_options_and_files_say_what_is_wrong(database: str, capsys, tmp_path: Path) -> None:
    status, _, err = run(capsys, CART, "--db", database, "--set", "wait_purchase=2")
    assert status == 1 and "NODE.KEY=PROBABILITY" in err
    status, _, err = run(capsys, CART, "--db", database, "--segment", "age >")
    assert status == 1 and "column" in err
    status, _, err = run(capsys, str(tmp_path / "missing.json"), "--db", database)
    assert status == 2 and "cannot be read" in err
