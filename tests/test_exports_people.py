"""Exports for people: charts, the canvas as PNG/SVG/PDF, the HTML and PDF report, the CLI.

Real Qt (offscreen), a real SQLite contact base, real simulations; PDFs are read back with
PDFium (pypdfium2: page count, page size, text, no image objects), SVGs with the standard XML
parser.
"""

from __future__ import annotations

import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest

from app.cli import main
from app.resources import EXAMPLES

SVG = "{http://www.w3.org/2000/svg}"
EXAMPLE_NAMES = ("abandoned_cart", "product_matrix", "post_sale_nps")


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'contacts.db'}"
    assert main(["db", "demo", "--db", url, "--contacts", "1500", "--seed", "4"]) == 0
    return url


def simulate_over(database: str, scenarios: list, replications: int) -> list:
    """The scenarios simulated over the demo base (seed 3, from 2 Nov 2026)."""
    from app.engine.db import contact_schema, open_database, read_columns
    from app.engine.simulation import simulate

    engine = open_database(database)
    schema = contact_schema(engine)
    columns = dict(read_columns(engine))
    engine.dispose()
    count = len(next(iter(columns.values())))
    start = datetime(2026, 11, 2)
    return [
        simulate(s, columns, seed=3, replications=replications, start=start, n=count, schema=schema)
        for s in scenarios
    ]


@pytest.fixture(scope="module")
def results(database: str):
    """Each example simulated once over the demo base, with three replications."""
    from app.engine.serialization import load_scenario

    scenarios = [load_scenario(EXAMPLES / f"{name}.json").scenario for name in EXAMPLE_NAMES]
    simulated = simulate_over(database, scenarios, replications=3)
    return {
        name: (scenario, result)
        for name, scenario, result in zip(EXAMPLE_NAMES, scenarios, simulated, strict=True)
    }


def scene_of(name: str, theme: str = "light"):
    from app.canvas.scene import FunnelScene
    from app.document import EditorDocument
    from app.engine.serialization import load_scenario

    document = EditorDocument(load_scenario(EXAMPLES / f"{name}.json").scenario)
    return FunnelScene(document, theme)


@dataclass(frozen=True)
class PdfPage:
    text: str  # the words, single-spaced, ligatures (ﬁ) undone
    size: tuple[float, float]  # points
    images: int


def read_pdf(path: Path) -> list[PdfPage]:
    document = pdfium.PdfDocument(path)
    pages = []
    for page in document:
        text = page.get_textpage().get_text_range()
        images = sum(
            1 for o in page.get_objects(max_depth=5) if o.type == pdfium_raw.FPDF_PAGEOBJ_IMAGE
        )
        pages.append(
            PdfPage(" ".join(unicodedata.normalize("NFKC", text).split()), page.get_size(), images)
        )
    document.close()
    return pages


def svg_tags(text: str) -> list[str]:
    return [element.tag.removeprefix(SVG) for element in ET.fromstring(text).iter()]


# --- numbers and chart data ---------------------------------------------------------------------


def test_numbers_read_as_people_write_them():
    from app.charts.numbers import THIN, compact, grouped, money, nice_ticks, percent

    assert grouped(1234567.4) == f"1{THIN}234{THIN}567"
    assert [percent(s) for s in (1, 0.1, 0.032, 0.0045, 0)] == [
        f"100{THIN}%",
        f"10{THIN}%",
        f"3.2{THIN}%",
        f"0.45{THIN}%",
        f"0{THIN}%",
    ]
    assert money(4800, "RUB") == f"4{THIN}800{THIN}₽"
    assert money(12.5, "USD") == "$12.50"
    assert [compact(v) for v in (950, 1500, 35_000, 2_500_000)] == ["950", "1.5k", "35k", "2.5M"]
    assert nice_ticks(37) == [0, 10, 20, 30, 40]
    assert nice_ticks(3) == [0, 1, 2, 3]


