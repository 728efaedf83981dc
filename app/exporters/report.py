"""A report for people: the funnel's diagram, its steps and messages, its validation and, when
given, a simulation's results — as one self-contained HTML file (see `report_pdf` for PDF).

The HTML comes from a Jinja2 template in resources/report/, rendered in a sandboxed,
autoescaping environment (scenario texts are user input). Everything is inline: CSS, the
diagram and the charts as SVG; the file names no external URL, so it opens offline and can be
mailed as is.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from PySide6.QtCore import QSizeF

from app.canvas.items import exit_labels
from app.canvas.scene import FunnelScene
from app.canvas.style import THEMES
from app.charts.data import Chart, result_charts
from app.charts.files import chart_svg
from app.charts.numbers import THIN, grouped, money, percent
from app.charts.palette import PALETTES
from app.engine.catalog import MESSAGE_TYPES, Category
from app.engine.durations import DurationError, duration_words, parse_duration
from app.engine.model import Node, Scenario
from app.engine.simulation import SimulationResult
from app.engine.summary import channel_name, summarize
from app.engine.templates import (
    TemplateError,
    preview_context,
    render,
    sample_cart,
    sample_contact,
)
from app.engine.validation import Problem, Severity, validate
from app.exporters.devices import inline_svg
from app.exporters.diagram import diagram_rect, scene_svg_text
from app.resources import RESOURCES

TEMPLATES = RESOURCES / "report"
CHART_SIZE = QSizeF(560, 320)
_TITLED_CHANNELS = frozenset({"email", "push"})  # channels whose messages have a subject


@dataclass(frozen=True)
class Message:
    channel: str
    subject: str
    body: str
    sample_failed: str = ""  # why the sample could not be filled in (the template is shown)


@dataclass(frozen=True)
class StepExit:
    label: str
    target_id: str | None
    target: str  # "3. Wait 2 days", or a warning when the exit is not connected


@dataclass(frozen=True)
class Step:
    number: int
    id: str
    title: str
    kind: str
    colour: str
    summary: str
    message: Message | None
    exits: list[StepExit]


@dataclass(frozen=True)
class Finding:
    severity: str
    step: str
    text: str


@dataclass(frozen=True)
class Results:
    headline: list[tuple[str, str, str]]  # (label, figure, range or note)
    stages: list[dict[str, str]]
    charts: list[Chart]
    horizon_days: int
    seed: int
    runs: int


@dataclass
class Report:
    """What both the HTML and the PDF show, worked out once."""

    scenario: Scenario
    theme: str
    facts: list[tuple[str, str]]
    notes: list[str]
    steps: list[Step]
    findings: list[Finding]
    results: Results | None
    sample: str = "{first_name} {last_name}".format(**sample_contact())
    generated: str = field(default_factory=lambda: date.today().isoformat())

    @property
    def title(self) -> str:
        return self.scenario.name or self.scenario.id or "Funnel"


# --- working the report out ---------------------------------------------------------------------


def build_report(
    scenario: Scenario, result: SimulationResult | None = None, theme: str = "light"
) -> Report:
    steps = _steps(scenario, theme)
    numbered = {step.id: step for step in steps}
    titles = {node_id: f"{s.number}. {s.title}" for node_id, s in numbered.items()}
    findings = [
        Finding(str(p.severity), titles.get(p.node or "", "The whole funnel"), p.message)
        for p in sorted(validate(scenario), key=_problem_order)
        if p.severity is not Severity.INFO
    ]
    notes = [
        str(n.params.get("text") or n.title or "").strip()
        for n in scenario.nodes.values()
        if n.type == "note" and str(n.params.get("text") or n.title or "").strip()
    ]
    return Report(
        scenario=scenario,
        theme=theme,
        facts=_facts(scenario, steps),
        notes=notes,
        steps=steps,
        findings=findings,
        results=_results(result, scenario.settings.currency) if result is not None else None,
    )


def _problem_order(problem: Problem) -> tuple[int, str]:
    return (0 if problem.severity is Severity.ERROR else 1, problem.code)


def flow_order(scenario: Scenario) -> list[Node]:
    """Steps as a reader follows them: breadth-first from the entries, exits in their order,
    then any step no entry reaches."""
    targets: dict[tuple[str, str], str] = {(e.source, e.exit): e.target for e in scenario.edges}
    nodes = scenario.nodes
    seen: dict[str, None] = {}
    queue = deque(sorted((n.id for n in scenario.flow_nodes() if n.is_entry), key=_position(nodes)))
    while queue:
        node_id = queue.popleft()
        if node_id in seen or node_id not in nodes:
            continue
        seen[node_id] = None
        node = nodes[node_id]
        for exit_name in _exits(node):
            target = targets.get((node_id, exit_name))
            if target is not None and target not in seen:
                queue.append(target)
    rest = sorted((n.id for n in scenario.flow_nodes() if n.id not in seen), key=_position(nodes))
    return [nodes[node_id] for node_id in [*seen, *rest]]


def _position(nodes: dict[str, Node]):
    return lambda node_id: (nodes[node_id].position[1], nodes[node_id].position[0], node_id)


def _exits(node: Node) -> tuple[str, ...]:
    spec = node.spec
    return spec.exits_for(node.params) if spec else tuple(node.placeholder_exits)


def _steps(scenario: Scenario, theme: str) -> list[Step]:
    order = flow_order(scenario)
    number = {node.id: index for index, node in enumerate(order, start=1)}
    targets = {(e.source, e.exit): e.target for e in scenario.edges}
    colours = THEMES[theme].categories
    steps = []
    for node in order:
        spec = node.spec
        labels = exit_labels(node)
        exits = []
        names = _exits(node)
        for exit_name in names:
            target = targets.get((node.id, exit_name))
            if target in scenario.nodes:
                text = f"{number.get(target, '?')}. {scenario.nodes[target].display_title}"
            else:
                text = "⚠ not connected"
            label = labels.get(exit_name, exit_name) if len(names) > 1 else "then"
            exits.append(StepExit(label, target if target in number else None, text))
        category = spec.category if spec else Category.ACTION
        steps.append(
            Step(
                number=number[node.id],
                id=node.id,
                title=node.display_title,
                kind=spec.label if spec else f"Unknown type ‘{node.type}’",
                colour=colours[category].name(),
                summary=summarize(node, scenario),
                message=_message(node, scenario) if node.type in MESSAGE_TYPES else None,
                exits=exits,
            )
        )
    return steps


def _message(node: Node, scenario: Scenario) -> Message:
    """The message as the sample contact would get it; the template itself if it cannot be
    filled in (and why)."""
    channel = str(node.params.get("channel", "email"))
    product = None  # as when sent: only offers have a product (validation rule V203)
    if node.type == "offer":
        product = scenario.product(str(node.params.get("product", "")))
    context = preview_context(
        sample_contact(),
        product=product,
        discount=node.params.get("discount", 0) or 0,
        promo_code=str(node.params.get("promo_code", "") or ""),
        cart=sample_cart(),
        scenario_name=scenario.name,
    )
    subject = str(node.params.get("subject", "") or "") if channel in _TITLED_CHANNELS else ""
    body = str(node.params.get("body", "") or "")
    try:
        return Message(channel_name(channel), render(subject, context), render(body, context))
    except TemplateError as error:
        return Message(channel_name(channel), subject, body, str(error))


def _facts(scenario: Scenario, steps: list[Step]) -> list[tuple[str, str]]:
    settings = scenario.settings
    messages = [s for s in steps if s.message is not None]
    channels = sorted({s.message.channel for s in messages if s.message})
    facts = [
        ("Steps", str(len(steps))),
        ("Messages", str(len(messages))),
        ("Channels", ", ".join(channels) or "none"),
    ]
    if settings.quiet_hours is not None:
        facts.append(("Quiet hours", f"{settings.quiet_hours.start}–{settings.quiet_hours.end}"))
    if settings.frequency_cap is not None:
        cap = settings.frequency_cap
        try:
            per = duration_words(parse_duration(cap.per))
        except DurationError:
            per = str(cap.per)
        facts.append(("Frequency cap", f"{cap.messages} messages per {per}"))
    facts.append(("Currency", settings.currency))
    return facts


def _results(result: SimulationResult, currency: str) -> Results:
    reps = result.replications

    def spread(key: str, show) -> str:
        figure = reps.get(key)
        if not figure:
            return ""
        return f"95{THIN}% range {show(figure['low'])}–{show(figure['high'])}"

    def count(value: float) -> str:
        return grouped(value)

    def cash(value: float) -> str:
        return money(value, currency)

    cost = sum(c["cost"] for c in result.channels.values())
    messages = sum(c["messages"] for c in result.channels.values())
    headline = [
        ("Contacts entered", count(result.entered), f"of {count(result.contacts)} in the base"),
        ("Converted", count(result.converted), spread("converted", count)),
        ("Conversion", percent(result.conversion_rate), spread("conversion_rate", percent)),
        ("Revenue", cash(result.revenue), spread("revenue", cash)),
        ("Messages sent", count(messages), spread("messages", count)),
        ("Cost of messages", cash(cost), spread("cost", cash)),
    ]
    if result.waiting:
        headline.append(("Still in the funnel", count(result.waiting), "at the horizon"))
    stages = [
        {
            "stage": str(stage["stage"]),
            "contacts": count(stage["conversions"]),
            "range": spread(f"stage:{stage['stage']}", count).removeprefix(f"95{THIN}% range "),
            "from_previous": percent(stage["from_previous"]),
            "from_start": percent(stage["from_start"]),
            "revenue": cash(stage["revenue"]),
        }
        for stage in result.stages
    ]
    runs = len(next(iter(reps.values()), {}).get("values", [])) or 1
    return Results(
        headline, stages, result_charts(result, currency), result.horizon_days, result.seed, runs
    )


# --- HTML ---------------------------------------------------------------------------------------


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def report_html(report: Report, scene: FunnelScene) -> str:
    """The report as one HTML document; `scene` is the diagram as it should appear (built by
    the caller, so an overlay on it shows too)."""
    palette = PALETTES[report.theme]
    diagram = diagram_rect(scene)
    diagram_svg = inline_svg(
        scene_svg_text(scene, title=report.title), min_width=diagram.width() * 0.8
    )
    charts = []
    if report.results is not None:
        charts = [
            Markup(inline_svg(chart_svg(chart, palette, CHART_SIZE)))
            for chart in report.results.charts
        ]
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        diagram_svg=Markup(diagram_svg),
        charts=charts,
        css=Markup(_css(report.theme)),
    )


def _css(theme: str) -> str:
    """The style sheet with the theme's colours filled in (read from the same themes as the
    canvas and charts)."""
    canvas = THEMES[theme]
    chart = PALETTES[theme]
    dark = theme == "dark"
    colours: dict[str, Any] = {
        "page": canvas.background.name(),
        "paper": chart.background.name(),
        "text": chart.text.name(),
        "muted": chart.muted.name(),
        "rule": chart.grid.name(),
        "accent": chart.bar.name(),
        "error": canvas.error.name(),
        "warning": canvas.warning.name(),
        "ok": chart.revenue.name(),
        "code": "#2A2F38" if dark else "#F3F5F8",
    }
    variables = "".join(f"--{name}:{value};" for name, value in colours.items())
    return f":root{{{variables}}}\n" + (TEMPLATES / "report.css").read_text(encoding="utf-8")
