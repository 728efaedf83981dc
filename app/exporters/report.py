"""A report for people: the funnel's diagram, its steps and messages, its validation and, when
given, a simulation's results — as one self-contained HTML file (see `report_pdf` for PDF).

The HTML comes from a Jinja2 template in resources/report/, rendered in a sandboxed,
autoescaping environment (scenario texts are user input). Everything is inline: CSS, the
diagram and the charts as SVG; the file names no external URL, so it opens offline and can be
mailed as is.

The report is written in the interface language (`app.engine.i18n`): every text of its own is a
`T("Report", …)` worked out here, once, into `Report.words`, which both the HTML template and
the PDF read, so the two never word a thing differently and the template holds no English.
Numbers, money and the date follow the same locale.
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
from app.charts.numbers import grouped, money, percent
from app.charts.palette import PALETTES
from app.engine.catalog import MESSAGE_TYPES, Category, exit_label, type_label
from app.engine.durations import DurationError, duration_words, parse_duration
from app.engine.i18n import Msg, T, current_locale
from app.engine.locale_format import format_date, language_of
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

    @property
    def sample_note(self) -> str:
        """The sentence saying the template is shown as written, and why."""
        return str(
            T(
                "Report",
                "The template is shown as written: it could not be filled in for the sample "
                "contact ({problem}).",
                problem=self.sample_failed,
            )
        )


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
    severity: str  # "error" or "warning": the CSS class
    step: str
    text: str
    label: str = ""  # the severity as the reader's language names it


@dataclass(frozen=True)
class Figure:
    """A headline figure: "Revenue 36 000 ₽", noted "95 % range: 31 896 ₽–61 536 ₽"."""

    label: str
    value: str
    note: str = ""
    range: str = ""  # kept apart from the note so that it never breaks across lines


@dataclass(frozen=True)
class Results:
    headline: list[Figure]
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
    generated: str = field(default_factory=lambda: format_date(date.today(), _locale()))
    language: str = field(default_factory=lambda: language_of(current_locale()) or "en")
    words: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.scenario.name or self.scenario.id or str(T("Report", "Funnel"))


# --- working the report out ---------------------------------------------------------------------


def build_report(
    scenario: Scenario, result: SimulationResult | None = None, theme: str = "light"
) -> Report:
    steps = _steps(scenario, theme)
    numbered = {step.id: step for step in steps}
    titles = {node_id: f"{s.number}. {s.title}" for node_id, s in numbered.items()}
    whole = str(T("Report", "The whole funnel"))
    severities = {"error": T("Report", "Error"), "warning": T("Report", "Warning")}
    findings = [
        Finding(
            str(p.severity),
            titles.get(p.node or "", whole),
            p.message,
            str(severities.get(str(p.severity), p.severity)),
        )
        for p in sorted(validate(scenario), key=_problem_order)
        if p.severity is not Severity.INFO
    ]
    notes = [
        str(n.params.get("text") or n.title or "").strip()
        for n in scenario.nodes.values()
        if n.type == "note" and str(n.params.get("text") or n.title or "").strip()
    ]
    report = Report(
        scenario=scenario,
        theme=theme,
        facts=_facts(scenario, steps),
        notes=notes,
        steps=steps,
        findings=findings,
        results=_results(result, scenario.settings.currency) if result is not None else None,
    )
    report.words = report_words(report)
    return report


def _locale() -> str | None:
    return current_locale()


def report_words(report: Report) -> dict[str, str]:
    """Every text of the report's own, in the current language (the HTML and the PDF)."""
    findings = report.findings
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    words = {
        "funnel_report": T("Report", "Funnel report"),
        "title": T("Report", "{title} — funnel report", title=report.title),
        "the_funnel": T("Report", "The funnel"),
        "leak_hint": T(
            "Report", "Open red ports are exits that lead nowhere: contacts would leak there."
        ),
        "steps_and_messages": T("Report", "Steps and messages"),
        "steps_hint": T(
            "Report",
            "In the order a contact meets them. Messages are shown as a sample contact "
            "({sample}) would receive them.",
            sample=report.sample,
        ),
        "validation": T("Report", "Validation"),
        "no_problems": T("Report", "No problems: every exit of every step is handled."),
        "verdict": T(
            "Report",
            "{errors}, {warnings}.",
            errors=T("Report", "%n error(s)", errors),
            warnings=T("Report", "%n warning(s)", warnings),
        ),
        "must_fix": T("Report", "Errors must be fixed before the funnel can run."),
        "severity": T("Report", "Severity"),
        "step": T("Report", "Step"),
        "problem": T("Report", "Problem"),
        "simulation_results": T("Report", "Simulation results"),
        "stage": T("Report", "Stage"),
        "contacts": T("Report", "Contacts"),
        "range": T("Report", "95 % range"),
        "from_previous": T("Report", "From previous"),
        "from_start": T("Report", "From start"),
        "revenue": T("Report", "Revenue"),
        "made_with": T("Report", "Made with Voronka"),
    }
    results = report.results
    if results is not None:
        days = T("Report", "%n simulated day(s)", results.horizon_days)
        if results.runs > 1:
            words["results_hint"] = T(
                "Report",
                "{days}, seed {seed}, {runs}: figures are from the first, ranges the "
                "2.5–97.5 % spread across all.",
                days=days,
                seed=results.seed,
                runs=T("Report", "%n run(s)", results.runs),
            )
        else:
            words["results_hint"] = T(
                "Report", "{days}, seed {seed}.", days=days, seed=results.seed
            )
    return {key: str(text) for key, text in words.items()}


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
    unknown = T("Report", "Unknown type ‘{type}’")
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
                text = "⚠ " + str(T("Report", "not connected"))
            then = str(T("Report", "then"))
            label = (labels.get(exit_name) or exit_label(exit_name)) if len(names) > 1 else then
            exits.append(StepExit(label, target if target in number else None, text))
        category = spec.category if spec else Category.ACTION
        steps.append(
            Step(
                number=number[node.id],
                id=node.id,
                title=node.display_title,
                kind=type_label(spec) if spec else str(unknown.with_args(type=node.type)),
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
        (T("Report", "Steps"), grouped(len(steps))),
        (T("Report", "Messages"), grouped(len(messages))),
        (T("Report", "Channels"), ", ".join(channels) or T("Report", "none")),
    ]
    if settings.quiet_hours is not None:
        quiet = f"{settings.quiet_hours.start}–{settings.quiet_hours.end}"
        facts.append((T("Report", "Quiet hours"), quiet))
    if settings.frequency_cap is not None:
        cap = settings.frequency_cap
        try:
            per = duration_words(parse_duration(cap.per))
        except DurationError:
            per = str(cap.per)
        limit = T("Report", "%n message(s) per {period}", cap.messages, period=per)
        facts.append((T("Report", "Frequency cap"), limit))
    facts.append((T("Report", "Currency"), settings.currency))
    return [(str(label), str(value)) for label, value in facts]


def _results(result: SimulationResult, currency: str) -> Results:
    reps = result.replications

    def between(key: str, show) -> str:
        figure = reps.get(key)
        return f"{show(figure['low'])}–{show(figure['high'])}" if figure else ""

    def figure(label: Msg, value: str, key: str, show) -> Figure:
        shown = between(key, show)
        note = str(T("Report", "95 % range:")) if shown else ""
        return Figure(str(label), value, note, shown)

    def count(value: float) -> str:
        return grouped(value)

    def cash(value: float) -> str:
        return money(value, currency)

    cost = sum(c["cost"] for c in result.channels.values())
    messages = sum(c["messages"] for c in result.channels.values())
    base = T("Report", "of {n} in the base", n=count(result.contacts))
    headline = [
        Figure(str(T("Report", "Contacts entered")), count(result.entered), str(base)),
        figure(T("Report", "Converted"), count(result.converted), "converted", count),
        figure(
            T("Report", "Conversion"),
            percent(result.conversion_rate),
            "conversion_rate",
            percent,
        ),
        figure(T("Report", "Revenue"), cash(result.revenue), "revenue", cash),
        figure(T("Report", "Messages sent"), count(messages), "messages", count),
        figure(T("Report", "Cost of messages"), cash(cost), "cost", cash),
    ]
    if result.waiting:
        still, horizon = T("Report", "Still in the funnel"), T("Report", "at the horizon")
        headline.append(Figure(str(still), count(result.waiting), str(horizon)))
    stages = [
        {
            "stage": str(stage["stage"]),
            "contacts": count(stage["conversions"]),
            "range": between(f"stage:{stage['stage']}", count),
            "from_previous": percent(stage["from_previous"]),
            "from_start": percent(stage["from_start"]),
            "revenue": cash(stage["revenue"]),
        }
        for stage in result.stages
    ]
    runs = len(next(iter(reps.values()), {}).get("values", [])) or 1
    return Results(
        headline,
        stages,
        result_charts(result, currency),
        result.horizon_days,
        result.seed,
        runs,
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
        words=report.words,
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