def test_chart_data_follows_the_result(results):
    from app.charts.data import channel_chart, conversion_time_chart, funnel_chart

    result = results["product_matrix"][1]
    funnel = funnel_chart(result)
    assert [s.label for s in funnel.steps] == ["Entered", *(s["stage"] for s in result.stages)]
    assert funnel.steps[0].count == result.entered and funnel.steps[0].from_start == 1
    for step, stage in zip(funnel.steps[1:], result.stages, strict=True):
        assert step.count == stage["conversions"]
        assert step.from_previous == stage["from_previous"]
        low, high = step.interval
        assert low <= high
    assert "3 runs" in funnel.note
    channels = channel_chart(result, "RUB")
    assert sum(c.revenue for c in channels.channels) == pytest.approx(result.revenue)
    assert all(c.cost_interval is not None for c in channels.channels if c.label != "No message")
    days = conversion_time_chart(result)
    assert sum(days.values) == sum(result.time_to_conversion_days)


# --- charts painted ----------------------------------------------------------------------------


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_charts_are_vector_svg_with_their_figures(qapp, results, theme):
    from app.charts.data import result_charts
    from app.charts.files import chart_svg
    from app.charts.numbers import grouped
    from app.charts.palette import PALETTES

    _, result = results["abandoned_cart"]
    charts = result_charts(result, "RUB")
    texts = []
    for chart in charts:
        svg = chart_svg(chart, PALETTES[theme])
        tags = svg_tags(svg)
        assert "image" not in tags and "text" in tags
        assert "path" in tags or "rect" in tags or "polyline" in tags
        root = ET.fromstring(svg)
        texts.append(" ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text")))
    funnel_text = texts[0].replace("\u202f", " ")
    assert (
        "Entered" in funnel_text and grouped(result.entered).replace("\u202f", " ") in funnel_text
    )
    assert "E-mail" in texts[1] and "Revenue" in texts[1]
    assert "Messages per day" in texts[2] and "Time to conversion" in texts[3]


def test_chart_widget_paints_the_same_chart(qtbot, results):
    from PySide6.QtGui import QColor

    from app.charts.data import funnel_chart
    from app.charts.palette import DARK
    from app.charts.widget import ChartWidget

    widget = ChartWidget(funnel_chart(results["post_sale_nps"][1]), "dark")
    qtbot.addWidget(widget)
    widget.resize(600, 340)
    image = widget.grab().toImage()
    assert (image.width(), image.height()) == (600, 340)
    colours = {image.pixelColor(x, y).name() for x in range(0, 600, 7) for y in range(0, 340, 7)}
    assert DARK.background.name() in colours and QColor(DARK.bar).name() in colours


def test_empty_results_say_so_instead_of_drawing_nothing(qapp):
    from app.charts.data import ChannelChart, FunnelChart, SeriesChart
    from app.charts.files import chart_svg
    from app.charts.palette import LIGHT

    for chart, words in (
        (FunnelChart("Funnel", []), "No contact entered"),
        (ChannelChart("Channels", []), "No message was sent"),
        (SeriesChart("Days", [0, 0, 0], "day", empty_text="No contact converted"), "converted"),
    ):
        assert words in chart_svg(chart, LIGHT)


# --- the canvas --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_png_has_the_size_asked_for(qapp, tmp_path: Path, name: str):
    import math

    from PySide6.QtGui import QImage

    from app.exporters.diagram import diagram_rect, scene_png

    scene = scene_of(name)
    rect = diagram_rect(scene)
    path = tmp_path / "diagram.png"
    scene_png(scene, path, scale=0.75)
    image = QImage(str(path))
    assert (image.width(), image.height()) == (
        math.ceil(rect.width() * 0.75),
        math.ceil(rect.height() * 0.75),
    )
    scene_png(scene, path, dpi=120)
    image = QImage(str(path))
    assert image.width() == math.ceil(rect.width() * 1.25)
    assert round(image.dotsPerMeterX() * 0.0254) == 120
    assert image.pixelColor(1, 1) == scene.theme.background


