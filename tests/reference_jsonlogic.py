"""Run JsonLogic rules through the reference implementation, json-logic-js, under Node."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

VALIDATORS = Path(__file__).resolve().parents[1] / "tools" / "validators"


def run_jsonlogic(items: list[dict]) -> list[dict]:
    """All rules through the reference json-logic-js in one Node process."""
    if not (VALIDATORS / "node_modules" / "json-logic-js").is_dir():
        pytest.skip("json-logic-js missing: npm ci --prefix tools/validators --no-audit --no-fund")
    completed = subprocess.run(
        ["node", str(VALIDATORS / "jsonlogic_eval.js")],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(completed.stdout)
