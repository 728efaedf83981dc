"""Write the conformance vectors in resources/conformance/ (docs/CONFORMANCE.md).

`python3 -m tools.make_conformance` regenerates every file; `--check` only says which files
differ (a test runs the same comparison). For each bundled example the reference interpreter
walks seeded candidate contacts whose outside world (deliveries, splits, notifications, event
times) a seeded policy decides and records; a candidate becomes a vector when it takes an exit
no earlier vector took, until every exit of every state is covered. The hand-checked cases of
tools/conformance_cases.py are written beside them after the interpreter is checked to agree
with their hand-written expectations. Everything is seeded, so the output is byte-stable.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.engine.conformance import (
    FORMAT,
    VERSION,
    ConformanceError,
    Script,
    ScriptedWalker,
    differences,
    run_vector,
)
from app.engine.model import Node
from app.engine.runtime import Runtime, Walk
from app.engine.serialization import load_scenario
from app.exporters.runtime_json import export_runtime
from app.resources import EXAMPLES, RESOURCES
from tools import conformance_cases

OUT = RESOURCES / "conformance"
DAY = 86_400
# Local start times: weekdays and weekends, every season, inside and outside quiet hours.
STARTS = (
    "2026-03-02T08:30:00",  # Monday morning, spring, quiet hours end at 09:00
    "2026-07-17T21:40:00",  # Friday evening, summer, quiet hours begin at 22:00
    "2026-11-07T13:05:00",  # Saturday afternoon, autumn
    "2026-12-30T23:15:00",  # Wednesday night, winter, inside quiet hours
)
HORIZONS = (30, 30, 30, 1, 3)
CANDIDATES = 600  # per example; coverage is usually complete after a few dozen
FIRST_NAMES = ("Anna", "Ivan", "Maria", "Pavel", "Olga", "Dmitry", "Elena", "Sergey")
LAST_NAMES = ("Smirnova", "Ivanov", "Kuznetsova", "Popov", "Sokolova", "Lebedev")
CART_ITEMS = (("Cat tree", 3490), ("Ceramic bowl", 690), ("Grain-free food, 10 kg", 4190))


class RecordingWalker(ScriptedWalker):
    """Decides the world's outcomes with a seeded policy and writes them into the script, so
    the same script replayed by `ScriptedWalker` walks the same path. The policy leans towards
    exits no vector has taken yet (`left`), which reaches deep branches in few candidates."""

    def __init__(
        self, *args: Any, rng: random.Random, left: set[tuple[str, ...]], **options: Any
    ) -> None:
        super().__init__(*args, **options)
        self.rng = rng
        self.left = left

    def pick(self, node: Node, options: list[str], weights: list[float]) -> str:
        fresh = [o for o in options if (node.id, o) in self.left]
        if fresh and self.rng.random() < 0.75:
            return self.rng.choice(fresh)
        return self.rng.choices(options, weights)[0]

    def delivered(self, node: Node, channel: str) -> bool:
        self.sent = True
        if self.pick(node, ["sent", "failed"], [0.7, 0.3]) == "failed":
            self.script.undelivered.add(self.here(node))
            self.used.add(("undelivered", *self.here(node)))
            return False
        return True

    def variant(self, node: Node) -> str:
        ids = [v["id"] for v in node.params.get("variants", [])]
        chosen = self.pick(node, ids, [1.0] * len(ids))
        self.script.variants[self.here(node)] = chosen
        self.used.add(("split", *self.here(node)))
        return chosen

    def notify_failed(self, node: Node) -> bool:
        if self.pick(node, ["done", "failed"], [0.7, 0.3]) == "failed":
            self.script.notify_failed.add(self.here(node))
            self.used.add(("notify_failed", *self.here(node)))
            return True
        return False

    def event_delay(self, node: Node, timeout: int) -> int | None:
        if self.pick(node, ["happened", "timeout"], [0.5, 0.5]) == "timeout":
            return None
        delay = self.rng.randrange(max(1, timeout // 60)) * 60
        self.script.events.append((self.arrived + delay, str(node.params.get("event", ""))))
        self.consumed.add(len(self.script.events) - 1)
        return delay


@dataclass
class Candidate:
    vector: dict[str, Any]
    walk: Walk
    covers: set[tuple[str, ...]]


def contact(rng: random.Random, document: Mapping[str, Any], entry_event: str | None) -> dict:
    """A plausible runtime contact whose fields vary where the scenario's conditions look."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    has_email = rng.random() < 0.85
    has_phone = rng.random() < 0.7
    tags = [t for t in document["dependencies"]["tags"] if rng.random() < 0.4]
    events = {}
    for event in document["dependencies"]["events"]:
        count = rng.choice((0, 0, 1, 2, 3))
        if event == entry_event:
            count = max(count, 1)
        days = 0 if event == entry_event else rng.choice((1, 5, 14, 15, 30, 120, 400))
        events[event] = {"count": count, "days_since": days if count else None}
    person: dict[str, Any] = {
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}.{last.lower()}@example.com" if has_email else None,
        "phone": f"+7916{rng.randrange(10**7):07d}" if has_phone else None,
        "has_email": has_email,
        "has_phone": has_phone,
        "gender": rng.choice(("f", "m", None)),
        "age": rng.randrange(18, 75),
        "city": rng.choice(("Moscow", "Kazan", "Novosibirsk")),
        **{f"consent_{c}": rng.random() < 0.6 for c in ("email", "sms", "messenger", "vk")},
        "consent_push": rng.random() < 0.5,
        "orders_count": rng.randrange(0, 8),
        "total_spent": rng.randrange(0, 60_000, 10),
        "days_since_purchase": rng.choice((None, 10, 45, 91, 200, 400)),
        "nps_score": rng.choice((None, 2, 6, 7, 8, 9, 10)),
        "tags": tags,
        "events": events,
        "attributes": {},
    }
    if events.get("cart_abandoned", {}).get("count"):
        items = [{"name": n, "price": p} for n, p in rng.sample(CART_ITEMS, rng.randrange(1, 3))]
        value = sum(i["price"] for i in items)
        person["cart"] = {"items": items, "value": value}
        person["cart_value"] = value
    else:
        person["cart_value"] = rng.choice((0, 500, 1500))
    return person


