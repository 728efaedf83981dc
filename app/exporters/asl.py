"""AWS Step Functions: the scenario as an Amazon States Language state machine (JSONPath).

One execution walks one contact. Its input is `{"contact": {...}}` — the runtime contact of
docs/CONDITIONS.md — plus `"entry"` (which entry, when there are several) and optionally
`"variants"` (an A/B variant fixed in advance, by split state name). Each step becomes states
named after the node id, auxiliary states get a `__` suffix:

- waits are Wait states; a send window asks the action handler for the next opening
  (`<id>__window`) and waits until that timestamp;
- wait-for-event is a Lambda callback task (`.waitForTaskToken`) with `TimeoutSeconds` and a
  Catch on `States.Timeout` leading to the timeout exit;
- conditions and switches reload the contact (`<id>__contact`), compute tag tests with
  `States.ArrayContains` (`<id>__tags`) and branch in a Choice state that always has a Default;
- A/B splits keep a variant fixed in the input, else draw `States.MathRandom` (`<id>__draw`)
  and pick by cumulative weight (`<id>__bucket`);
- messages, offers and notifications are Task states calling a configurable resource, then a
  Choice on the returned status (`<id>__status`); any task error takes the failed exit;
- updates and goals are tasks of the action handler; exits record `{"exit", "outcome"}` in
  `$.exit` and end in a Succeed state (or Fail, for outcomes listed in `fail_outcomes`).

What ASL cannot express — frequency cap, quiet hours, send windows, triggers and re-entry,
leaving on unsubscribe, conditions Choice rules cannot write — is returned as warnings naming
the nodes. The mapping and the handler contract are documented in docs/EXPORTS.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.engine import expressions, templates
from app.engine.catalog import MESSAGE_TYPES, OUTCOMES
from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema
from app.engine.durations import parse_duration
from app.engine.model import Node, Scenario
from app.exporters.asl_rules import ALWAYS, ChoiceCompiler, Inexpressible, Rule, typed_rule
from app.exporters.base import (
    ExportOptionError,
    ExportResult,
    ExportWarning,
    Flow,
    check_exportable,
    generator_version,
    parse_options,
)

_PLACEHOLDER = "arn:aws:lambda:us-east-1:123456789012:function:"
OPTIONS: dict[str, str] = {
    "message_resource": "Task resource that sends messages: a Lambda function or activity ARN",
    "action_resource": "Task resource for contact loads, updates, goals, notifications, windows",
    "event_function": "Lambda function invoked with a task token to wait for an event",
    "fail_outcomes": "comma-separated exit outcomes that end in a Fail state (default: none)",
}
# Transient Lambda errors, retried as the Step Functions console does by default.
_RETRY = [
    {
        "ErrorEquals": [
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
        ],
        "IntervalSeconds": 2,
        "MaxAttempts": 6,
        "BackoffRate": 2.0,
    }
]
_CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"
_ARN = re.compile(r"^arn:[\w-]+:[\w-]+:[\w-]*:\d*:.+$")
_MAX_NAME = 80
DRAW_RANGE = 10_000  # a split draws 0 ≤ n < 10 000: weights to 0.01 %


@dataclass(frozen=True)
class AslOptions:
    message_resource: str = _PLACEHOLDER + "voronka-send-message"
    action_resource: str = _PLACEHOLDER + "voronka-action"
    event_function: str = _PLACEHOLDER + "voronka-wait-for-event"
    fail_outcomes: frozenset[str] = frozenset()

    @classmethod
    def from_strings(cls, given: Mapping[str, str]) -> AslOptions:
        values: dict[str, Any] = parse_options(given, OPTIONS, "ASL")
        for key in ("message_resource", "action_resource", "event_function"):
            if key in values and not _ARN.match(values[key]):
                raise ExportOptionError(f"{key} must be an ARN (arn:aws:…), not ‘{values[key]}’")
        if "fail_outcomes" in values:
            outcomes = {o.strip() for o in values["fail_outcomes"].split(",") if o.strip()}
            unknown = sorted(outcomes - set(OUTCOMES))
            if unknown:
                raise ExportOptionError(
                    f"fail_outcomes: unknown outcome {', '.join(unknown)}; "
                    f"outcomes: {', '.join(OUTCOMES)}"
                )
            values["fail_outcomes"] = frozenset(outcomes)
        return cls(**values)


def export_asl(
    scenario: Scenario, options: AslOptions | None = None, schema: ContactSchema = DEFAULT_SCHEMA
) -> tuple[dict[str, Any], list[ExportWarning]]:
    """The state machine definition and what it could not carry."""
    check_exportable(scenario, schema)
    builder = _Builder(scenario, options or AslOptions(), schema)
    return builder.build(), builder.warnings


def dumps_asl(
    scenario: Scenario,
    options: Mapping[str, str] | None = None,
    schema: ContactSchema = DEFAULT_SCHEMA,
) -> ExportResult:
    definition, warnings = export_asl(scenario, AslOptions.from_strings(options or {}), schema)
    return ExportResult(json.dumps(definition, indent=2, ensure_ascii=False) + "\n", warnings)


@dataclass
class _Decision:
    """The branches of a condition, switch or entry: (exit, rule) in order, then the default."""

    branches: list[tuple[str, Rule]]
    default: str
    tag_parameters: dict[str, str] = field(default_factory=dict)
    evaluate: dict[str, Any] | None = None  # key → JsonLogic, when rules cannot express them
    reason: str = ""


class _Builder:
    def __init__(self, scenario: Scenario, options: AslOptions, schema: ContactSchema) -> None:
        self.scenario = scenario
        self.options = options
        self.schema = schema
        self.flow = Flow.of(scenario)
        self.states: dict[str, dict[str, Any]] = {}
        self.warnings: list[ExportWarning] = []
        self._names: dict[tuple[str, str], str] = {}
        self._used: set[str] = set()
        for node in self.flow.nodes:
            self.name(node.id)
        # With several entries, a dispatcher picks one; its names yield to the nodes' ids.
        self.start = self._reserve("start")
        self.unknown_entry = self._reserve("unknown_entry")
        self.decisions = {n.id: self._decision(n) for n in self.flow.nodes if _decides(n)}

    # -- names

    def _reserve(self, wanted: str) -> str:
        name, index = wanted, 2
        while name in self._used:
            name = f"{wanted}_{index}"
            index += 1
        self._used.add(name)
        return name

    def name(self, node_id: str, suffix: str = "") -> str:
        """The state name of a node (suffix "") or of one of its auxiliary states."""
        key = (node_id, suffix)
        if key not in self._names:
            if suffix:
                wanted = f"{self.name(node_id)[: _MAX_NAME - len(suffix) - 5]}__{suffix}"
            else:
                wanted = re.sub(r"[^A-Za-z0-9_]", "_", node_id)[:60] or "step"
                wanted = wanted if wanted[0].isalpha() or wanted[0] == "_" else f"s_{wanted}"
            self._names[key] = self._reserve(wanted)
        return self._names[key]

    def first_state(self, node_id: str) -> str:
        """Where a transition into the node goes."""
        node = self.scenario.node(node_id)
        if node.type in ("condition", "switch"):
            return self.name(node.id, "contact")
        if node.type == "exit":
            return self.name(node.id, "outcome")
        if node.type == "wait" and node.params.get("mode") == "window":
            return self.name(node.id, "window")
        if node.is_entry:
            decision = self.decisions[node.id]
            if decision.evaluate is not None:
                return self.name(node.id, "evaluate")
            if decision.tag_parameters:
                return self.name(node.id, "tags")
        return self.name(node.id)

    def next(self, node: Node, exit_name: str) -> str:
        return self.first_state(self.flow.target(node, exit_name))

    # -- the definition

    def build(self) -> dict[str, Any]:
        entries = self.flow.entries
        if len(entries) > 1:
            self.dispatcher(entries)
        for node in self.flow.nodes:
            getattr(self, "state_" + node.type.replace(".", "_"))(node)
        self.collect_warnings()
        start = self.start if len(entries) > 1 else self.first_state(entries[0].id)
        return {
            "Comment": (
                f"{self.scenario.name} (scenario ‘{self.scenario.id}’), exported by Voronka "
                f'{generator_version()}. Input: {{"contact": {{…}}}}; see docs/EXPORTS.md.'
            ),
            "StartAt": start,
            "States": self.states,
        }

    def add(self, name: str, state: dict[str, Any]) -> None:
        self.states[name] = state

    def dispatcher(self, entries: list[Node]) -> None:
        self.add(
            self.start,
            {
                "Type": "Choice",
                "Comment": "Several entries: $.entry names the one the contact comes in by",
                "Choices": [
                    {
                        **typed_rule("$.entry", "IsString", {"StringEquals": entry.id}),
                        "Next": self.first_state(entry.id),
                    }
                    for entry in entries
                ],
                "Default": self.unknown_entry,
            },
        )
        self.add(
            self.unknown_entry,
            {
                "Type": "Fail",
                "Error": "Voronka.UnknownEntry",
                "Cause": "$.entry names no entry of this scenario: "
                + ", ".join(e.id for e in entries),
            },
        )

    # -- entries and decisions

    def state_entry_segment(self, node: Node) -> None:
        self.entry(node)

    def state_entry_event(self, node: Node) -> None:
        self.entry(node)

    def entry(self, node: Node) -> None:
        decision = self.decisions[node.id]
        if not decision.branches[0][1] and decision.evaluate is None:
            self.add(
                self.name(node.id),
                {"Type": "Pass", "Comment": node.display_title, "Next": self.next(node, "next")},
            )
            return
        not_entered = self.name(node.id, "not_entered")
        self.choice(
            node, decision, {"next": self.next(node, "next"), decision.default: not_entered}
        )
        self.add(
            not_entered,
            {"Type": "Succeed", "Comment": "The contact does not meet the entry condition"},
        )

    def state_condition(self, node: Node) -> None:
        self.decision_states(node)

    def state_switch(self, node: Node) -> None:
        self.decision_states(node)

    def decision_states(self, node: Node) -> None:
        decision = self.decisions[node.id]
        after_load = (
            self.name(node.id, "evaluate")
            if decision.evaluate is not None
            else self.name(node.id, "tags")
            if decision.tag_parameters
            else self.name(node.id)
        )
        self.add(
            self.name(node.id, "contact"),
            self.task(
                self.options.action_resource,
                node,
                {"action": "load_contact"},
                result_path="$.contact",
                comment=f"{node.display_title}: the contact as it is now",
                next_state=after_load,
            ),
        )
        targets = {exit_name: self.next(node, exit_name) for exit_name in node.exits}
        self.choice(node, decision, targets)

    def choice(self, node: Node, decision: _Decision, targets: dict[str, str]) -> None:
        """[evaluate task | tag tests] then the Choice state named after the node."""
        choice_name = self.name(node.id)
        if decision.evaluate is not None:
            self.add(
                self.name(node.id, "evaluate"),
                self.task(
                    self.options.action_resource,
                    node,
                    {"action": "evaluate_conditions", "conditions": decision.evaluate},
                    result_path="$.decision",
                    comment=f"{node.display_title}: {decision.reason}",
                    next_state=choice_name,
                ),
            )
        elif decision.tag_parameters:
            self.add(
                self.name(node.id, "tags"),
                {
                    "Type": "Pass",
                    "Comment": f"{node.display_title}: which tags the contact has",
                    "Parameters": decision.tag_parameters,
                    "ResultPath": "$.tag_tests",
                    "Next": choice_name,
                },
            )
        self.add(
            choice_name,
            {
                "Type": "Choice",
                "Comment": node.display_title,
                "Choices": [
                    {**rule, "Next": targets[exit_name]}
                    for exit_name, rule in decision.branches
                    if rule
                ],
                "Default": targets[decision.default],
            },
        )

    def _decision(self, node: Node) -> _Decision:
        if node.type == "switch":
            cases = node.params.get("cases") or []
            conditions = [(case["id"], case.get("condition")) for case in cases]
            default = "else"
        elif node.type == "condition":
            conditions, default = [("yes", node.params.get("condition"))], "no"
        else:  # an entry: `next` if the condition holds
            conditions, default = [("next", node.params.get("condition"))], "not_entered"
        compiler = ChoiceCompiler(self.schema)
        texts = [
            (key, text if isinstance(text, str) and text.strip() else None)
            for key, text in conditions
        ]
        try:
            branches = [(key, compiler.rule(expressions.parse(t)) if t else {}) for key, t in texts]
        except Inexpressible as why:
            return self._evaluated(texts, default, str(why))
        if node.is_entry:
            return _Decision(branches, default, compiler.tag_parameters())
        # A case without a condition takes everyone, as in the runtime JSON.
        branches = [(key, rule or dict(ALWAYS)) for key, rule in branches]
        return _Decision(branches, default, compiler.tag_parameters())

    def _evaluated(self, texts: list[tuple[str, str | None]], default: str, why: str) -> _Decision:
        rules: dict[str, Any] = {}
        branches: list[tuple[str, Rule]] = []
        for index, (key, text) in enumerate(texts):
            slot = f"c{index}"
            logic = expressions.to_jsonlogic(expressions.parse(text), self.schema) if text else True
            rules[slot] = logic
            branches.append(
                (key, typed_rule(f"$.decision.{slot}", "IsBoolean", {"BooleanEquals": True}))
            )
        reason = f"the action handler evaluates the JsonLogic, as {why}"
        return _Decision(branches, default, evaluate=rules, reason=reason)

    # -- flow

    def state_split(self, node: Node) -> None:
        variants = node.params.get("variants") or []
        forced = f"$.variants.{self.name(node.id)}"
        draw, bucket = self.name(node.id, "draw"), self.name(node.id, "bucket")
        self.add(
            self.name(node.id),
            {
                "Type": "Choice",
                "Comment": f"{node.display_title}: a variant fixed in the input wins",
                "Choices": [
                    {
                        **typed_rule(forced, "IsString", {"StringEquals": v["id"]}),
                        "Next": self.next(node, v["id"]),
                    }
                    for v in variants
                ],
                "Default": draw,
            },
        )
        self.add(
            draw,
            {
                "Type": "Pass",
                "Comment": f"{node.display_title}: draw 0 ≤ n < {DRAW_RANGE}",
                "Parameters": {"n.$": f"States.MathRandom(0, {DRAW_RANGE})"},
                "ResultPath": "$.draw",
                "Next": bucket,
            },
        )
        total = sum(float(v["weight"]) for v in variants)
        choices, cumulative = [], 0.0
        for variant in variants[:-1]:
            cumulative += float(variant["weight"])
            threshold = round(cumulative / total * DRAW_RANGE)
            choices.append(
                {
                    "Variable": "$.draw.n",
                    "NumericLessThan": threshold,
                    "Next": self.next(node, variant["id"]),
                }
            )
        last = self.next(node, variants[-1]["id"])
        self.add(
            bucket,
            {
                "Type": "Choice",
                "Comment": node.display_title
                + ": "
                + ", ".join(f"{v['id']} {float(v['weight']):g} %" for v in variants),
                "Choices": choices or [{"Variable": "$.draw.n", "IsNumeric": True, "Next": last}],
                "Default": last,
            },
        )

    def state_wait(self, node: Node) -> None:
        if node.params.get("mode") == "window":
            window = self.name(node.id, "window")
            self.add(
                window,
                self.task(
                    self.options.action_resource,
                    node,
                    {
                        "action": "next_send_window",
                        "days": list(node.params.get("window_days") or []),
                        "start": node.params.get("window_start"),
                        "end": node.params.get("window_end"),
                        "timezone": self.scenario.settings.timezone,
                    },
                    result_path="$.window",
                    comment=f"{node.display_title}: when the send window next opens",
                    next_state=self.name(node.id),
                ),
            )
            self.add(
                self.name(node.id),
                {
                    "Type": "Wait",
                    "Comment": node.display_title,
                    "TimestampPath": "$.window.at",
                    "Next": self.next(node, "next"),
                },
            )
            return
        self.add(
            self.name(node.id),
            {
                "Type": "Wait",
                "Comment": node.display_title,
                "Seconds": parse_duration(node.params.get("duration", "P1D")),
                "Next": self.next(node, "next"),
            },
        )

    def state_wait_event(self, node: Node) -> None:
        seconds = parse_duration(node.params["timeout"])
        payload = {
            **self.about(node),
            "action": "wait_for_event",
            "event": node.params.get("event"),
            "timeout_seconds": seconds,
            "task_token.$": "$$.Task.Token",
            "contact.$": "$.contact",
        }
        self.add(
            self.name(node.id),
            {
                "Type": "Task",
                "Comment": f"{node.display_title}: until SendTaskSuccess, or the timeout",
                "Resource": _CALLBACK,
                "Parameters": {"FunctionName": self.options.event_function, "Payload": payload},
                "TimeoutSeconds": seconds,
                "ResultPath": "$.event",
                "Retry": _RETRY,
                "Catch": [
                    {
                        "ErrorEquals": ["States.Timeout"],
                        "ResultPath": "$.error",
                        "Next": self.next(node, "timeout"),
                    }
                ],
                "Next": self.next(node, "happened"),
            },
        )

    # -- actions

    def state_message(self, node: Node) -> None:
        self.delivering(node, self.options.message_resource, self.message_payload(node), "sent")

    def state_offer(self, node: Node) -> None:
        payload = self.message_payload(node)
        product = self.scenario.product(str(node.params.get("product")))
        payload["offer"] = {
            "product": {"id": product.id, "name": product.name, "price": product.price}
            if product
            else None,
            "discount": node.params.get("discount", 0),
            "promo_code": node.params.get("promo_code", ""),
        }
        self.delivering(node, self.options.message_resource, payload, "sent")

    def state_notify(self, node: Node) -> None:
        payload = {
            "action": "notify",
            "kind": node.params.get("kind", "manager"),
            "text": _template(node.params.get("text")),
            "assignee": node.params.get("assignee", ""),
            "url": node.params.get("url", ""),
        }
        self.delivering(node, self.options.action_resource, payload, "done")

    def message_payload(self, node: Node) -> dict[str, Any]:
        s = self.scenario.settings
        return {
            "action": "send_message",
            "channel": node.params.get("channel", "email"),
            "subject": _template(node.params.get("subject")),
            "body": _template(node.params.get("body")),
            "cost": node.params.get("cost", 0),
            "settings": {
                "timezone": s.timezone,
                "quiet_hours": {"start": s.quiet_hours.start, "end": s.quiet_hours.end}
                if s.quiet_hours
                else None,
                "frequency_cap": {"messages": s.frequency_cap.messages, "per": s.frequency_cap.per}
                if s.frequency_cap
                else None,
            },
        }

    def delivering(self, node: Node, resource: str, payload: dict, success: str) -> None:
        """A task whose result says `{"status": success}`; anything else is the failed exit."""
        failed = self.next(node, "failed")
        status = self.name(node.id, "status")
        task = self.task(
            resource,
            node,
            payload,
            result_path="$.task",
            comment=node.display_title,
            next_state=status,
        )
        task["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": failed}]
        self.add(self.name(node.id), task)
        self.add(
            status,
            {
                "Type": "Choice",
                "Comment": f"{node.display_title}: {success} or failed",
                "Choices": [
                    {
                        **typed_rule("$.task.status", "IsString", {"StringEquals": success}),
                        "Next": self.next(node, success),
                    }
                ],
                "Default": failed,
            },
        )

    def state_update(self, node: Node) -> None:
        action = node.params.get("action", "add_tag")
        payload: dict[str, Any] = {"action": "update_contact", "update": action}
        if action in ("add_tag", "remove_tag"):
            payload["tag"] = node.params.get("tag", "")
        else:
            payload["attribute"] = node.params.get("attribute", "")
            payload["value"] = node.params.get("value", "")
        self.add(
            self.name(node.id),
            self.task(
                self.options.action_resource,
                node,
                payload,
                result_path=None,
                comment=node.display_title,
                next_state=self.next(node, "next"),
            ),
        )

    def state_goal(self, node: Node) -> None:
        payload = {
            "action": "record_goal",
            "stage": node.params.get("stage", ""),
            "revenue": node.params.get("revenue", 0),
        }
        self.add(
            self.name(node.id),
            self.task(
                self.options.action_resource,
                node,
                payload,
                result_path=None,
                comment=node.display_title,
                next_state=self.next(node, "next"),
            ),
        )

    def state_exit(self, node: Node) -> None:
        outcome = node.params.get("outcome", "converted")
        result: dict[str, Any] = {"exit": node.id, "outcome": outcome}
        if outcome == "handoff" and node.params.get("handoff_to"):
            result["handoff_to"] = node.params["handoff_to"]
        end = self.name(node.id)
        self.add(
            self.name(node.id, "outcome"),
            {
                "Type": "Pass",
                "Comment": f"{node.display_title}: {outcome}",
                "Result": result,
                "ResultPath": "$.exit",
                "Next": end,
            },
        )
        if outcome in self.options.fail_outcomes:
            self.add(
                end,
                {
                    "Type": "Fail",
                    "Comment": node.display_title,
                    "Error": f"Voronka.{outcome.capitalize()}",
                    "Cause": f"{node.display_title} ({outcome})",
                },
            )
        else:
            self.add(end, {"Type": "Succeed", "Comment": f"{node.display_title} ({outcome})"})

    # -- helpers

    def about(self, node: Node) -> dict[str, str]:
        return {"scenario": self.scenario.id, "node": node.id}

    def task(
        self,
        resource: str,
        node: Node,
        payload: dict[str, Any],
        *,
        result_path: str | None,
        comment: str,
        next_state: str,
    ) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Comment": comment,
            "Resource": resource,
            "Parameters": {**self.about(node), **payload, "contact.$": "$.contact"},
            "ResultPath": result_path,
            "Retry": _RETRY,
            "Next": next_state,
        }

    def collect_warnings(self) -> None:
        s = self.scenario.settings
        senders = tuple(n.id for n in self.flow.nodes if n.type in MESSAGE_TYPES)
        entries = tuple(n.id for n in self.flow.entries)
        self.warnings.append(
            ExportWarning(
                "entry triggers (events, segment schedules) and re-entry rules are not part of a "
                "state machine: start one execution per entering contact and apply re-entry there",
                entries,
            )
        )
        if s.frequency_cap and senders:
            self.warnings.append(
                ExportWarning(
                    f"the frequency cap ({s.frequency_cap.messages} messages per "
                    f"{s.frequency_cap.per}) cannot be expressed in ASL: the message resource "
                    "gets it in its input and must enforce it",
                    senders,
                )
            )
        if s.quiet_hours and senders:
            self.warnings.append(
                ExportWarning(
                    f"quiet hours ({s.quiet_hours.start}–{s.quiet_hours.end}) cannot be expressed "
                    "in ASL: the message resource gets them in its input and must defer messages",
                    senders,
                )
            )
        windows = tuple(n.id for n in self.flow.of_type("wait") if n.params.get("mode") == "window")
        if windows:
            self.warnings.append(
                ExportWarning(
                    "send windows cannot be computed in ASL: the action resource returns the next "
                    "opening (next_send_window) and a Wait state waits until then",
                    windows,
                )
            )
        if s.exit_on_unsubscribe:
            self.warnings.append(
                ExportWarning(
                    "‘exit on unsubscribe’ cannot be expressed in ASL: stop the contact's "
                    "execution (StopExecution) when it unsubscribes"
                )
            )
        for node_id, decision in self.decisions.items():
            if decision.evaluate is not None:
                self.warnings.append(ExportWarning(decision.reason, (node_id,)))


def _decides(node: Node) -> bool:
    return node.is_entry or node.type in ("condition", "switch")


def _template(text: object) -> dict[str, Any] | None:
    if not isinstance(text, str) or not text:
        return None
    return {"source": text, "variables": list(templates.parse_template(text).variables)}
