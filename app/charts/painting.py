"""Paint a chart into a rectangle of any QPainter: a widget, a PNG, an SVG or a PDF page.

Sizes are logical pixels (1/96 inch); fonts are set in pixels, so a chart looks the same on
every device the painter may be on. Every text is measured before it is placed: labels are
elided to their column, figures move outside a bar that is too short for them, and axis
labels are thinned until they no longer touch.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen

from app.charts.data import ChannelChart, Chart, FunnelChart, Interval, SeriesChart
from app.charts.numbers import compact, grouped, money, nice_ticks, percent
from app.charts.palette import ChartPalette

FONT_FAMILY = "DejaVu Sans"
PAD = 14.0
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_CENTRE = Qt.AlignmentFlag.AlignCenter


def font(pixels: float, bold: bool = False) -> QFont:
    result = QFont(FONT_FAMILY)
    result.setPixelSize(max(6, round(pixels)))
    if bold:
        result.setWeight(QFont.Weight.DemiBold)
    return result


def paint_chart(
    painter: QPainter, rect: QRectF, chart: Chart, palette: ChartPalette, background: bool = True
) -> None:
    """Title and note at the top, the chart below; `background=False` leaves the page's own."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.setClipRect(rect)
    if background:
        painter.fillRect(rect, palette.background)
    scale = max(0.75, min(1.25, min(rect.width() / 560, rect.height() / 320)))
    plot = _heading(painter, rect.adjusted(PAD, PAD * 0.8, -PAD, -PAD), chart, palette, scale)
    if isinstance(chart, FunnelChart):
        _funnel(painter, plot, chart, palette, scale)
    elif isinstance(chart, ChannelChart):
        _channels(painter, plot, chart, palette, scale)
    else:
        _series(painter, plot, chart, palette, scale)
    painter.restore()


# --- pieces ----------------------------------------------------------------------------------


def _heading(
    painter: QPainter, rect: QRectF, chart: Chart, palette: ChartPalette, scale: float
) -> QRectF:
    """The title (and the note under it); returns what is left for the chart."""
    title_font = font(15 * scale, bold=True)
    metrics = QFontMetricsF(title_font)
    painter.setFont(title_font)
    painter.setPen(palette.text)
    line = metrics.height()
    painter.drawText(
        QRectF(rect.left(), rect.top(), rect.width(), line),
        _LEFT,
        metrics.elidedText(chart.title, Qt.TextElideMode.ElideRight, rect.width()),
    )
    top = rect.top() + line + 2
    if chart.note:
        note_font = font(11 * scale)
        note_metrics = QFontMetricsF(note_font)
        painter.setFont(note_font)
        painter.setPen(palette.muted)
        painter.drawText(
            QRectF(rect.left(), top, rect.width(), note_metrics.height()),
            _LEFT,
            note_metrics.elidedText(chart.note, Qt.TextElideMode.ElideRight, rect.width()),
        )
        top += note_metrics.height()
    top += 8 * scale
    return QRectF(rect.left(), top, rect.width(), max(0.0, rect.bottom() - top))


def _text(
    painter: QPainter, rect: QRectF, text: str, the_font: QFont, colour: QColor, align
) -> None:
    painter.setFont(the_font)
    painter.setPen(colour)
    painter.drawText(rect, align, text)


def _whisker(
    painter: QPainter, y: float, x_low: float, x_high: float, half: float, colour: QColor
) -> None:
    """A horizontal 95 % range with end caps."""
    pen = QPen(colour, 1.4)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    painter.setPen(pen)
    painter.drawLine(QPointF(x_low, y), QPointF(x_high, y))
    for x in (x_low, x_high):
        painter.drawLine(QPointF(x, y - half), QPointF(x, y + half))


def _empty(painter: QPainter, rect: QRectF, text: str, palette: ChartPalette, scale: float) -> None:
    _text(painter, rect, text, font(13 * scale), palette.muted, _CENTRE | Qt.TextFlag.TextWordWrap)


def _label_width(texts: list[str], the_font: QFont, share: float, width: float) -> float:
    """A label column as wide as its longest text, but at most `share` of the width."""
    metrics = QFontMetricsF(the_font)
    widest = max((metrics.horizontalAdvance(t) for t in texts), default=0.0)
    return min(widest + 4, width * share)


def _top(value: float, interval: Interval | None) -> float:
    return max(value, interval[1] if interval else value)


# --- the funnel --------------------------------------------------------------------------------