def targets(document: Mapping[str, Any]) -> set[tuple[str, ...]]:
    """What the vectors of one scenario must cover: every exit of every state; a contact the
    entry's condition turns away; a contact still waiting at the horizon."""
    wanted = {(sid, e) for sid, state in document["states"].items() for e in state["next"]}
    wanted |= {(sid, "") for sid, s in document["states"].items() if s["type"] == "exit"}
    for entry in document["entries"]:
        if document["states"][entry].get("condition"):
            wanted.add(("not entered", entry))
    wanted.add(("waiting",))
    return wanted


def coverage(walk: Walk) -> set[tuple[str, ...]]:
    if not walk.entered:
        return {("not entered", walk.entry)}
    found = {(s.node, s.exit or "") for s in walk.steps if s.exit or s.type == "exit"}
    return found | ({("waiting",)} if walk.waiting else set())


def candidates(
    name: str, document: Mapping[str, Any], runtime: Runtime, left: set[tuple[str, ...]]
) -> Iterator[Candidate]:
    for number in range(CANDIDATES):
        rng = random.Random(f"{name}:{number}")
        entry_id = rng.choice(document["entries"])
        entry = document["states"][entry_id]
        if entry["type"] == "entry.segment":
            spread = entry["spread_days"] if entry["schedule"] == "spread" else 0
            at = rng.randrange(0, spread * DAY, 60) if spread else 0
        else:
            at = rng.choice((0, rng.randrange(60, 2 * DAY, 60)))
        person = contact(rng, document, entry.get("event"))
        start, horizon = rng.choice(STARTS), rng.choice(HORIZONS)
        script = Script()
        if at and rng.random() < 0.5:  # before entry: an engine must not count it for a wait
            awaited = sorted({s["event"] for s in document["states"].values() if "event" in s})
            script.events.append((rng.randrange(0, at, 60), rng.choice(awaited)))
        clock = runtime.with_clock(datetime.fromisoformat(start), horizon)
        walk = clock.enter(
            person, entry_id, at, RecordingWalker, script=script, notes=[], rng=rng, left=left
        )
        vector = {
            "start": start,
            "horizon_days": horizon,
            "contact": person,
            "entry": {"state": entry_id, "at": at},
            **script.inputs(),
        }
        yield Candidate(vector, walk, coverage(walk))


def describe(walk: Walk, new: set[tuple[str, ...]]) -> str:
    """What the vector adds: the exits no earlier vector took, and how the walk ends."""
    exits = sorted(
        f"{k[0]} → {k[1]}" for k in new if len(k) == 2 and k[1] and k[0] != "not entered"
    )
    if not walk.entered:
        ending = "the entry's condition turns the contact away"
    elif walk.waiting:
        ending = f"still waiting in {walk.final} at the horizon"
    else:
        ending = f"leaves through {walk.final}"
    return f"Takes {', '.join(exits)}; {ending}." if exits else f"{ending[0].upper()}{ending[1:]}."


