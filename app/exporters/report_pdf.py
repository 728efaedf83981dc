"""The report as a PDF, painted page by page with QPainter on a QPdfWriter.

Why painted rather than printed from the HTML: Qt's rich text (QTextDocument) cannot show the
inline SVG the HTML relies on, and a browser engine is too heavy a dependency for an export.
Painting lets the PDF reuse the very code that draws the canvas and the charts, so the diagram
and the charts are vector graphics (paths and text, no bitmaps) and look as on screen; text
blocks are laid out by QTextDocument and flowed onto pages here.

Pages: a landscape cover with the title, the facts and the whole diagram fitted to the page;
then A4 portrait pages with the steps and their messages, the validation result and, when a
simulation is given, its figures, stages and charts. Blocks never split across pages unless one
is taller than a page; headings stay with what follows them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QPainter,
    QPalette,
    QPen,
    QTextDocument,
)

from app.canvas.scene import FunnelScene
from app.charts.data import Chart
from app.charts.numbers import THIN
from app.charts.painting import font, paint_chart
from app.charts.palette import PALETTES, ChartPalette
from app.engine.i18n import T
from app.engine.locale_format import NBSP
from app.exporters.devices import ExportFileError, pdf_writer, set_pdf_page
from app.exporters.diagram import diagram_rect, export_state, paint_diagram
from app.exporters.report import Report, Step

PORTRAIT = QSizeF(794, 1123)  # A4 at 96 dpi
LANDSCAPE = QSizeF(1123, 794)
MARGIN = 48.0
HEADER = 22.0  # the running header and footer lines
CHART_HEIGHT = 300.0
GAP = 12.0
# Diagram parts are printed at this zoom (card titles about 7 pt), less (down to the zoom at
# which cards still show every detail) when that fits the diagram's height on one page.
DETAIL_SCALE = 0.72
SMALLEST_DETAIL_SCALE = 0.56
MAX_DETAIL_PAGES = 24


# --- blocks --------------------------------------------------------------------------------------


@dataclass
class TextBlock:
    """Rich text laid out by QTextDocument; `card` draws it on a framed panel."""

    html: str
    css: str
    palette: ChartPalette
    card: bool = False
    keep_with_next: bool = False

    PAD = 12.0

    def document(self, width: float) -> QTextDocument:
        document = QTextDocument()
        document.setDocumentMargin(0)
        document.setDefaultFont(font(13))
        document.setDefaultStyleSheet(self.css)
        document.setHtml(self.html)
        document.setTextWidth(width - (2 * self.PAD if self.card else 0))
        return document

    def height(self, width: float) -> float:
        return self.document(width).size().height() + (2 * self.PAD if self.card else 0)

    def paint(self, painter: QPainter, rect: QRectF, document: QTextDocument | None = None) -> None:
        if self.card:
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(self.palette.grid, 1))
            painter.setBrush(self.palette.background)
            painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
            painter.restore()
            rect = rect.adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD)
        document = document or self.document(rect.width() + (2 * self.PAD if self.card else 0))
        painter.save()
        painter.translate(rect.topLeft())
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, self.palette.text)
        context.clip = QRectF(0, 0, rect.width(), rect.height())
        painter.setClipRect(context.clip)
        document.documentLayout().draw(painter, context)
        painter.restore()


@dataclass
class ChartBlock:
    chart: Chart
    palette: ChartPalette
    keep_with_next: bool = False

    def height(self, width: float) -> float:
        return CHART_HEIGHT

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.palette.grid, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
        painter.restore()
        paint_chart(painter, rect.adjusted(2, 2, -2, -2), self.chart, self.palette, False)


Block = TextBlock | ChartBlock


# --- the document --------------------------------------------------------------------------------


class _Pages:
    """Flows blocks onto portrait pages of a PDF writer, with running header and footer."""

    def __init__(self, writer, painter: QPainter, report: Report, palette: ChartPalette):
        self.writer = writer
        self.painter = painter
        self.report = report
        self.palette = palette
        self.number = 0
        self.y = 0.0
        self.body = QRectF()

    def start(self, size: QSizeF, first: bool = False) -> None:
        if not first:
            set_pdf_page(self.writer, size)
            self.writer.newPage()
        self.number += 1
        self.painter.fillRect(QRectF(0, 0, size.width(), size.height()), self.palette.background)
        self.body = QRectF(
            MARGIN,
            MARGIN + HEADER,
            size.width() - 2 * MARGIN,
            size.height() - 2 * MARGIN - 2 * HEADER,
        )
        self._running_lines(size)
        self.y = self.body.top()

    def _running_lines(self, size: QSizeF) -> None:
        painter = self.painter
        painter.setFont(font(10))
        painter.setPen(self.palette.muted)
        top = QRectF(MARGIN, MARGIN - 4, size.width() - 2 * MARGIN, HEADER)
        align = Qt.AlignmentFlag.AlignVCenter
        title = painter.fontMetrics().elidedText(
            self.report.title, Qt.TextElideMode.ElideRight, int(top.width() * 0.7)
        )
        painter.drawText(top, align | Qt.AlignmentFlag.AlignLeft, title)
        words = self.report.words
        painter.drawText(top, align | Qt.AlignmentFlag.AlignRight, words["funnel_report"])
        bottom = QRectF(MARGIN, size.height() - MARGIN - HEADER + 4, top.width(), HEADER)
        painter.drawText(bottom, align | Qt.AlignmentFlag.AlignLeft, self.report.generated)
        page = str(T("Report", "Page {n}", n=self.number))
        painter.drawText(bottom, align | Qt.AlignmentFlag.AlignRight, page)

    def room(self) -> float:
        return self.body.bottom() - self.y

    def add(self, blocks: list[Block]) -> None:
        width = self.body.width()
        heights = [block.height(width) for block in blocks]
        for index, block in enumerate(blocks):
            needed = heights[index]
            if block.keep_with_next and index + 1 < len(blocks):
                needed += GAP + min(heights[index + 1], self.body.height() / 3)
            fresh = self.y == self.body.top()
            if needed > self.room() and not fresh:
                self.start(PORTRAIT)
            if heights[index] > self.body.height() and isinstance(block, TextBlock):
                self._tall(block)
                continue
            rect = QRectF(self.body.left(), self.y, width, heights[index])
            block.paint(self.painter, rect)
            self.y += heights[index] + GAP

    def _tall(self, block: TextBlock) -> None:
        """A text taller than a page: QTextDocument breaks it into page-high slices between
        lines, and each slice goes on a page of its own."""
        document = block.document(self.body.width())
        document.setPageSize(QSizeF(self.body.width(), self.body.height()))
        for page in range(document.pageCount()):
            if page:
                self.start(PORTRAIT)
            self.painter.save()
            self.painter.translate(self.body.left(), self.body.top() - page * self.body.height())
            context = QAbstractTextDocumentLayout.PaintContext()
            context.palette.setColor(QPalette.ColorRole.Text, self.palette.text)
            context.clip = QRectF(
                0, page * self.body.height(), self.body.width(), self.body.height()
            )
            self.painter.setClipRect(context.clip)
            document.documentLayout().draw(self.painter, context)
            self.painter.restore()
        self.y = self.body.bottom()


def report_pdf(report: Report, scene: FunnelScene, path: Path) -> int:
    """Write the report; returns the number of pages."""
    palette = PALETTES[report.theme]
    writer = pdf_writer(path, LANDSCAPE, report.title)
    painter = QPainter()
    if not painter.begin(writer):
        raise ExportFileError(f"{path}: the PDF could not be written")
    css = _css(palette)
    pages = _Pages(writer, painter, report, palette)
    try:
        pages.start(LANDSCAPE, first=True)
        parts = _diagram_parts(scene)
        _cover(pages, report, scene, css, len(parts))
        for number, (part, scale) in enumerate(parts, start=1):
            name = T("Report", "The funnel, part {n} of {total}", n=number, total=len(parts))
            _diagram_part(pages, scene, part, scale, str(name), css)
        pages.start(PORTRAIT)
        pages.add(_step_blocks(report, css, palette))
        pages.add(_validation_blocks(report, css, palette))
        if report.results is not None:
            pages.add(_result_blocks(report, css, palette))
    finally:
        painter.end()  # also on failure: a writer destroyed mid-paint crashes Qt
    return pages.number


def _cover(pages: _Pages, report: Report, scene: FunnelScene, css: str, parts: int) -> None:
    """Title, description and facts at the top; the whole diagram fitted below."""
    facts = "".join(
        f"<td class='fact'><span class='label'>{_e(label)}</span><br/><b>{_e(value)}</b></td>"
        for label, value in report.facts
    )
    description = report.scenario.description
    text = TextBlock(
        f"<h1>{_e(report.title)}</h1>"
        + (f"<p class='description'>{_e(description)}</p>" if description else "")
        + f"<table class='facts'><tr>{facts}</tr></table>"
        + (f"<p class='hint'>{_e(_parts_hint(parts))}</p>" if parts else ""),
        css,
        pages.palette,
    )
    width = pages.body.width()
    height = text.height(width)
    text.paint(pages.painter, QRectF(pages.body.left(), pages.body.top(), width, height))
    area = QRectF(
        pages.body.left(),
        pages.body.top() + height + GAP,
        width,
        max(60.0, pages.body.height() - height - GAP),
    )
    source = diagram_rect(scene)
    scale = min(area.width() / source.width(), area.height() / source.height())
    target = QRectF(0, 0, source.width() * scale, source.height() * scale)
    target.moveCenter(area.center())
    target.moveTop(area.top())
    with export_state(scene, background=False):
        paint_diagram(pages.painter, scene, target, source)


def _parts_hint(parts: int) -> str:
    return str(
        T(
            "Report",
            "The next {pages} show the diagram in parts, large enough to read every step.",
            pages=T("Report", "%n page(s)", parts),
        )
    )


def _diagram_parts(scene: FunnelScene) -> list[tuple[QRectF, float]]:
    """The diagram cut into landscape pages at a readable zoom, the cuts falling between steps
    where there is a gap; parts with no step are left out. None when the cover shows it large
    enough, or when it would take more than MAX_DETAIL_PAGES pages (the canvas PDF export
    suits such a diagram better). Each part comes with its zoom."""
    source = diagram_rect(scene)
    body = QSizeF(LANDSCAPE.width() - 2 * MARGIN, LANDSCAPE.height() - 2 * MARGIN - 2 * HEADER)
    room = body.height() - 30  # under the part's heading
    scale = min(DETAIL_SCALE, max(SMALLEST_DETAIL_SCALE, room / source.height()))
    width, height = body.width() / scale, room / scale
    if source.width() <= width * 1.05 and source.height() <= height * 1.05:
        return []
    boxes = [
        item.sceneBoundingRect()
        for item in scene.node_items.values()
        if not getattr(item, "is_frame", False)
    ]
    columns = _cuts([(b.left(), b.right()) for b in boxes], source.left(), source.right(), width)
    rows = _cuts([(b.top(), b.bottom()) for b in boxes], source.top(), source.bottom(), height)
    parts = [
        QRectF(x0, y0, x1 - x0, y1 - y0)
        for y0, y1 in rows
        for x0, x1 in columns
        if any(box.intersects(QRectF(x0, y0, x1 - x0, y1 - y0)) for box in boxes)
    ]
    if len(parts) > MAX_DETAIL_PAGES:
        return []
    return [(part, scale) for part in parts]


def _cuts(
    spans: list[tuple[float, float]], start: float, end: float, most: float
) -> list[tuple[float, float]]:
    """Pieces of [start, end] at most `most` long, each cut placed in a gap between spans
    (the middle of the last gap that fits) or, with no gap, where the piece is full."""
    spans = sorted(spans)
    gaps = []
    reach = start
    for low, high in spans:
        if low > reach:
            gaps.append((reach + low) / 2)
        reach = max(reach, high)
    pieces = []
    while end - start > most:
        fitting = [g for g in gaps if start + most * 0.3 < g <= start + most]
        cut = fitting[-1] if fitting else start + most
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _diagram_part(
    pages: _Pages, scene: FunnelScene, part: QRectF, scale: float, name: str, css: str
) -> None:
    pages.start(LANDSCAPE)
    heading = TextBlock(f"<h2>{_e(name)}</h2>", css, pages.palette)
    height = heading.height(pages.body.width())
    heading.paint(pages.painter, QRectF(pages.body.topLeft(), QSizeF(pages.body.width(), height)))
    target = QRectF(
        pages.body.left(),
        pages.body.top() + height + 4,
        part.width() * scale,
        part.height() * scale,
    )
    pages.painter.save()
    pages.painter.setClipRect(target)
    with export_state(scene, background=False):
        paint_diagram(pages.painter, scene, target, part)
    pages.painter.restore()


def _step_blocks(report: Report, css: str, palette: ChartPalette) -> list[Block]:
    words = report.words
    blocks: list[Block] = [
        TextBlock(
            f"<h2>{_e(words['steps_and_messages'])}</h2>"
            f"<p class='hint'>{_e(words['steps_hint'])}</p>",
            css,
            palette,
            keep_with_next=True,
        )
    ]
    blocks += [TextBlock(_step_html(step), css, palette, card=True) for step in report.steps]
    return blocks


def _step_html(step: Step) -> str:
    parts = [
        "<table width='100%' cellspacing='0' cellpadding='0'><tr>"
        f"<td><span class='number'>{step.number}</span>&nbsp;&nbsp;"
        f"<span class='title'>{_e(step.title)}</span></td>"
        f"<td align='right'><span class='kind' style='background-color:{step.colour}'>"
        f"&nbsp;{_e(step.kind)}&nbsp;</span></td></tr></table>",
        f"<p class='summary'>{_e(step.summary)}</p>",
    ]
    message = step.message
    if message is not None:
        subject = f"&nbsp;&nbsp;<b>{_e(message.subject)}</b>" if message.subject else ""
        warning = (
            f"<p class='warning'>{_e(message.sample_note)}</p>" if message.sample_failed else ""
        )
        parts.append(
            "<table class='message' width='100%' cellspacing='0' cellpadding='8'><tr><td>"
            f"<span class='channel'>{_e(message.channel.upper())}</span>{subject}"
            f"<p class='body'>{_lines(message.body)}</p>{warning}</td></tr></table>"
        )
    if step.exits:
        exits = "<br/>".join(
            f"<b>{_e(exit.label)}</b> → "
            + (
                f"<span class='open'>{_e(exit.target)}</span>"
                if not exit.target_id
                else _e(exit.target)
            )
            for exit in step.exits
        )
        parts.append(f"<p class='exits'>{exits}</p>")
    return "".join(parts)


def _validation_blocks(report: Report, css: str, palette: ChartPalette) -> list[Block]:
    words = report.words
    findings = report.findings
    errors = any(f.severity == "error" for f in findings)
    if not findings:
        verdict = f"<p class='ok'><b>{_e(words['no_problems'])}</b></p>"
        rows = ""
    else:
        must_fix = f" {words['must_fix']}" if errors else ""
        verdict = (
            f"<p class='{'bad' if errors else 'meh'}'><b>{_e(words['verdict'] + must_fix)}</b></p>"
        )
        rows = "".join(
            f"<tr><td class='{f.severity}'>{_e(f.label)}</td>"
            f"<td>{_e(f.step)}</td><td>{_e(f.text)}</td></tr>"
            for f in findings
        )
        rows = (
            "<table class='grid' width='100%' cellspacing='0' cellpadding='5'>"
            f"<tr><th>{_e(words['severity'])}</th><th>{_e(words['step'])}</th>"
            f"<th>{_e(words['problem'])}</th></tr>{rows}</table>"
        )
    return [
        TextBlock(f"<h2>{_e(words['validation'])}</h2>", css, palette, keep_with_next=True),
        TextBlock(verdict + rows, css, palette),
    ]


def _result_blocks(report: Report, css: str, palette: ChartPalette) -> list[Block]:
    results = report.results
    assert results is not None
    words = report.words
    cells = []
    for figure in results.headline:
        # The range on a line of its own, unbroken: Qt breaks at narrow no-break spaces too.
        shown = f"<br/>{_e(figure.range.replace(THIN, NBSP))}" if figure.range else ""
        cells.append(
            f"<td class='figure'><span class='label'>{_e(figure.label)}</span><br/>"
            f"<span class='value'>{_e(figure.value)}</span><br/>"
            f"<span class='note'>{_e(figure.note)}{shown}</span></td>"
        )
    rows = "".join("<tr>" + "".join(cells[i : i + 4]) + "</tr>" for i in range(0, len(cells), 4))
    ranged = results.runs > 1
    stage_rows = "".join(
        f"<tr><td>{_e(s['stage'])}</td><td align='right'>{_e(s['contacts'])}</td>"
        + (f"<td align='right'>{_e(s['range'])}</td>" if ranged else "")
        + f"<td align='right'>{_e(s['from_previous'])}</td>"
        f"<td align='right'>{_e(s['from_start'])}</td>"
        f"<td align='right'>{_e(s['revenue'])}</td></tr>"
        for s in results.stages
    )
    headers = [words[key] for key in ("contacts", "range", "from_previous", "from_start")]
    headers.append(words["revenue"])
    if not ranged:
        headers.remove(words["range"])
    stages = (
        "<table class='grid' width='100%' cellspacing='0' cellpadding='5'>"
        f"<tr><th>{_e(words['stage'])}</th>"
        + "".join(f"<th align='right'>{_e(header)}</th>" for header in headers)
        + f"</tr>{stage_rows}</table>"
        if results.stages
        else ""
    )
    blocks: list[Block] = [
        TextBlock(f"<h2>{_e(words['simulation_results'])}</h2>", css, palette, keep_with_next=True),
        TextBlock(
            f"<p class='hint'>{_e(words['results_hint'])}</p>"
            f"<table class='figures' width='100%' cellspacing='6' cellpadding='6'>{rows}</table>"
            + stages,
            css,
            palette,
        ),
    ]
    blocks += [ChartBlock(chart, palette) for chart in results.charts]
    return blocks


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _lines(text: str) -> str:
    return "<br/>".join(_e(line) for line in text.splitlines()) or "&nbsp;"


def _css(palette: ChartPalette) -> str:
    """Qt rich text's small CSS subset, in the palette's colours."""
    text, muted, rule = palette.text.name(), palette.muted.name(), palette.grid.name()
    code = QColor("#2A2F38" if palette.name == "dark" else "#F3F5F8").name()
    return f"""
        body {{ color: {text}; }}
        h1 {{ font-size: 26px; font-weight: bold; margin: 0 0 8px 0; }}
        h2 {{ font-size: 19px; font-weight: bold; margin: 4px 0 6px 0; }}
        p {{ margin: 0 0 4px 0; }}
        .description {{ font-size: 14px; margin: 0 0 12px 0; }}
        .hint {{ color: {muted}; font-size: 12px; }}
        .label {{ color: {muted}; font-size: 11px; }}
        .fact {{ padding-right: 24px; font-size: 13px; }}
        .number {{ color: {muted}; font-weight: bold; font-size: 14px; }}
        .title {{ font-weight: bold; font-size: 15px; }}
        .kind {{ color: #FFFFFF; font-size: 11px; font-weight: bold; }}
        .summary {{ color: {muted}; font-size: 13px; margin: 4px 0 4px 0; }}
        .message {{ background-color: {code}; margin: 4px 0 4px 0; }}
        .channel {{ color: {palette.bar.name()}; font-weight: bold; font-size: 12px; }}
        .body {{ font-size: 13px; margin: 6px 0 0 0; }}
        .exits {{ color: {muted}; font-size: 12px; margin: 4px 0 0 0; }}
        .open {{ color: #D93025; font-weight: bold; }}
        .ok {{ color: {palette.revenue.name()}; }}
        .meh {{ color: #B7791F; }}
        .bad {{ color: #D93025; }}
        .error {{ color: #D93025; font-weight: bold; }}
        .warning {{ color: #B7791F; }}
        .grid {{ border-color: {rule}; border-style: solid; font-size: 12px; margin: 8px 0 0 0; }}
        th {{ color: {muted}; font-size: 11px; text-align: left; }}
        .figure {{ background-color: {code}; }}
        .value {{ font-size: 18px; font-weight: bold; }}
        .note {{ color: {muted}; font-size: 11px; }}
    """