def _funnel(
    painter: QPainter, rect: QRectF, chart: FunnelChart, palette: ChartPalette, scale: float
) -> None:
    """One row per step: its name, a bar from the left (a band joins it to the next, the
    funnel's narrowing), the count, and on the right its share of the start and of the
    previous step."""
    steps = chart.steps
    if not steps or steps[0].count <= 0:
        empty = QCoreApplication.translate("Chart", "No contact entered in this run")
        _empty(painter, rect, empty, palette, scale)
        return
    label_font = font(12 * scale)
    figure_font = font(12 * scale, bold=True)
    small_font = font(10.5 * scale)
    label_w = _label_width([s.label for s in steps], label_font, 0.3, rect.width())
    of_start = QCoreApplication.translate("Chart", "{share} of start")
    of_previous = QCoreApplication.translate("Chart", "{share} of previous")
    shares = [
        of_start.format(share=percent(s.from_start)) if i else percent(s.from_start)
        for i, s in enumerate(steps)
    ]
    previous = [of_previous.format(share=percent(s.from_previous)) for s in steps[1:]]
    right_w = max(
        _label_width(shares, figure_font, 0.3, rect.width()),
        _label_width(previous, small_font, 0.3, rect.width()),
    )
    counts = [grouped(s.count) for s in steps]
    count_w = _label_width(counts, figure_font, 0.2, rect.width()) + 8
    gap = 10 * scale
    bars_left = rect.left() + label_w + gap
    bars_width = max(10.0, rect.width() - label_w - right_w - count_w - 3 * gap)
    row = rect.height() / len(steps)
    bar_h = min(row * 0.58, 34 * scale)
    top_value = max(_top(s.count, s.interval) for s in steps)
    label_metrics = QFontMetricsF(label_font)

    def width_of(value: float) -> float:
        return max(2.0, value / top_value * bars_width) if value > 0 else 0.0

    ends = [bars_left + width_of(s.count) for s in steps]
    for index in range(len(steps) - 1):  # the bands first, under the bars
        y0 = rect.top() + index * row + (row + bar_h) / 2
        y1 = rect.top() + (index + 1) * row + (row - bar_h) / 2
        band = QPainterPath(QPointF(bars_left, y0))
        band.lineTo(ends[index], y0)
        band.lineTo(ends[index + 1], y1)
        band.lineTo(bars_left, y1)
        band.closeSubpath()
        painter.fillPath(band, palette.connector)
    for index, step in enumerate(steps):
        y = rect.top() + index * row
        centre = y + row / 2
        bar = QRectF(bars_left, centre - bar_h / 2, ends[index] - bars_left, bar_h)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.bar)
        painter.drawRoundedRect(bar, 3, 3)
        label = label_metrics.elidedText(step.label, Qt.TextElideMode.ElideRight, label_w)
        _text(painter, QRectF(rect.left(), y, label_w, row), label, label_font, palette.text, _LEFT)
        end = bar.right()
        if step.interval is not None:
            low, high = (bars_left + width_of(v) for v in step.interval)
            _whisker(painter, centre, low, high, bar_h * 0.22, palette.whisker)
            end = max(end, high)
        count_text = counts[index]
        inside = QFontMetricsF(figure_font).horizontalAdvance(count_text) + 12 <= bar.width()
        if inside and step.interval is None:
            box = bar.adjusted(6, 0, -6, 0)
            _text(painter, box, count_text, figure_font, palette.bar_text, _LEFT)
        else:
            box = QRectF(end + 6, y, count_w, row)
            _text(painter, box, count_text, figure_font, palette.text, _LEFT)
        right = QRectF(rect.right() - right_w, y, right_w, row)
        if index == 0:
            _text(painter, right, shares[0], figure_font, palette.text, _RIGHT)
            continue
        half = QFontMetricsF(figure_font).height()
        upper = QRectF(right.left(), centre - half, right_w, half)
        lower = QRectF(right.left(), centre, right_w, QFontMetricsF(small_font).height())
        _text(painter, upper, shares[index], figure_font, palette.text, _RIGHT)
        _text(painter, lower, previous[index - 1], small_font, palette.muted, _RIGHT)


# --- revenue and cost per channel --------------------------------------------------------------


def _channels(
    painter: QPainter, rect: QRectF, chart: ChannelChart, palette: ChartPalette, scale: float
) -> None:
    """Per channel two bars on one money scale, revenue over cost, each with its figure."""
    channels = chart.channels
    if not channels or not any(c.revenue or c.cost for c in channels):
        empty = QCoreApplication.translate("Chart", "No message was sent in this run")
        _empty(painter, rect, empty, palette, scale)
        return
    label_font = font(12 * scale)
    figure_font = font(11 * scale)
    legend_font = font(11 * scale)
    legend_h = QFontMetricsF(legend_font).height() + 6 * scale
    _legend(
        painter,
        QRectF(rect.left(), rect.top(), rect.width(), legend_h),
        [
            (QCoreApplication.translate("Chart", "Revenue"), palette.revenue),
            (QCoreApplication.translate("Chart", "Cost"), palette.cost),
        ],
        legend_font,
        palette,
    )
    body = rect.adjusted(0, legend_h, 0, 0)
    label_w = _label_width([c.label for c in channels], label_font, 0.28, rect.width())
    figures = [money(value, chart.currency) for c in channels for value in (c.revenue, c.cost)]
    figure_w = _label_width(figures, figure_font, 0.3, rect.width()) + 8
    gap = 10 * scale
    bars_left = body.left() + label_w + gap
    bars_width = max(10.0, body.width() - label_w - figure_w - 2 * gap)
    top_value = max(
        max(_top(c.revenue, c.revenue_interval), _top(c.cost, c.cost_interval)) for c in channels
    )
    row = min(body.height() / len(channels), 64 * scale)  # a few channels stay at the top
    bar_h = min(row * 0.3, 18 * scale)
    metrics = QFontMetricsF(label_font)
    for index, channel in enumerate(channels):
        y = body.top() + index * row
        label = metrics.elidedText(channel.label, Qt.TextElideMode.ElideRight, label_w)
        _text(painter, QRectF(body.left(), y, label_w, row), label, label_font, palette.text, _LEFT)
        pairs = (
            (channel.revenue, channel.revenue_interval, palette.revenue, -1),
            (channel.cost, channel.cost_interval, palette.cost, 1),
        )
        for value, interval, colour, side in pairs:
            centre = y + row / 2 + side * (bar_h / 2 + 1.5 * scale)
            width = value / top_value * bars_width if top_value > 0 and value > 0 else 0.0
            if value > 0:
                width = max(width, 2.0)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(QRectF(bars_left, centre - bar_h / 2, width, bar_h), 2, 2)
            end = bars_left + width
            if interval is not None and top_value > 0:
                low, high = (bars_left + v / top_value * bars_width for v in interval)
                _whisker(painter, centre, low, high, bar_h * 0.3, palette.whisker)
                end = max(end, high)
            box = QRectF(end + 6, centre - bar_h, figure_w, 2 * bar_h)
            _text(painter, box, money(value, chart.currency), figure_font, palette.text, _LEFT)


