"""BPMN 2.0: the scenario as one executable process with its diagram (BPMNDI).

The diagram follows the canvas: each step's shapes sit where its card is, so the file opens in
bpmn.io or Camunda Modeler looking like the editor. The process data is one variable,
`contact` (the runtime contact of docs/CONDITIONS.md); all expressions — gateway conditions
and timers — are Python, the expression language of SpiffWorkflow, which executes the file.

- entries are start events (a message start named after the event for event triggers), then
  a gateway on the entry condition whose default ends in `<id>__not_entered`;
- messages and offers are send tasks, notifications service tasks; the worker sets `status`
  and a gateway (`<id>__result`) takes `sent`/`done` on success and the failed exit otherwise;
- waits are timer catch events (`timeDuration` an ISO 8601 literal); a send window is a
  service task setting `window_at` (`<id>__window`) and a timer until that date;
- wait-for-event is a receive task on the event's message with an interrupting boundary timer
  (`<id>__timeout`) for the timeout exit;
- conditions and switches reload the contact (service task `<id>__contact`) and branch in an
  exclusive gateway whose conditions exclude the cases before them; the default flow is
  `no`/`else`; A/B splits draw in a script task (`<id>__draw`) into `variants`, which a caller
  may fill in advance;
- updates are service tasks, goals intermediate throw events (milestones), exits end events.

A step several flows lead to gets a merging exclusive gateway (`<id>__merge`), as BPMN wants
joins explicit. Frequency cap, quiet hours, send windows, re-entry and leaving on unsubscribe
are returned as warnings naming the nodes; docs/EXPORTS.md documents the mapping.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.engine import expressions
from app.engine.catalog import MESSAGE_TYPES
from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema
from app.engine.durations import format_duration, parse_duration
from app.engine.geometry import NODE_WIDTH, card_height
from app.engine.model import Node, Scenario
from app.exporters.base import (
    ExportResult,
    ExportWarning,
    Flow,
    check_exportable,
    generator_version,
    parse_options,
)
from app.exporters.python_conditions import to_python

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PYTHON = "https://docs.python.org/3/reference/expressions.html"
for _prefix, _uri in (("bpmn", BPMN), ("bpmndi", BPMNDI), ("dc", DC), ("di", DI), ("xsi", XSI)):
    ET.register_namespace(_prefix, _uri)

OPTIONS: dict[str, str] = {}
SIZES = {"event": (36.0, 36.0), "task": (100.0, 80.0), "gateway": (50.0, 50.0)}
_GAP = 20.0


def dumps_bpmn(
    scenario: Scenario,
    options: Mapping[str, str] | None = None,
    schema: ContactSchema = DEFAULT_SCHEMA,
) -> ExportResult:
    parse_options(options or {}, OPTIONS, "BPMN")
    check_exportable(scenario, schema)
    builder = _Builder(scenario, schema)
    root = builder.build()
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode", xml_declaration=False)
    return ExportResult('<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n", builder.warnings)


def _q(tag: str, ns: str = BPMN) -> str:
    return f"{{{ns}}}{tag}"


@dataclass
class _Shape:
    id: str
    kind: str  # event, task, gateway
    x: float
    y: float
    attached: bool = False

    @property
    def size(self) -> tuple[float, float]:
        return SIZES[self.kind]

    def right(self) -> tuple[float, float]:
        w, h = self.size
        return (self.x + w, self.y + h / 2)

    def left(self) -> tuple[float, float]:
        return (self.x, self.y + self.size[1] / 2)

    def bottom(self) -> tuple[float, float]:
        w, h = self.size
        return (self.x + w / 2, self.y + h)


@dataclass
class _Element:
    """One BPMN flow node being built: its XML element and its shape."""

    xml: ET.Element
    shape: _Shape
    outgoing: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, scenario: Scenario, schema: ContactSchema) -> None:
        self.scenario = scenario
        self.schema = schema
        self.flow = Flow.of(scenario)
        self.warnings: list[ExportWarning] = []
        self.process = ET.Element(
            _q("process"),
            id=_ncname("Process_" + scenario.id),
            isExecutable="true",
            name=scenario.name,
        )
        self.elements: dict[str, _Element] = {}
        self.flows: list[tuple[str, str, str]] = []  # flow id, source, target
        self.messages: dict[str, str] = {}
        self._ids: dict[tuple[str, str], str] = {}
        self._used: set[str] = {self.process.get("id")}
        incoming: dict[str, int] = defaultdict(int)
        for edge in scenario.edges:
            incoming[edge.target] += 1
        self.merged = {node_id for node_id, count in incoming.items() if count > 1}

    # -- ids

    def id(self, node_id: str, suffix: str = "") -> str:
        key = (node_id, suffix)
        if key not in self._ids:
            wanted = _ncname(node_id) + (f"__{suffix}" if suffix else "")
            name, index = wanted, 2
            while name in self._used:
                name, index = f"{wanted}_{index}", index + 1
            self._used.add(name)
            self._ids[key] = name
        return self._ids[key]

    def first(self, node_id: str) -> str:
        """The element a flow into the node enters."""
        node = self.scenario.node(node_id)
        if node_id in self.merged:
            return self.id(node_id, "merge")
        if node.type in ("condition", "switch"):
            return self.id(node_id, "contact")
        if node.type == "split":
            return self.id(node_id, "draw")
        if node.type == "wait" and node.params.get("mode") == "window":
            return self.id(node_id, "window")
        return self.id(node_id)

    # -- document

    def build(self) -> ET.Element:
        definitions = ET.Element(
            _q("definitions"),
            {
                "id": "Definitions_" + _ncname(self.scenario.id),
                "targetNamespace": f"urn:voronka:scenario:{self.scenario.id}",
                "expressionLanguage": PYTHON,
                "exporter": "Voronka",
                "exporterVersion": generator_version(),
            },
        )
        self.documentation(
            self.process,
            f"{self.scenario.description}\n\nProcess data: `contact` (the runtime contact). "
            "Conditions and timers are Python expressions. See docs/EXPORTS.md.".strip(),
        )
        for node in self.flow.nodes:
            self.node(node)
        for node_id in sorted(self.merged):
            self.merge(self.scenario.node(node_id))
        for node in self.flow.nodes:
            self.connect_exits(node)
        self.link_flows()
        self.collect_warnings()
        for event, message_id in self.messages.items():
            ET.SubElement(definitions, _q("message"), id=message_id, name=event)
        definitions.append(self.process)
        definitions.append(self.diagram())
        return definitions

    def documentation(self, element: ET.Element, text: str) -> None:
        """BPMN wants documentation as an element's first child."""
        if text:
            doc = ET.Element(_q("documentation"))
            doc.text = text
            element.insert(0, doc)

    def add(
        self, element_id: str, tag: str, name: str, kind: str, x: float, y: float, **attrs: str
    ) -> ET.Element:
        xml = ET.SubElement(self.process, _q(tag), id=element_id, **attrs)
        if name:
            xml.set("name", name)
        h = SIZES[kind][1]
        self.elements[element_id] = _Element(xml, _Shape(element_id, kind, x, y - h / 2))
        return xml

    def sequence(
        self,
        source: str,
        target: str,
        name: str = "",
        condition: str | None = None,
        default: bool = False,
    ) -> str:
        flow_id = f"Flow_{len(self.flows) + 1}"
        xml = ET.SubElement(
            self.process, _q("sequenceFlow"), id=flow_id, sourceRef=source, targetRef=target
        )
        if name and self.elements[source].shape.kind == "gateway":
            xml.set("name", name)
        if condition is not None:
            expression = ET.SubElement(
                xml, _q("conditionExpression"), {f"{{{XSI}}}type": "bpmn:tFormalExpression"}
            )
            expression.set("language", PYTHON)
            expression.text = condition
        if default:
            self.elements[source].xml.set("default", flow_id)
        self.flows.append((flow_id, source, target))
        self.elements[source].outgoing.append(flow_id)
        return flow_id

    def link_flows(self) -> None:
        """bpmn:incoming / bpmn:outgoing on each node (after its documentation), as modelers
        and linters read the graph from them."""
        incoming: dict[str, list[str]] = defaultdict(list)
        for flow_id, _source, target in self.flows:
            incoming[target].append(flow_id)
        for element_id, element in self.elements.items():
            refs = [("incoming", f) for f in incoming[element_id]]
            refs += [("outgoing", f) for f in element.outgoing]
            at = 1 if len(element.xml) and element.xml[0].tag == _q("documentation") else 0
            for offset, (kind, flow_id) in enumerate(refs):
                ref = ET.Element(_q(kind))
                ref.text = flow_id
                element.xml.insert(at + offset, ref)

    def message(self, event: str) -> str:
        if event not in self.messages:
            self.messages[event] = "Message_" + _ncname(event) + f"_{len(self.messages) + 1}"
        return self.messages[event]

    # -- layout: each node's elements go left to right across its card

    def slots(self, node: Node, kinds: list[str]) -> list[tuple[float, float]]:
        """(x, centre y) for each element kind, starting at the card's left edge."""
        x0, y0 = node.position
        cy = y0 + card_height(len(node.exits)) / 2
        widths = [SIZES[k][0] for k in kinds]
        total = sum(widths) + _GAP * (len(kinds) - 1)
        x = x0 + max(0.0, (NODE_WIDTH - total) / 2)
        places = []
        for width in widths:
            places.append((x, cy))
            x += width + _GAP
        return places

    def merge(self, node: Node) -> None:
        first = self.elements[self.first_unmerged(node)].shape
        x, cy = first.x - _GAP - SIZES["gateway"][0], first.y + first.size[1] / 2
        self.add(self.id(node.id, "merge"), "exclusiveGateway", "", "gateway", x, cy)
        self.sequence(self.id(node.id, "merge"), self.first_unmerged(node))

    def first_unmerged(self, node: Node) -> str:
        merged, self.merged = self.merged, self.merged - {node.id}
        try:
            return self.first(node.id)
        finally:
            self.merged = merged

    # -- nodes

    def node(self, node: Node) -> None:
        getattr(self, "node_" + node.type.replace(".", "_"))(node)
        self.documentation(self.elements[self.id(node.id)].xml, _describe(node))

    def node_entry_event(self, node: Node) -> None:
        self.entry(node, self.message(str(node.params.get("event"))))

    def node_entry_segment(self, node: Node) -> None:
        several = len(self.flow.entries) > 1
        self.entry(node, self.message(f"voronka.enter.{node.id}") if several else None)

    def entry(self, node: Node, message: str | None) -> None:
        condition = node.params.get("condition")
        gated = isinstance(condition, str) and condition.strip()
        (sx, sy), *rest = self.slots(node, ["event", "gateway"] if gated else ["event"])
        start = self.add(self.id(node.id), "startEvent", node.display_title, "event", sx, sy)
        if message:
            ET.SubElement(start, _q("messageEventDefinition"), messageRef=message)
        if not gated:
            return
        gateway, (gx, gy) = self.id(node.id, "eligible"), rest[0]
        self.add(gateway, "exclusiveGateway", "Meets the entry condition?", "gateway", gx, gy)
        self.sequence(self.id(node.id), gateway)
        ex, ey = gx + 7, gy + 70
        self.add(self.id(node.id, "not_entered"), "endEvent", "Not entered", "event", ex, ey)
        self.sequence(gateway, self.id(node.id, "not_entered"), "not entered", default=True)

    def node_message(self, node: Node) -> None:
        self.delivering(node, "sendTask", "sent")

    def node_offer(self, node: Node) -> None:
        self.delivering(node, "sendTask", "sent")

    def node_notify(self, node: Node) -> None:
        self.delivering(node, "serviceTask", "done")

    def delivering(self, node: Node, tag: str, success: str) -> None:
        (tx, ty), (gx, gy) = self.slots(node, ["task", "gateway"])
        self.add(self.id(node.id), tag, node.display_title, "task", tx, ty)
        result = self.id(node.id, "result")
        self.add(result, "exclusiveGateway", f"{success.capitalize()}?", "gateway", gx, gy)
        self.sequence(self.id(node.id), result)

    def node_wait(self, node: Node) -> None:
        if node.params.get("mode") == "window":
            (tx, ty), (ex, ey) = self.slots(node, ["task", "event"])
            window = self.id(node.id, "window")
            self.add(window, "serviceTask", "Next send window", "task", tx, ty)
            self.documentation(
                self.elements[window].xml,
                "The worker sets `window_at` (ISO 8601 date-time) to the next opening of "
                f"{_window_words(node)} in {self.scenario.settings.timezone}.",
            )
            event = self.add(
                self.id(node.id), "intermediateCatchEvent", node.display_title, "event", ex, ey
            )
            self.sequence(window, self.id(node.id))
            _timer(event, "timeDate", "window_at")
            return
        ((ex, ey),) = self.slots(node, ["event"])
        event = self.add(
            self.id(node.id), "intermediateCatchEvent", node.display_title, "event", ex, ey
        )
        _timer(event, "timeDuration", _iso(node.params.get("duration", "P1D")))

    def node_wait_event(self, node: Node) -> None:
        ((tx, ty),) = self.slots(node, ["task"])
        message = self.message(str(node.params.get("event")))
        self.add(
            self.id(node.id), "receiveTask", node.display_title, "task", tx, ty, messageRef=message
        )
        timeout = self.id(node.id, "timeout")
        task_shape = self.elements[self.id(node.id)].shape
        boundary = ET.SubElement(
            self.process,
            _q("boundaryEvent"),
            id=timeout,
            name="Timeout",
            attachedToRef=self.id(node.id),
            cancelActivity="true",
        )
        _timer(boundary, "timeDuration", _iso(node.params["timeout"]))
        shape = _Shape(timeout, "event", task_shape.x + 62, task_shape.y + 62, attached=True)
        self.elements[timeout] = _Element(boundary, shape)

    def node_condition(self, node: Node) -> None:
        self.decision(node)

    def node_switch(self, node: Node) -> None:
        self.decision(node)

    def decision(self, node: Node) -> None:
        (tx, ty), (gx, gy) = self.slots(node, ["task", "gateway"])
        load = self.id(node.id, "contact")
        self.add(load, "serviceTask", "Load contact", "task", tx, ty)
        self.documentation(
            self.elements[load].xml,
            "The worker sets `contact` to the contact as it is now: the decision reads it.",
        )
        self.add(self.id(node.id), "exclusiveGateway", node.display_title, "gateway", gx, gy)
        self.sequence(load, self.id(node.id))

    def node_split(self, node: Node) -> None:
        (tx, ty), (gx, gy) = self.slots(node, ["task", "gateway"])
        draw = self.id(node.id, "draw")
        script = self.add(
            draw, "scriptTask", "Draw a variant", "task", tx, ty, scriptFormat="python"
        )
        variants = node.params.get("variants") or []
        ids = [v["id"] for v in variants]
        weights = [float(v["weight"]) for v in variants]
        ET.SubElement(script, _q("script")).text = (
            f"# {node.display_title}: keep a variant given in advance, else draw by weight.\n"
            'variants = dict(globals().get("variants") or {})\n'
            f"if {node.id!r} not in variants:\n"
            f"    variants[{node.id!r}] = __import__('random').choices(\n"
            f"        {ids!r}, weights={weights!r}\n"
            "    )[0]\n"
        )
        self.add(self.id(node.id), "exclusiveGateway", node.display_title, "gateway", gx, gy)
        self.sequence(draw, self.id(node.id))

    def node_update(self, node: Node) -> None:
        ((tx, ty),) = self.slots(node, ["task"])
        self.add(self.id(node.id), "serviceTask", node.display_title, "task", tx, ty)

    def node_goal(self, node: Node) -> None:
        ((ex, ey),) = self.slots(node, ["event"])
        self.add(self.id(node.id), "intermediateThrowEvent", node.display_title, "event", ex, ey)

    def node_exit(self, node: Node) -> None:
        ((ex, ey),) = self.slots(node, ["event"])
        self.add(self.id(node.id), "endEvent", node.display_title, "event", ex, ey)

    # -- flows between nodes

    def connect_exits(self, node: Node) -> None:
        def to(exit_name: str) -> str:
            return self.first(self.flow.target(node, exit_name))

        own = self.id(node.id)
        if node.is_entry:
            source = self.id(node.id, "eligible") if (node.id, "eligible") in self._ids else own
            condition = node.params.get("condition")
            python = self.python(condition) if source != own else None
            self.sequence(source, to("next"), "enter" if python else "", python)
        elif node.type in MESSAGE_TYPES or node.type == "notify":
            success = "done" if node.type == "notify" else "sent"
            result = self.id(node.id, "result")
            self.sequence(result, to(success), success, f"status == {success!r}")
            self.sequence(result, to("failed"), "failed", default=True)
        elif node.type == "wait_event":
            self.sequence(own, to("happened"), "happened")
            self.sequence(self.id(node.id, "timeout"), to("timeout"), "timeout")
        elif node.type == "condition":
            self.sequence(own, to("yes"), "yes", self.python(node.params.get("condition")))
            self.sequence(own, to("no"), "no", default=True)
        elif node.type == "switch":
            earlier: list[str] = []
            for case in node.params.get("cases") or []:
                python = self.python(case.get("condition")) or "True"
                exclusive = " and ".join([*(f"not {e}" for e in earlier), python])
                self.sequence(own, to(case["id"]), case.get("label", case["id"]), exclusive)
                earlier.append(python)
            self.sequence(own, to("else"), "else", default=True)
        elif node.type == "split":
            variants = node.params.get("variants") or []
            for variant in variants[:-1]:
                test = f"variants[{node.id!r}] == {variant['id']!r}"
                self.sequence(own, to(variant["id"]), variant.get("label", variant["id"]), test)
            last = variants[-1]
            self.sequence(own, to(last["id"]), last.get("label", last["id"]), default=True)
        else:
            for exit_name in node.exits:
                self.sequence(own, to(exit_name))

    def python(self, text: object) -> str | None:
        if not isinstance(text, str) or not text.strip():
            return None
        return to_python(expressions.parse(text), self.schema)

    # -- diagram

    def diagram(self) -> ET.Element:
        diagram = ET.Element(_q("BPMNDiagram", BPMNDI), id="Diagram_1")
        plane = ET.SubElement(
            diagram, _q("BPMNPlane", BPMNDI), id="Plane_1", bpmnElement=self.process.get("id")
        )
        for element in self.elements.values():
            shape = element.shape
            attrs = {"id": f"{shape.id}_di", "bpmnElement": shape.id}
            if shape.kind == "gateway":
                attrs["isMarkerVisible"] = "true"
            xml = ET.SubElement(plane, _q("BPMNShape", BPMNDI), attrs)
            w, h = shape.size
            ET.SubElement(
                xml, _q("Bounds", DC), x=_n(shape.x), y=_n(shape.y), width=_n(w), height=_n(h)
            )
        lowest = max(e.shape.y + e.shape.size[1] for e in self.elements.values())
        for flow_id, source, target in self.flows:
            edge = ET.SubElement(
                plane, _q("BPMNEdge", BPMNDI), id=f"{flow_id}_di", bpmnElement=flow_id
            )
            for x, y in _route(self.elements[source].shape, self.elements[target].shape, lowest):
                ET.SubElement(edge, _q("waypoint", DI), x=_n(x), y=_n(y))
        return diagram

    # -- warnings

    def collect_warnings(self) -> None:
        s = self.scenario.settings
        senders = tuple(n.id for n in self.flow.nodes if n.type in MESSAGE_TYPES)
        if s.frequency_cap and senders:
            self.warnings.append(
                ExportWarning(
                    f"the frequency cap ({s.frequency_cap.messages} messages per "
                    f"{s.frequency_cap.per}) has no BPMN element: the send tasks' worker must "
                    "enforce it",
                    senders,
                )
            )
        if s.quiet_hours and senders:
            self.warnings.append(
                ExportWarning(
                    f"quiet hours ({s.quiet_hours.start}–{s.quiet_hours.end}) have no BPMN "
                    "element: the send tasks' worker must defer messages",
                    senders,
                )
            )
        windows = tuple(n.id for n in self.flow.of_type("wait") if n.params.get("mode") == "window")
        if windows:
            self.warnings.append(
                ExportWarning(
                    "send windows are calendar rules BPMN timers cannot state: a service task's "
                    "worker sets window_at and a timer waits until then",
                    windows,
                )
            )
        self.warnings.append(
            ExportWarning(
                "re-entry rules and segment schedules are not part of a BPMN process: the engine "
                "that starts instances must apply them",
                tuple(n.id for n in self.flow.entries),
            )
        )
        if s.exit_on_unsubscribe:
            self.warnings.append(
                ExportWarning(
                    "‘exit on unsubscribe’ has no element here: cancel the contact's process "
                    "instance when it unsubscribes"
                )
            )


