"""The Mermaid export: well-formed line by line, and Mermaid's own parser reads back the graph.

The Node check runs Mermaid's real flowchart grammar (tools/validators/mermaid_parse.mjs) and
compares what it understood — node ids, shapes, decoded label text, edges and their labels —
with the scenario, for every example and for titles written to break out of a label.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pytest

from app.engine.model import Edge, Node, Scenario
from app.engine.serialization import load_scenario
from app.exporters.base import ExportOptionError
from app.exporters.mermaid import dumps_mermaid, escape
from app.resources import EXAMPLES

VALIDATORS = Path(__file__).resolve().parents[1] / "tools" / "validators"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))
HOSTILE_TITLES = [
    'He said "hi" | ] } ) -->',
    "%%{init: {'theme': 'dark'}}%% end",
    "<script>alert(1)</script> &amp; `markdown` **bold**",
    "line one\nline two\tand a tab; #35; #quot;",
    "Корзина №5 — скидка 10 % ≥ 1000 ₽",
    "end",
]
_NODE = re.compile(r'^  (n_\w+)(\(\["|\{"|\{\{"|\["|>")(.*?)("\]\)|"\}|"\}\}|"\])$')
_EDGE = re.compile(r'^  (n_\w+) -->(?:\|"([^"|]*)"\|)? (n_\w+)$')


def _scenario(path: Path) -> Scenario:
    return load_scenario(path).scenario


def _hostile() -> Scenario:
    scenario = Scenario(id="hostile", name='Names "that" %% break <things>')
    scenario.add_node(Node("start", "entry.segment", HOSTILE_TITLES[0], {"condition": ""}))
    scenario.add_node(
        Node(
            "check",
            "switch",
            HOSTILE_TITLES[1],
            {
                "cases": [
                    {"id": "a", "label": HOSTILE_TITLES[2], "condition": "age > 1"},
                    {"id": "b", "label": 'B "|" b', "condition": 'city == "x|y"'},
                ]
            },
        )
    )
    for index, title in enumerate(HOSTILE_TITLES[3:]):
        scenario.add_node(Node(f"end{index}", "exit", title, {"outcome": "lost"}))
    for edge in (
        Edge("start", "next", "check"),
        Edge("check", "a", "end0"),
        Edge("check", "b", "end1"),
        Edge("check", "else", "end2"),
    ):
        scenario.add_edge(edge)
    return scenario


def _structure(text: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Nodes (id → raw label) and edges from the export's own line grammar."""
    lines = text.splitlines()
    assert lines[0] in ("flowchart LR", "flowchart TD")
    nodes, edges = {}, []
    for line in lines[1:]:
        if node := _NODE.match(line):
            assert node.group(1) not in nodes
            nodes[node.group(1)] = node.group(3)
        elif edge := _EDGE.match(line):
            edges.append((edge.group(1), edge.group(3), edge.group(2) or ""))
        else:
            assert re.match(r"^  (%% |classDef \w+ |class [\w,]+ \w+$)", line), line
    return nodes, edges


def _unescape(label: str) -> list[str]:
    return [html.unescape(re.sub(r"#(\d+);", r"&#\1;", part)) for part in label.split("<br/>")]


@pytest.mark.parametrize(
    "scenario", [*EXAMPLE_FILES, "hostile"], ids=lambda p: getattr(p, "stem", p)
)
def test_structure_matches_the_scenario(scenario):
    scenario = _hostile() if scenario == "hostile" else _scenario(scenario)
    nodes, edges = _structure(dumps_mermaid(scenario).content)
    flow = [n for n in scenario.flow_nodes()]
    assert set(nodes) == {f"n_{n.id}" for n in flow}
    for node in flow:
        assert _unescape(nodes[f"n_{node.id}"])[0] == " ".join(node.display_title.split())
        # Nothing in a label can end it or start a directive, a tag, an entity or a comment.
        bare = re.sub(r"#\d+;", "", nodes[f"n_{node.id}"].replace("<br/>", ""))
        assert not re.search(r'["<>&%|\[\]{}`;#]', bare)
    assert sorted((s, t) for s, t, _ in edges) == sorted(
        (f"n_{e.source}", f"n_{e.target}") for e in scenario.edges
    )


def test_escape_keeps_letters_and_encodes_syntax():
    assert escape("Корзина №5 ≥ 1000") == "Корзина №5 ≥ 1000"
    assert escape('a "b" | c') == "a #34;b#34; #124; c"
    assert escape("x\ny") == "x y"


def test_direction_option():
    scenario = _scenario(EXAMPLE_FILES[0])
    assert dumps_mermaid(scenario, {"direction": "td"}).content.startswith("flowchart TD\n")
    with pytest.raises(ExportOptionError, match="LR or TD"):
        dumps_mermaid(scenario, {"direction": "up"})


@pytest.mark.node
def test_mermaid_parses_every_export_back_to_the_scenario():
    script = VALIDATORS / "mermaid_parse.mjs"
    if not (VALIDATORS / "node_modules" / "mermaid").is_dir():
        pytest.skip("mermaid missing: npm ci --prefix tools/validators --no-audit --no-fund")
    scenarios = [_scenario(p) for p in EXAMPLE_FILES] + [_hostile()]
    texts = [dumps_mermaid(s).content for s in scenarios]
    completed = subprocess.run(
        ["node", str(script)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=VALIDATORS,
    )
    results = json.loads(completed.stdout)
    for scenario, parsed in zip(scenarios, results, strict=True):
        assert "error" not in parsed, (scenario.id, parsed)
        vertices = {v["id"]: v for v in parsed["vertices"]}
        flow = list(scenario.flow_nodes())
        assert set(vertices) == {f"n_{n.id}" for n in flow}
        for node in flow:
            first_line = html.unescape(vertices[f"n_{node.id}"]["text"]).split("<br/>")[0]
            assert first_line == " ".join(node.display_title.split()), node.id
        expected_shapes = {"exit": "stadium", "condition": "diamond", "wait": "hexagon"}
        for node in flow:
            if node.type in expected_shapes:
                assert vertices[f"n_{node.id}"]["type"] == expected_shapes[node.type]
        drawn = sorted((e["start"], e["end"]) for e in parsed["edges"])
        assert drawn == sorted((f"n_{e.source}", f"n_{e.target}") for e in scenario.edges)
        case_labels = [html.unescape(e["text"]) for e in parsed["edges"]]
        if scenario.id == "hostile":
            assert f"{HOSTILE_TITLES[2]}: age > 1" in case_labels