def test_transparent_png_leaves_the_background_out(qapp, tmp_path: Path):
    from PySide6.QtGui import QImage

    from app.exporters.diagram import scene_png

    scene = scene_of("abandoned_cart", "dark")
    scene_png(scene, tmp_path / "t.png", scale=1, transparent=True)
    image = QImage(str(tmp_path / "t.png"))
    assert image.hasAlphaChannel() and image.pixelColor(1, 1).alpha() == 0
    opaque = sum(
        image.pixelColor(x, y).alpha() == 255
        for x in range(0, image.width(), 5)
        for y in range(0, image.height(), 5)
    )
    assert opaque > 0  # the cards are there


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_svg_is_vector_with_paths_and_text(qapp, tmp_path: Path, theme: str):
    from app.exporters.diagram import scene_svg

    scene = scene_of("abandoned_cart", theme)
    path = tmp_path / "diagram.svg"
    scene_svg(scene, path)
    text = path.read_text(encoding="utf-8")
    tags = svg_tags(text)
    assert "image" not in tags
    assert tags.count("path") >= len(scene.edge_items)
    titles = [n.display_title for n in scene.document.scenario.flow_nodes()]
    assert tags.count("text") >= len(titles)
    words = " ".join("".join(t.itertext()) for t in ET.fromstring(text).iter(f"{SVG}text"))
    assert "Wait 1 hour" in words and "Did not buy" in words
    assert "Bitstream Vera Sans" in text  # fonts fall back on machines without DejaVu


def test_pdf_is_one_vector_page_fitted_to_the_diagram(qapp, tmp_path: Path):
    from app.exporters.diagram import PDF_MARGIN, diagram_rect, scene_pdf

    scene = scene_of("product_matrix")
    path = tmp_path / "diagram.pdf"
    scene_pdf(scene, path)
    pages = read_pdf(path)
    assert len(pages) == 1
    page = pages[0]
    assert page.images == 0
    rect = diagram_rect(scene)
    width, height = page.size
    assert width == pytest.approx((rect.width() + 2 * PDF_MARGIN) * 0.75, abs=1)
    assert height == pytest.approx((rect.height() + 2 * PDF_MARGIN) * 0.75, abs=1)
    assert "Lead captured" in page.text


def test_export_leaves_the_editor_as_it_was(qapp, tmp_path: Path):
    from app.exporters.diagram import scene_svg_text

    scene = scene_of("abandoned_cart")
    scene.select_nodes(["wait_1h"])
    scene_svg_text(scene)
    assert scene.selected_node_ids() == ["wait_1h"]
    scene.set_overview(True)  # far zoomed out in the editor
    svg = scene_svg_text(scene)
    assert "Wait 1 hour" in svg  # exported in full detail, not as overview blocks
    assert scene.overview_on and scene.export_background is None


# --- the report --------------------------------------------------------------------------------

EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//"""
)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_html_report_is_self_contained_and_names_every_step(qapp, results, name: str):
    import html as html_lib

    from app.exporters.report import build_report, report_html

    scenario, result = results[name]
    page = report_html(build_report(scenario, result), scene_of(name))
    assert not EXTERNAL.search(page)
    assert "<link" not in page and "<script" not in page and "<img" not in page
    text = html_lib.unescape(page)
    for node in scenario.flow_nodes():
        assert node.display_title in text
    assert page.count("<svg") == 5  # the diagram and four charts
    assert "Simulation results" in page and "No problems" in page