def _legend(
    painter: QPainter,
    rect: QRectF,
    entries: list[tuple[str, QColor]],
    the_font: QFont,
    palette: ChartPalette,
) -> None:
    """Colour keys at the top right."""
    metrics = QFontMetricsF(the_font)
    swatch = metrics.height() * 0.7
    x = rect.right()
    for text, colour in reversed(entries):
        width = metrics.horizontalAdvance(text)
        x -= width
        _text(
            painter,
            QRectF(x, rect.top(), width + 2, rect.height()),
            text,
            the_font,
            palette.muted,
            _LEFT,
        )
        x -= swatch + 5
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(QRectF(x, rect.center().y() - swatch / 2, swatch, swatch), 2, 2)
        x -= 14


# --- counts per day ----------------------------------------------------------------------------


def _series(
    painter: QPainter, rect: QRectF, chart: SeriesChart, palette: ChartPalette, scale: float
) -> None:
    """Vertical bars per day over a value axis with round ticks."""
    values = chart.values
    if not values or not any(values):
        _empty(painter, rect, chart.empty_text, palette, scale)
        return
    tick_font = font(10.5 * scale)
    metrics = QFontMetricsF(tick_font)
    ticks = nice_ticks(max(values))
    tick_texts = [compact(t) for t in ticks]
    axis_w = max(metrics.horizontalAdvance(t) for t in tick_texts) + 8 * scale
    caption_h = metrics.height() + 2
    plot = QRectF(
        rect.left() + axis_w,
        rect.top() + metrics.height() / 2,
        rect.width() - axis_w - 4,
        rect.height() - metrics.height() / 2 - metrics.height() - caption_h - 6 * scale,
    )
    if plot.height() < 20 or plot.width() < 20:
        _empty(painter, rect, chart.empty_text, palette, scale)
        return
    top = ticks[-1]
    for tick, text in zip(ticks, tick_texts, strict=True):
        y = plot.bottom() - tick / top * plot.height()
        painter.setPen(QPen(palette.grid if tick else palette.axis, 1))
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        box = QRectF(rect.left(), y - metrics.height() / 2, axis_w - 6 * scale, metrics.height())
        _text(painter, box, text, tick_font, palette.muted, _RIGHT)
    slot = plot.width() / len(values)
    bar_w = max(1.0, slot * 0.72)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(palette.bar)
    for index, value in enumerate(values):
        if value <= 0:
            continue
        height = max(1.0, value / top * plot.height())
        x = plot.left() + index * slot + (slot - bar_w) / 2
        painter.drawRect(QRectF(x, plot.bottom() - height, bar_w, height))
    # Day labels: the first, then every k-th day (k = 1, 2, 5, 7, 10, … whichever fits), and
    # none closer to the one before than its width.
    widest = metrics.horizontalAdvance(str(chart.first + len(values) - 1)) + 8 * scale
    every = next(
        (k for k in (1, 2, 5, 7, 10, 14, 20, 30, 50, 100) if k * slot >= widest), len(values)
    )
    last_x = -float("inf")
    for index in range(len(values)):
        day = chart.first + index
        x = plot.left() + (index + 0.5) * slot
        if (index and day % every) or x - last_x < widest:
            continue
        last_x = x
        box = QRectF(x - widest / 2, plot.bottom() + 2, widest, metrics.height())
        _text(painter, box, str(day), tick_font, palette.muted, _CENTRE)
    caption = QRectF(plot.left(), rect.bottom() - caption_h, plot.width(), caption_h)
    label = metrics.elidedText(chart.x_label, Qt.TextElideMode.ElideRight, plot.width())
    _text(painter, caption, label, tick_font, palette.muted, _CENTRE)
