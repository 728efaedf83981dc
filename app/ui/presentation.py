"""Presentation mode (F5): the funnel full screen for a client, one stage at a time.

A second, read-only view of the same document in a clean theme, without the editor's chrome.
The stops are the stage frames left to right (or, in a funnel without frames, its steps in
groups of a few), after a first view of the whole funnel; arrow keys move between them with a
short animated zoom, N shows or hides the simulation numbers, Esc leaves.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEasingCurve, QRectF, Qt, QVariantAnimation
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QGraphicsView, QLabel, QVBoxLayout, QWidget

from app.canvas.scene import FunnelScene
from app.canvas.view import FunnelView
from app.document import EditorDocument
from app.engine.flow import FlowFigures
from app.engine.geometry import node_size

STEPS_PER_STOP = 5  # a funnel without stage frames is shown this many steps at a time
ANIMATION_MS = 350
MARGIN = 60.0
NEXT_KEYS = {Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Space, Qt.Key.Key_PageDown}
PREVIOUS_KEYS = {Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_Backspace, Qt.Key.Key_PageUp}
CAPTION_STYLE = (
    "QLabel { background: rgba(31, 36, 48, 215); color: white; border-radius: 10px;"
    " padding: 10px 18px; font-size: 15pt; }"
)


@dataclass(frozen=True)
class Stop:
    title: str
    rect: QRectF


def presentation_stops(document: EditorDocument) -> list[Stop]:
    """The whole funnel first, then each stage frame left to right (or groups of steps)."""
    scenario = document.scenario
    everything = QRectF()
    for node in scenario.nodes.values():
        width, height = node_size(node)
        everything = everything.united(QRectF(*node.position, width, height))
    stops = [
        Stop(
            scenario.name or QCoreApplication.translate("Presentation", "The whole funnel"),
            everything,
        )
    ]
    frames = sorted(
        (n for n in scenario.nodes.values() if n.type == "group"),
        key=lambda n: (n.position[0], n.position[1]),
    )
    if frames:
        for frame in frames:
            width, height = node_size(frame)
            title = (
                frame.title
                or str(frame.params.get("text", ""))
                or QCoreApplication.translate("Presentation", "Stage")
            )
            stops.append(Stop(title, QRectF(*frame.position, width, height)))
        return stops
    steps = sorted(scenario.flow_nodes(), key=lambda n: (n.position[0], n.position[1]))
    for start in range(0, len(steps), STEPS_PER_STOP):
        chunk = steps[start : start + STEPS_PER_STOP]
        rect = QRectF()
        for node in chunk:
            width, height = node_size(node)
            rect = rect.united(QRectF(*node.position, width, height))
        last = min(start + STEPS_PER_STOP, len(steps))
        words = QCoreApplication.translate("Presentation", "Steps {first}–{last} of {count}")
        stops.append(Stop(words.format(first=start + 1, last=last, count=len(steps)), rect))
    return stops


class PresentationWindow(QWidget):
    def __init__(
        self,
        document: EditorDocument,
        flow: FlowFigures | None = None,
        flow_stale: bool = False,
        headline: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(
            self.tr("{name} — Voronka presentation").format(name=document.scenario.name)
        )
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.document = document
        self.scene = FunnelScene(document, "presentation")
        self.scene.setParent(self)  # goes with the window, and stops following the document
        self.view = FunnelView(self.scene)
        self.view.setInteractive(False)  # read-only: no selecting, moving or connecting
        self.view.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.view.setAcceptDrops(False)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.caption = QLabel(self)
        self.caption.setStyleSheet(CAPTION_STYLE)
        self.caption.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.flow = flow
        self.flow_stale = flow_stale
        self.headline = headline
        self.numbers_shown = flow is not None
        self.scene.set_flow(flow, stale=flow_stale)
        self.stops = presentation_stops(document)
        self.index = 0
        self._animation = QVariantAnimation(self)
        self._animation.setDuration(ANIMATION_MS)
        self._animation.setEasingCurve(QEasingCurve.Type.InOutCubic)
        self._animation.valueChanged.connect(self._show_rect)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # --- stops -----------------------------------------------------------------------------
    def go_to(self, index: int, animate: bool = True) -> None:
        index = max(0, min(index, len(self.stops) - 1))
        target = self.stops[index].rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
        self.index = index
        self._animation.stop()
        if animate and self.isVisible():
            current = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
            self._animation.setStartValue(current)
            self._animation.setEndValue(target)
            self._animation.start()
        else:
            self._show_rect(target)
        self._update_caption()

    def finish_animation(self) -> None:
        """Jump to the end of a running zoom (tests, and a key pressed mid-animation)."""
        if self._animation.state() == QVariantAnimation.State.Running:
            end = self._animation.endValue()
            self._animation.stop()
            self._show_rect(end)

    def _show_rect(self, rect: QRectF) -> None:
        self.view.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self.view._zoomed()

    def visible_scene_rect(self) -> QRectF:
        return self.view.mapToScene(self.view.viewport().rect()).boundingRect()

    # --- numbers ---------------------------------------------------------------------------
    def toggle_numbers(self) -> None:
        if self.flow is None:
            return
        self.numbers_shown = not self.numbers_shown
        self.scene.set_flow(self.flow if self.numbers_shown else None, stale=self.flow_stale)
        self._update_caption()

    def _update_caption(self) -> None:
        stop = self.stops[self.index]
        text = f"<b>{stop.title}</b>"
        if len(self.stops) > 1:
            text += f"&nbsp;&nbsp;<span style='color:#B8C0CC'>{self.index + 1} / {len(self.stops)}"
            text += "</span>"
        if self.numbers_shown and self.headline:
            text += f"<br><span style='font-size:12pt'>{self.headline}</span>"
        self.caption.setText(text)
        self._place_caption()

    def _place_caption(self) -> None:
        widest = max(200, self.width() - 80)
        self.caption.setWordWrap(False)
        self.caption.setMinimumWidth(0)
        self.caption.setMaximumWidth(16777215)
        natural = self.caption.sizeHint().width()
        if natural > widest:  # wrap only a caption that does not fit on one line
            self.caption.setWordWrap(True)
            self.caption.setFixedWidth(widest)
            self.caption.setFixedHeight(self.caption.heightForWidth(widest))
        else:
            self.caption.setFixedSize(self.caption.sizeHint())
        self.caption.move(
            (self.width() - self.caption.width()) // 2, self.height() - self.caption.height() - 28
        )
        self.caption.raise_()

    # --- events ----------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.go_to(self.index, animate=False)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.finish_animation()
        self.go_to(self.index, animate=False)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.close()
        elif key in NEXT_KEYS:
            self.finish_animation()
            self.go_to(self.index + 1)
        elif key in PREVIOUS_KEYS:
            self.finish_animation()
            self.go_to(self.index - 1)
        elif key == Qt.Key.Key_Home:
            self.go_to(0)
        elif key == Qt.Key.Key_End:
            self.go_to(len(self.stops) - 1)
        elif key == Qt.Key.Key_N:
            self.toggle_numbers()
        else:
            super().keyPressEvent(event)