def example_suite(path: Path) -> tuple[dict[str, Any], set[tuple[str, ...]]]:
    """The vectors for one example and what they leave uncovered."""
    name = path.stem
    document = export_runtime(load_scenario(path).scenario)
    searching = Runtime.from_document(document, render_messages=False, validate_schema=False)
    rendering = Runtime.from_document(document, validate_schema=False)
    wanted = targets(document)
    left = set(wanted)
    vectors = []
    for candidate in candidates(name, document, searching, left):
        new = candidate.covers & left
        if not new:
            continue
        left -= new
        vector = {
            "id": f"{name}/{len(vectors) + 1:03d}",
            "origin": "generated",
            "description": describe(candidate.walk, new),
            **candidate.vector,
        }
        vector["expect"] = run_vector(rendering, vector)
        path_taken = [(s["state"], s["exit"]) for s in vector["expect"]["steps"]]
        if path_taken != [(s.node, s.exit) for s in candidate.walk.steps]:
            raise ConformanceError(f"{vector['id']}: the replayed script took another path")
        vectors.append(vector)
        if not left:
            break
    suite = {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        "source": f"resources/examples/{path.name}",
        "scenario": document,
        "vectors": vectors,
    }
    return suite, left


def hand_suites() -> Iterator[dict[str, Any]]:
    """The hand-checked cases, each confirmed against the interpreter before it is written."""
    for case in conformance_cases.SUITES:
        document = export_runtime(case.scenario())
        runtime = Runtime.from_document(document, validate_schema=False)
        problems = []
        for vector in case.vectors:
            got = run_vector(runtime, vector)
            problems += [f"{vector['id']}: {d}" for d in differences(vector["expect"], got)]
        if problems:
            raise ConformanceError(
                "the interpreter disagrees with hand-checked vectors:\n" + "\n".join(problems)
            )
        yield {
            "format": FORMAT,
            "version": VERSION,
            "name": case.name,
            "source": f"tools/conformance_cases.py ({case.source})",
            "scenario": document,
            "vectors": case.vectors,
        }


def dumps(suite: Mapping[str, Any]) -> str:
    return json.dumps(suite, sort_keys=True, ensure_ascii=False, indent=2) + "\n"


def build() -> tuple[dict[str, str], dict[str, set[tuple[str, ...]]]]:
    """Every file's text by name, and per example what no vector covers."""
    files: dict[str, str] = {}
    uncovered = {}
    for path in sorted(EXAMPLES.glob("*.json")):
        suite, left = example_suite(path)
        files[f"{path.stem}.json"] = dumps(suite)
        uncovered[path.stem] = left
    for suite in hand_suites():
        files[f"{suite['name']}.json"] = dumps(suite)
    return files, uncovered


def unrendered(text: str) -> list[str]:
    """Steps of a suite whose message or notification templates cannot be rendered."""
    found = []
    for vector in json.loads(text)["vectors"]:
        for step in vector["expect"]["steps"]:
            for action in ("send", "notify"):
                for part, reason in step.get(action, {}).get("errors", {}).items():
                    found.append(f"{vector['id']} {step['state']}.{part}: {reason}")
    return found


def stale(files: Mapping[str, str], folder: Path = OUT) -> list[str]:
    """Files that differ from what the generator writes, are missing, or should not exist."""
    present = {p.name for p in folder.glob("*.json")} if folder.is_dir() else set()
    wrong = [
        n
        for n, text in files.items()
        if not (folder / n).is_file() or (folder / n).read_text(encoding="utf-8") != text
    ]
    return sorted(wrong + sorted(present - set(files)))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    files, uncovered = build()
    for name, left in uncovered.items():
        for key in sorted(left):
            print(f"{name}: no vector covers {' '.join(key)}", file=sys.stderr)
    for text in files.values():
        for problem in unrendered(text):
            print(f"cannot render {problem}", file=sys.stderr)
    if "--check" in args:
        wrong = stale(files)
        for name in wrong:
            print(f"out of date: resources/conformance/{name}", file=sys.stderr)
        return 1 if wrong else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name in stale(files):
        target = OUT / name
        if name in files:
            target.write_text(files[name], encoding="utf-8")
        else:
            target.unlink()
    total = sum(text.count('"origin":') for text in files.values())
    print(f"{len(files)} files, {total} vectors in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