def _route(source: _Shape, target: _Shape, lowest: float) -> list[tuple[float, float]]:
    """Right-angled waypoints from the source's right (or a boundary event's bottom) to the
    target's left; flows going back run below the diagram."""
    sx, sy = source.bottom() if source.attached else source.right()
    tx, ty = target.left()
    if source.attached:
        if tx > sx:
            return (
                [(sx, sy), (sx, ty), (tx, ty)]
                if ty > sy
                else [(sx, sy), (sx, sy + 20), (tx - 10, sy + 20), (tx - 10, ty), (tx, ty)]
            )
        below = lowest + 40
        return [(sx, sy), (sx, below), (tx - 15, below), (tx - 15, ty), (tx, ty)]
    if tx >= sx + 10:
        if abs(ty - sy) < 0.5:
            return [(sx, sy), (tx, ty)]
        mx = min(sx + 20, (sx + tx) / 2)
        return [(sx, sy), (mx, sy), (mx, ty), (tx, ty)]
    below = lowest + 40
    return [(sx, sy), (sx + 15, sy), (sx + 15, below), (tx - 15, below), (tx - 15, ty), (tx, ty)]


def _timer(event: ET.Element, kind: str, expression: str) -> None:
    definition = ET.SubElement(event, _q("timerEventDefinition"))
    value = ET.SubElement(definition, _q(kind), {f"{{{XSI}}}type": "bpmn:tFormalExpression"})
    value.text = expression


