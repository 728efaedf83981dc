"""`voronka export --to runtime|asl|bpmn|mermaid`: every example, warnings and exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.cli import main
from app.cli.export import ENGINE_TARGETS
from app.resources import EXAMPLES

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


def _readable(target: str, text: str) -> None:
    """The output is what the target says it is."""
    if target in ("runtime", "asl"):
        document = json.loads(text)
        assert "States" in document if target == "asl" else document["format"] == "voronka.runtime"
    elif target == "bpmn":
        assert ET.fromstring(text.encode()).tag.endswith("definitions")
    else:
        assert text.startswith("flowchart ")


@pytest.mark.parametrize("target", sorted(ENGINE_TARGETS))
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_exports_to_every_target(tmp_path: Path, capsys, path: Path, target: str):
    out = tmp_path / f"out.{target}"
    assert main(["export", str(path), "--to", target, "-o", str(out)]) == 0
    _readable(target, out.read_text(encoding="utf-8"))
    assert f"{target} export of" in capsys.readouterr().err


def test_warnings_name_the_nodes_on_stderr(capsys):
    path = EXAMPLES / "abandoned_cart.json"
    assert main(["export", str(path), "--to", "asl"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["StartAt"] == "entry_cart"
    warnings = [line for line in captured.err.splitlines() if ": warning: " in line]
    assert any("offer_email, remind_email, sms_offer: the frequency cap" in w for w in warnings)
    assert any("wait_daytime: send windows" in w for w in warnings)


def test_options_reach_the_target_and_bad_ones_exit_1(tmp_path: Path, capsys):
    path = EXAMPLES / "abandoned_cart.json"
    arn = "arn:aws:lambda:eu-west-1:111122223333:function:send"
    out = tmp_path / "cart.asl.json"
    assert main(["export", str(path), "--to", "asl", "--option", f"message_resource={arn}",
                 "-o", str(out)]) == 0  # fmt: skip
    assert json.loads(out.read_text())["States"]["remind_email"]["Resource"] == arn
    capsys.readouterr()
    assert main(["export", str(path), "--to", "bpmn", "--option", "colour=red"]) == 1
    assert "has no option colour" in capsys.readouterr().err
    assert main(["export", str(path), "--to", "png", "-o", "x.png", "--option", "a=b"]) == 1
    assert "--option is for runtime, asl, bpmn, mermaid" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["export", str(path), "--to", "asl", "--option", "no-equals-sign"])
    assert caught.value.code == 2


def test_validation_errors_exit_1_with_the_problems_listed(tmp_path: Path, capsys):
    document = json.loads((EXAMPLES / "abandoned_cart.json").read_text(encoding="utf-8"))
    document["edges"] = document["edges"][1:]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    target = tmp_path / "nothing.asl.json"
    assert main(["export", str(broken), "--to", "asl", "-o", str(target)]) == 1
    assert not target.exists()
    err = capsys.readouterr().err
    assert "not exported" in err
    assert "check_sms" in err  # the node whose exit lost its edge


def test_unreadable_input_and_unwritable_output_exit_2(tmp_path: Path, capsys):
    malformed = tmp_path / "malformed.json"
    malformed.write_text("{not json", encoding="utf-8")
    assert main(["export", str(malformed), "--to", "mermaid"]) == 2
    assert "cannot be read" in capsys.readouterr().err
    nowhere = tmp_path / "missing-dir" / "out.bpmn"
    assert (
        main(["export", str(EXAMPLES / "win_back.json"), "--to", "bpmn", "-o", str(nowhere)]) == 2
    )
    assert "cannot be written" in capsys.readouterr().err