def test_report_escapes_what_users_typed(qapp, tmp_path: Path):
    from app.canvas.scene import FunnelScene
    from app.document import EditorDocument
    from app.engine.serialization import load_scenario
    from app.exporters.report import build_report, report_html

    scenario = load_scenario(EXAMPLES / "abandoned_cart.json").scenario
    scenario.name = "<script>alert(1)</script>"
    scenario.nodes["wait_1h"].title = '<img src="https://evil.example/x.png">'
    scene = FunnelScene(EditorDocument(scenario))
    page = report_html(build_report(scenario), scene)
    assert "<script>alert" not in page and '<img src="https' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Simulation results" not in page


def test_report_lists_validation_problems(qapp):
    from app.canvas.scene import FunnelScene
    from app.document import EditorDocument
    from app.engine.serialization import load_scenario
    from app.exporters.report import build_report, report_html

    scenario = load_scenario(EXAMPLES / "abandoned_cart.json").scenario
    scenario.edges = [e for e in scenario.edges if e.source != "check_sms"]
    report = build_report(scenario)
    assert any(f.severity == "error" and "Can we text them?" in f.step for f in report.findings)
    page = report_html(report, FunnelScene(EditorDocument(scenario)))
    assert "must be fixed" in page and "not connected" in page


@pytest.mark.parametrize(
    ("name", "theme"), [("product_matrix", "light"), ("post_sale_nps", "dark")]
)
def test_report_pdf_pages_follow_its_sections(qapp, tmp_path: Path, results, name, theme):
    from app.exporters.report import build_report
    from app.exporters.report_pdf import _diagram_parts, report_pdf

    scenario, result = results[name]
    scene = scene_of(name, theme)
    parts = len(_diagram_parts(scene))
    assert parts >= 2  # too wide for one landscape page at a readable size

    plain = tmp_path / "plain.pdf"
    count = report_pdf(build_report(scenario, None, theme), scene, plain)
    pages = read_pdf(plain)
    assert len(pages) == count
    texts = [p.text for p in pages]
    assert scenario.name.split(":")[0] in texts[0]
    for number in range(1, parts + 1):
        assert f"The funnel, part {number} of {parts}" in texts[number]
    assert "Steps and messages" in texts[parts + 1]
    assert "Validation" in texts[-1] and "Simulation results" not in " ".join(texts)
    everything = " ".join(texts[parts + 1 :])
    for node in scenario.flow_nodes():
        assert " ".join(node.display_title.split()) in everything
    assert all(p.images == 0 for p in pages)

    with_results = tmp_path / "results.pdf"
    more = report_pdf(build_report(scenario, result, theme), scene, with_results)
    pages = read_pdf(with_results)
    assert len(pages) == more > count
    last = " ".join(p.text for p in pages[count - 1 :])
    assert "Simulation results" in last and "Time to conversion" in last


# --- the report in Russian ---------------------------------------------------------------------

RU_CART = EXAMPLES / "ru" / "abandoned_cart.json"
RUSSIAN_HEADINGS = (
    "Отчёт о воронке",
    "Воронка",
    "Шаги и сообщения",
    "Проверка",
    "Результаты симуляции",
    "Этап",
    "От предыдущего",
    "От начала",
    "Выручка",
)
ENGLISH_WORDS = re.compile(
    r"Funnel report|The funnel|Steps and messages|Validation|Simulation results|From previous"
    r"|\bthen\b|\bPage \d|simulated day|\bseed\b|\bin the base\b|\brange\b|of start|"
    r"\bRevenue\b|\bMessages per day\b|\d+ in\b"
)


@pytest.fixture
def russian(qapp):
    """The interface language Russian: Qt's translators on the application (canvas, charts)
    and the engine's texts (the report's words)."""
    from app.i18n import install_language, remove_language

    install_language("ru")
    yield
    remove_language()