def _iso(text: str) -> str:
    """An ISO 8601 duration as a Python string literal (timers are expressions)."""
    return repr(format_duration(parse_duration(text)))


def _window_words(node: Node) -> str:
    days = ", ".join(node.params.get("window_days") or [])
    return f"{days} {node.params.get('window_start')}–{node.params.get('window_end')}"


def _describe(node: Node) -> str:
    """Documentation for the modeler's properties panel: what the step does."""
    p = node.params
    lines = [f"Voronka step ‘{node.id}’ ({node.type})."]
    if node.type in MESSAGE_TYPES:
        lines.append(f"Channel: {p.get('channel')}.")
        if p.get("subject"):
            lines.append(f"Subject: {p['subject']}")
        lines.append(f"Text: {p.get('body', '')}")
        if node.type == "offer":
            lines.append(
                f"Product: {p.get('product')}, discount {p.get('discount', 0)} %, "
                f"promo code {p.get('promo_code') or '—'}."
            )
        lines.append("The worker sets status to 'sent' or 'failed'.")
    elif node.type == "notify":
        lines.append(
            f"Kind: {p.get('kind')}; assignee {p.get('assignee') or '—'}; "
            f"URL {p.get('url') or '—'}. Text: {p.get('text', '')}"
        )
        lines.append("The worker sets status to 'done' or 'failed'.")
    elif node.type == "update":
        action = p.get("action", "add_tag")
        target = (
            p.get("tag")
            if action in ("add_tag", "remove_tag")
            else (f"{p.get('attribute')} = {p.get('value')}")
        )
        lines.append(f"{action}: {target}")
    elif node.type == "goal":
        lines.append(f"Goal stage ‘{p.get('stage')}’, revenue {p.get('revenue', 0)}.")
    elif node.type == "exit":
        lines.append(
            f"Outcome: {p.get('outcome')}"
            + (f", handed off to {p['handoff_to']}" if p.get("handoff_to") else "")
            + "."
        )
    elif node.type in ("condition", "entry.segment", "entry.event") and p.get("condition"):
        lines.append(f"Condition: {p['condition']}")
    elif node.type == "switch":
        for case in p.get("cases") or []:
            lines.append(f"{case.get('label', case['id'])}: {case.get('condition')}")
    elif node.type == "wait_event":
        lines.append(f"Waits for ‘{p.get('event')}’ at most {p.get('timeout')}.")
    return "\n".join(lines)


def _ncname(text: str) -> str:
    """A valid XML id: letters, digits, _ - . and not starting with a digit or punctuation."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", text) or "id"
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


def _n(value: float) -> str:
    return f"{value:g}"
