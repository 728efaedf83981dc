"""The editor document: undo/redo restores byte for byte, clean state, clipboard, recovery."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from app.document import EditorDocument
from app.engine.catalog import NODE_TYPES
from app.engine.model import Edge
from app.engine.serialization import dumps_scenario


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("VORONKA_DATA_DIR", str(folder))
    return folder


def random_edit(doc: EditorDocument, rng: random.Random) -> None:
    """One user-like edit through the document's intents."""
    scenario = doc.scenario
    ids = sorted(scenario.nodes)
    choice = rng.randrange(8)
    if choice == 0 or not ids:
        doc.add_node(rng.choice(NODE_TYPES).type, (rng.randrange(-900, 900), rng.randrange(600)))
    elif choice == 1:
        source = scenario.nodes[rng.choice(ids)]
        if source.exits:
            doc.connect(source.id, rng.choice(source.exits), rng.choice(ids))
    elif choice == 2:
        node_id = rng.choice(ids)
        old = scenario.nodes[node_id].position
        doc.move_nodes({node_id: (old, (old[0] + rng.randrange(-200, 200), old[1] + 20))})
    elif choice == 3:
        doc.set_title(rng.choice(ids), f"Step {rng.randrange(1000)}")
    elif choice == 4:
        doc.remove(rng.sample(ids, k=min(len(ids), rng.randint(1, 2))))
    elif choice == 5 and scenario.edges:
        doc.remove([], [rng.choice(scenario.edges)])
    elif choice == 6:
        doc.paste_text(doc.copy_text(rng.sample(ids, k=min(len(ids), 3))))
    else:
        node = scenario.nodes[rng.choice(ids)]
        spec = node.spec
        if spec and spec.params:
            param = rng.choice(spec.params)
            doc.set_param(node.id, param.name, rng.choice([param.default, "x", 5, None]))


@pytest.mark.parametrize("seed", range(6))
def test_random_edits_then_undos_restore_the_start_and_redos_the_end(
    document: EditorDocument, seed: int
) -> None:
    rng = random.Random(seed)
    start = dumps_scenario(document.scenario)
    for _ in range(50):
        random_edit(document, rng)
    end = dumps_scenario(document.scenario)
    stack = document.undo_stack
    steps = stack.count()
    assert steps > 10
    for _ in range(steps):
        stack.undo()
    assert dumps_scenario(document.scenario) == start
    assert not document.modified
    for _ in range(steps):
        stack.redo()
    assert dumps_scenario(document.scenario) == end


def test_delete_then_undo_restores_the_document_byte_for_byte(document: EditorDocument) -> None:
    before = dumps_scenario(document.scenario)
    document.remove(["remind_email"])
    assert "remind_email" not in document.scenario.nodes
    assert all("remind_email" not in (e.source, e.target) for e in document.scenario.edges)
    document.undo_stack.undo()
    assert dumps_scenario(document.scenario) == before


def test_title_and_clean_state_follow_the_stack(document: EditorDocument, tmp_path: Path) -> None:
    titles: list[str] = []
    document.title_changed.connect(titles.append)
    assert not document.title.endswith("*")
    document.add_node("wait", (0, 0))
    assert document.title.endswith("*") and document.modified
    path = tmp_path / "cart.json"
    document.save(path)
    assert document.title == "cart.json" and not document.modified
    document.undo_stack.undo()
    assert document.title == "cart.json*"
    document.undo_stack.redo()
    assert document.title == "cart.json"
    assert titles[-1] == "cart.json"


def test_typing_in_one_field_is_one_undo_step(document: EditorDocument) -> None:
    count = document.undo_stack.count()
    for text in ("H", "He", "Hel", "Hello"):
        document.set_param("remind_email", "subject", text)
    assert document.undo_stack.count() == count + 1
    document.undo_stack.undo()
    assert document.scenario.nodes["remind_email"].params["subject"] != "Hello"


def test_removing_a_switch_case_drops_its_edge_and_undo_brings_it_back(qapp) -> None:
    document = EditorDocument()
    switch = document.add_node("switch", (0, 0))
    done = document.add_node("exit", (300, 0))
    assert document.connect(switch, "case2", done) is None
    cases = document.scenario.nodes[switch].params["cases"]
    document.set_param(switch, "cases", cases[:1])
    assert Edge(switch, "case2", done) not in document.scenario.edges
    document.undo_stack.undo()
    assert Edge(switch, "case2", done) in document.scenario.edges


def test_refused_connection_says_why_and_changes_nothing(document: EditorDocument) -> None:
    count = document.undo_stack.count()
    reason = document.connect("remind_email", "sent", "exit_lost")
    assert reason is not None and "already connected" in reason
    reason = document.connect("remind_email", "nope", "exit_lost")
    assert reason is not None and "has no exit ‘nope’" in reason
    assert document.undo_stack.count() == count


def test_copy_paste_remaps_ids_and_keeps_inner_edges(document: EditorDocument) -> None:
    chosen = ["remind_email", "wait_purchase"]
    text = document.copy_text(chosen)
    new_ids = document.paste_text(text)
    assert len(new_ids) == 2 and not set(new_ids) & set(chosen)
    inner = [e for e in document.scenario.edges if e.source in new_ids and e.target in new_ids]
    assert len(inner) == 1 and inner[0].exit == "sent"
    original = document.scenario.nodes["remind_email"].position
    pasted = document.scenario.nodes[new_ids[0]].position
    assert pasted == (original[0] + 40, original[1] + 40)
    assert document.paste_text("not json") == []


def test_paste_into_another_document(document: EditorDocument, qapp) -> None:
    other = EditorDocument()
    new_ids = other.paste_text(document.copy_text(["remind_email"]))
    assert new_ids == ["remind_email"]
    assert other.scenario.nodes["remind_email"].params == (
        document.scenario.nodes["remind_email"].params
    )


def test_recovery_file_restores_unsaved_work(
    document: EditorDocument, private_data_dir: Path, qapp
) -> None:
    document.add_node("note", (10, 10))
    document.write_recovery()
    [recovery] = list((private_data_dir / "recovery").glob("*.json"))
    record = json.loads(recovery.read_text(encoding="utf-8"))
    assert record["path"] is None
    restored = EditorDocument.recover(recovery)
    assert dumps_scenario(restored.scenario) == dumps_scenario(document.scenario)
    assert restored.modified and restored.title.endswith("*")
    restored.save(private_data_dir / "saved.json")
    assert not recovery.exists()


def test_validation_follows_edits_after_the_debounce(document: EditorDocument, qtbot) -> None:
    assert not [p for p in document.problems if p.code == "V102"]
    with qtbot.waitSignal(document.problems_changed, timeout=2000):
        document.add_node("message", (0, 600))
    assert any(p.code == "V102" for p in document.problems)