def test_html_report_in_russian(russian, database: str):
    import html as html_lib

    from app.canvas.scene import FunnelScene
    from app.document import EditorDocument
    from app.engine.flow import FlowFigures
    from app.engine.serialization import load_scenario
    from app.exporters.report import build_report, report_html

    scenario = load_scenario(RU_CART).scenario
    (result,) = simulate_over(database, [scenario], replications=2)
    scene = FunnelScene(EditorDocument(scenario))
    scene.set_flow(FlowFigures.from_result(result, scenario))
    report = build_report(scenario, result)
    page = report_html(report, scene)
    text = html_lib.unescape(page)
    assert '<html lang="ru">' in page
    assert f"<title>{scenario.name} — отчёт о воронке</title>" in text
    for heading in RUSSIAN_HEADINGS[1:]:
        assert f">{heading}<" in text, heading
    assert re.search(r"Отчёт о воронке · \d\d\.\d\d\.20\d\d<", text)
    assert "Сделано в Voronka" in text
    assert re.search(r">Лимит частоты</dt><dd>3 сообщения за 1 день<", text)
    assert "далее</span> →" in text and "2 прогона: числа — из первого прогона" in text
    assert re.search(r"диапазон 95 %: <span class=\"range\">[\d\u202f]+–[\d\u202f]+</span>", text)
    # The diagram's flow badges and the charts' own labels (painted with Qt's tr()).
    assert re.search(r">вошли \d+<", text) and "Выручка и затраты по каналам" in text
    assert "от входа" in text and "Затраты" in text
    words = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", page, flags=re.S))
    left = ENGLISH_WORDS.search(html_lib.unescape(words))
    assert left is None, left
    assert '"DejaVu Sans"' in page  # a family with Cyrillic first, on every platform it exists


def test_pdf_report_in_russian(qapp, tmp_path: Path, database: str, capsys, monkeypatch):
    from app.i18n import remove_language

    monkeypatch.setenv("VORONKA_LANG", "ru")
    out = tmp_path / "отчёт.pdf"
    options = ["--simulate", "--db", database, "--start", "2026-11-02", "--replications", "2"]
    try:
        assert main(["export", str(RU_CART), "--to", "report-pdf", "-o", str(out), *options]) == 0
    finally:
        remove_language()
    pages = read_pdf(out)
    assert re.search(rf"PDF-отчёт, {len(pages)} страниц\b", capsys.readouterr().err)
    texts = [p.text for p in pages]
    everything = " ".join(texts)
    assert "Отчёт о воронке" in texts[0] and "Страница 1" in texts[0]
    assert re.search(r"вошли \d+", texts[0])  # the flow badges of the diagram
    assert re.search(r"На следующих страницах \(\d страницы\) схема показана по частям", texts[0])
    assert "Воронка, часть 1 из" in texts[1]
    for heading in RUSSIAN_HEADINGS[2:]:
        assert heading in everything, heading
    assert re.search(r"\b\d\d\.\d\d\.20\d\d\b", texts[-1])
    assert "Вошло контактов" in everything and "диапазон 95 %:" in everything
    assert "Выручка и затраты по каналам" in everything and "от входа" in everything
    assert not ENGLISH_WORDS.search(everything), ENGLISH_WORDS.search(everything)


