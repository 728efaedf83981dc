"""The inspector's "In simulation" box: this step's own probability, overriding the defaults.

A message may be delivered less often than its channel's benchmark, a webhook may fail more,
a wait for a purchase may be likelier after this particular e-mail; the figure is saved with the
funnel (undoable) and the simulation uses it for this step only.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLocale, QSignalBlocker
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout

from app.document import EditorDocument
from app.engine.behaviour import DELIVERY, NOTIFY_FAILURE
from app.engine.model import Node

# node type → (assumption key, what the figure is)
NODE_KEYS = {
    "message": ("deliver", QT_TRANSLATE_NOOP("NodeAssumptionBox", "Delivered")),
    "offer": ("deliver", QT_TRANSLATE_NOOP("NodeAssumptionBox", "Delivered")),
    "wait_event": (
        "happened",
        QT_TRANSLATE_NOOP("NodeAssumptionBox", "Happens before the timeout"),
    ),
    "notify": ("failed", QT_TRANSLATE_NOOP("NodeAssumptionBox", "Fails")),
}


def default_value(node: Node, channels: dict) -> float | None:
    """The figure the simulation uses without an override; None when it depends on the path
    (a wait's chance follows the channel of the last message before it)."""
    key, _ = NODE_KEYS[node.type]
    if key == "deliver":
        channel = str(node.params.get("channel", "email"))
        return channels.get(channel, {}).get("deliver", DELIVERY.get(channel, 0.95))
    if key == "failed":
        return NOTIFY_FAILURE.get(str(node.params.get("kind", "manager")), 0.0)
    return None


def default_text(node: Node, channels: dict) -> str:
    """What the simulation assumes for this step without an override, in words."""
    value = default_value(node, channels)
    if value is None:
        return QCoreApplication.translate(
            "NodeAssumptionBox",
            "Default: by the channel of the last message before the wait (Simulation panel)",
        )
    percent = QLocale().toString(value * 100, "g", 3)
    if node.type == "notify":
        text = QCoreApplication.translate("NodeAssumptionBox", "Default: {value} %")
    else:
        text = QCoreApplication.translate(
            "NodeAssumptionBox", "Default: {value} % (the channel's figure in the Simulation panel)"
        )
    return text.format(value=percent)


class NodeAssumptionBox(QGroupBox):
    def __init__(self, document: EditorDocument, node: Node) -> None:
        super().__init__()
        self.setTitle(self.tr("In simulation"))
        self.document = document
        self.node_id = node.id
        self.key, title = NODE_KEYS[node.type]
        self.own = QCheckBox(f"{QCoreApplication.translate('NodeAssumptionBox', title)}:")
        self.own.setToolTip(self.tr("Use your own figure for this step instead of the default"))
        self.value = QDoubleSpinBox(minimum=0.0, maximum=100.0, decimals=1, suffix=" %")
        self.value.setSingleStep(0.5)
        self.default = QLabel()
        self.default.setWordWrap(True)
        self.default.setStyleSheet("color: #5F6B7A")
        row = QHBoxLayout()
        row.addWidget(self.own)
        row.addWidget(self.value, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.default)
        self.refresh()
        self.own.toggled.connect(self._edited)
        self.value.valueChanged.connect(self._edited)

    def refresh(self) -> None:
        node = self.document.scenario.nodes.get(self.node_id)
        if node is None:
            return
        assumptions = self.document.simulation_assumptions()
        override = assumptions.node_value(self.node_id, self.key)
        with QSignalBlocker(self.own), QSignalBlocker(self.value):
            self.own.setChecked(override is not None)
            if override is not None:
                self.value.setValue(override * 100)
        self.value.setEnabled(override is not None)
        self.default.setText(default_text(node, assumptions.channels))

    def _edited(self, *_: object) -> None:
        assumptions = copy.deepcopy(self.document.simulation_assumptions())
        figures = assumptions.nodes.setdefault(self.node_id, {})
        node = self.document.scenario.nodes[self.node_id]
        if self.own.isChecked() and self.key not in figures and self.sender() is self.own:
            start = default_value(node, assumptions.channels)  # start from the default
            with QSignalBlocker(self.value):
                self.value.setValue((start if start is not None else 0.1) * 100)
        if self.own.isChecked():
            figures[self.key] = round(self.value.value() / 100, 4)
        else:
            figures.pop(self.key, None)
        if not figures:
            assumptions.nodes.pop(self.node_id)
        self.document.set_simulation_assumptions(
            assumptions,
            self.tr("Set the simulated figure of ‘{step}’").format(step=node.display_title),
            self.node_id,
        )
        self.value.setEnabled(self.own.isChecked())