def test_a_long_note_is_cut_to_its_card_not_clipped(qapp):
    """Exports drop clipping (SVG): a note's text must fit its card by itself."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QFontMetricsF

    from app.canvas.items import _BODY_FONT, fitted_text

    rect = QRectF(0, 0, 150, 60)
    metrics = QFontMetricsF(_BODY_FONT)
    long = "Сравните две цели «Корзина возвращена», чтобы увидеть, сколько приносит скидка. " * 4
    lines = fitted_text(long, rect).split("\n")
    assert len(lines) == int(rect.height() // metrics.lineSpacing()) and lines[-1].endswith("…")
    assert all(metrics.horizontalAdvance(line) <= rect.width() for line in lines)
    assert fitted_text("Короткая заметка\nв две строки", rect) == "Короткая заметка\nв две строки"


# --- the command line --------------------------------------------------------------------------

CART = str(EXAMPLES / "abandoned_cart.json")


def test_cli_writes_every_target(qapp, tmp_path: Path, database: str, capsys):
    from PySide6.QtGui import QImage

    out = tmp_path / "cart.png"
    assert main(["export", CART, "--to", "png", "-o", str(out), "--scale", "1"]) == 0
    assert QImage(str(out)).width() > 1000
    assert main(["export", CART, "--to", "svg", "-o", str(tmp_path / "c.svg")]) == 0
    assert "text" in svg_tags((tmp_path / "c.svg").read_text(encoding="utf-8"))
    assert main(["export", CART, "--to", "pdf", "-o", str(tmp_path / "c.pdf")]) == 0
    assert len(read_pdf(tmp_path / "c.pdf")) == 1
    options = ["--simulate", "--db", database, "--start", "2026-11-02", "--replications", "2"]
    html_path = tmp_path / "c.html"
    assert main(["export", CART, "--to", "html", "-o", str(html_path), *options]) == 0
    assert "Simulation results" in html_path.read_text(encoding="utf-8")
    report = tmp_path / "report.pdf"
    assert main(["export", CART, "--to", "report-pdf", "-o", str(report), "--theme", "dark"]) == 0
    assert len(read_pdf(report)) >= 3
    assert "PDF report" in capsys.readouterr().err


def test_cli_says_what_is_wrong(qapp, tmp_path: Path, capsys):
    assert main(["export", CART, "--to", "svg"]) == 1
    assert "needs -o" in capsys.readouterr().err
    assert main(["export", CART, "--to", "svg", "-o", str(tmp_path / "x.svg"), "--dpi", "300"]) == 1
    assert "for --to png" in capsys.readouterr().err
    out = str(tmp_path / "x.html")
    assert main(["export", CART, "--to", "html", "-o", out, "--transparent"]) == 1
    assert "canvas pictures" in capsys.readouterr().err
    assert main(["export", CART, "--to", "png", "-o", str(tmp_path / "no" / "x.png")]) == 2
    assert "cannot be written" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.json"), "--to", "png", "-o", "x.png"]) == 2
    assert "cannot be read" in capsys.readouterr().err


def test_cli_exports_a_stored_run_as_it_was_simulated(qapp, tmp_path: Path, database, capsys):
    common = ["--db", database, "--start", "2026-11-02", "--seed", "7"]
    assert main(["simulate", CART, *common, "--save", "--format", "json"]) == 0
    run_id = str(json.loads(capsys.readouterr().out)["run_id"])
    stored, fresh = tmp_path / "stored.svg", tmp_path / "fresh.svg"
    assert (
        main(["export", CART, "--to", "svg", "-o", str(stored), "--run", run_id, *common[:2]]) == 0
    )
    assert main(["export", CART, "--to", "svg", "-o", str(fresh), "--simulate", *common]) == 0
    assert stored.read_bytes() == fresh.read_bytes()  # the overlay's numbers, step by step
    html_path = tmp_path / "stored.html"
    assert main(["export", CART, "--to", "html", "-o", str(html_path), "--run", run_id]) == 1
    assert f"no stored run {run_id}" in capsys.readouterr().err  # not in the default base
    options = ["--run", run_id, "--db", database]
    assert main(["export", CART, "--to", "html", "-o", str(html_path), *options]) == 0
    assert "Simulation results" in html_path.read_text(encoding="utf-8")

    other = str(EXAMPLES / "win_back.json")
    assert main(["export", other, "--to", "png", "-o", str(tmp_path / "w.png"), *options]) == 1
    assert f"--run {run_id} is a run of" in capsys.readouterr().err
    assert main(["export", CART, "--to", "png", "-o", "x.png", *options, "--simulate"]) == 1
    assert "give one of them" in capsys.readouterr().err
    assert (
        main(["export", CART, "--to", "png", "-o", "x.png", "--run", "999", "--db", database]) == 1
    )
    assert "no stored run 999" in capsys.readouterr().err
