"""What conditions already passed tell about a contact: find branches that can never be taken.

Facts are kept per contact field as a small abstract domain (a numeric interval, a set of
allowed or excluded values, whether the value may be missing). `assume` narrows facts by a
condition being true or false and returns a list of alternatives (one per way the condition can
hold), so `age < 20 or age > 60` stays exact; facts from different paths into a step are joined
(the hull), which over-approximates, so a branch reported as never taken truly never is.
Only atoms on one field against constants are understood; anything else (arithmetic, event
functions, calendar fields) is "unknown" and never narrows facts.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from app.engine import expressions as ex
from app.engine.catalog import exit_text
from app.engine.contact_schema import ContactSchema, FieldType
from app.engine.i18n import Msg, T

if TYPE_CHECKING:
    from app.engine.validation import Context

_INF = float("inf")
MAX_ALTERNATIVES = 32
MAX_VISITS = 6

# Facts that survive a wait: a contact's identity. Anything else — consents, tags, orders,
# spend, the CRM stage, even age — may change while a contact waits (through other scenarios
# or the CRM), so the analysis forgets it rather than cry wolf.
STABLE_FIELDS = frozenset({"first_name", "last_name", "gender", "city", "country", "locale"})


class Domain(NamedTuple):
    """Values a field may have: `missing_ok`, and present values in an interval (numbers) or
    in `allowed` minus `excluded` (text, enums, booleans, tags)."""

    missing_ok: bool = True
    numeric: bool = False
    lo: float = -_INF
    lo_open: bool = True
    hi: float = _INF
    hi_open: bool = True
    allowed: frozenset[Any] | None = None
    excluded: frozenset[Any] = frozenset()

    @property
    def no_values(self) -> bool:
        if self.numeric:
            if self.lo > self.hi or (self.lo == self.hi and (self.lo_open or self.hi_open)):
                return True
            return self.lo == self.hi and self.lo in self.excluded
        return self.allowed is not None and self.allowed <= self.excluded

    @property
    def empty(self) -> bool:
        return not self.missing_ok and self.no_values

    def meet(self, other: Domain) -> Domain:
        if self.lo > other.lo or (self.lo == other.lo and self.lo_open):
            lo, lo_open = self.lo, self.lo_open
        else:
            lo, lo_open = other.lo, other.lo_open
        if self.hi < other.hi or (self.hi == other.hi and self.hi_open):
            hi, hi_open = self.hi, self.hi_open
        else:
            hi, hi_open = other.hi, other.hi_open
        if self.allowed is None or other.allowed is None:
            allowed = self.allowed if other.allowed is None else other.allowed
        else:
            allowed = self.allowed & other.allowed
        return Domain(
            self.missing_ok and other.missing_ok,
            self.numeric or other.numeric,
            lo,
            lo_open,
            hi,
            hi_open,
            allowed,
            self.excluded | other.excluded if other.excluded else self.excluded,
        )

    def join(self, other: Domain) -> Domain:
        if self.no_values:
            return other._replace(missing_ok=self.missing_ok or other.missing_ok)
        if other.no_values:
            return self._replace(missing_ok=self.missing_ok or other.missing_ok)
        lo, lo_closed = min((self.lo, not self.lo_open), (other.lo, not other.lo_open))
        hi, hi_open = max((self.hi, not self.hi_open), (other.hi, not other.hi_open))
        allowed = (
            None if self.allowed is None or other.allowed is None else self.allowed | other.allowed
        )
        return Domain(
            missing_ok=self.missing_ok or other.missing_ok,
            numeric=self.numeric,
            lo=lo,
            lo_open=not lo_closed,
            hi=hi,
            hi_open=not hi_open,
            allowed=allowed,
            excluded=self.excluded & other.excluded,
        )


Facts = Mapping[str, Domain]  # absent key: nothing known
TOP: Facts = {}


def _meet(facts: Facts, var: str, domain: Domain, base: Domain) -> Facts | None:
    current = facts.get(var, base)
    narrowed = current.meet(domain)
    if narrowed.empty:
        return None
    return {**facts, var: narrowed}


def join_facts(alternatives: Iterable[Facts]) -> Facts | None:
    """The facts that hold on every alternative (None when there is none). Facts are never
    mutated, so a single alternative is returned as it is, not copied, and so are equal
    ones (paths into a step often bring the same facts)."""
    result: Facts | None = None
    for facts in alternatives:
        if result is None:
            result = facts
        elif facts is not result and facts != result:
            result = {k: result[k].join(facts[k]) for k in result.keys() & facts.keys()}
    return result


@dataclass(frozen=True)
class _Atom:
    """A condition on one variable: `when_true` / `when_false` are the domains it leaves."""

    var: str
    base: Domain
    when_true: Domain
    when_false: tuple[Domain, ...]


class Reasoner:
    """Narrows facts by conditions over one contact schema."""

    def __init__(self, schema: ContactSchema):
        self.schema = schema
        # Keyed by identity: parsed trees are shared (expressions.cached_parse), and hashing
        # a frozen tree walks all of it on every lookup.
        self._atoms: dict[int, tuple[ex.Expr, _Atom | None]] = {}
        self._from_top: dict[tuple[int, bool], tuple[ex.Expr, list[Facts]]] = {}

    def base(self, var: str) -> Domain:
        """What is known with no condition passed: non-nullable fields are always present."""
        if var.startswith("tag:"):
            return Domain(missing_ok=False, allowed=frozenset({True, False}))
        spec = self.schema.find(var)
        if spec is None:
            return Domain()
        allowed: frozenset[Any] | None = None
        if spec.type is FieldType.BOOLEAN:
            allowed = frozenset({True, False})
        elif spec.type is FieldType.ENUM and spec.choices:
            allowed = frozenset(spec.choices)
        return Domain(
            missing_ok=spec.nullable,
            numeric=spec.type is FieldType.NUMBER,
            allowed=allowed,
        )

    def assume(self, facts: Facts, expr: ex.Expr, truth: bool) -> list[Facts]:
        """Alternatives of facts under which `expr` has the value `truth` ([] = impossible)."""
        if not facts:  # nothing known (entries, "on its own" checks): conditions recur
            key = (id(expr), truth)
            cached = self._from_top.get(key)
            if cached is None:
                cached = self._from_top[key] = (expr, self._assume(facts, expr, truth))
            return cached[1]
        return self._assume(facts, expr, truth)

    def _assume(self, facts: Facts, expr: ex.Expr, truth: bool) -> list[Facts]:
        match expr:
            case ex.Not(operand=operand):
                return self.assume(facts, operand, not truth)
            case ex.BoolOp(op=op, operands=operands):
                if (op == "and") == truth:  # every operand must have the value `truth`
                    results = [facts]
                    for operand in operands:
                        results = self._bounded(
                            [r for f in results for r in self.assume(f, operand, truth)]
                        )
                        if not results:
                            return []
                    return results
                return self._bounded(
                    [r for operand in operands for r in self.assume(facts, operand, truth)]
                )
            case ex.Literal(value=bool(value)):
                return [facts] if value == truth else []
        atom = self.atom(expr)
        if atom is None:
            return [facts]
        if truth:
            narrowed = _meet(facts, atom.var, atom.when_true, atom.base)
            return [narrowed] if narrowed is not None else []
        results = [_meet(facts, atom.var, d, atom.base) for d in atom.when_false]
        return [r for r in results if r is not None]

    def understood(self, expr: ex.Expr) -> bool:
        """True when every atom of `expr` narrows facts (nothing is treated as unknown)."""
        match expr:
            case ex.Not(operand=operand):
                return self.understood(operand)
            case ex.BoolOp(operands=operands):
                return all(self.understood(o) for o in operands)
            case ex.Literal(value=bool()):
                return True
        return self.atom(expr) is not None

    def _bounded(self, alternatives: list[Facts]) -> list[Facts]:
        if len(alternatives) <= MAX_ALTERNATIVES:
            return alternatives
        joined = join_facts(alternatives)
        return [joined] if joined is not None else []

    def atom(self, expr: ex.Expr) -> _Atom | None:
        """The atom `expr` is (cached per expression), or None when it is not understood."""
        cached = self._atoms.get(id(expr))
        if cached is None:
            cached = self._atoms[id(expr)] = (expr, self._make_atom(expr))
        return cached[1]

    def _make_atom(self, expr: ex.Expr) -> _Atom | None:
        match expr:
            case ex.FieldRef(name=name) if self._kind(name) is FieldType.BOOLEAN:
                return self._equality(name, True, negated=False)
            case ex.Call(func="has_tag", arg=tag):
                return self._equality(f"tag:{tag}", True, negated=False)
            case ex.Membership(item=ex.Literal(value=str(tag)), container=ex.FieldRef(name="tags")):
                return self._equality(f"tag:{tag}", True, negated=expr.negated)
            case ex.Membership(item=ex.FieldRef(name=name), container=ex.ListLiteral(items=items)):
                if self._trackable(name):
                    return self._set(name, frozenset(i.value for i in items), expr.negated)
            case ex.Compare(op=op, left=ex.FieldRef(name=name), right=ex.Literal(value=value)):
                return self._compare(name, op, value)
            case ex.Compare(op=op, left=ex.Literal(value=value), right=ex.FieldRef(name=name)):
                return self._compare(name, _FLIPPED[op], value)
        return None

    def _kind(self, name: str) -> FieldType | None:
        spec = self.schema.find(name)
        return spec.type if spec is not None and not spec.calendar else None

    def _trackable(self, name: str) -> bool:
        return self._kind(name) in (FieldType.TEXT, FieldType.ENUM, FieldType.NUMBER)

    def _equality(self, var: str, value: Any, negated: bool) -> _Atom:
        return self._set(var, frozenset({value}), negated)

    def _set(self, var: str, values: frozenset[Any], negated: bool) -> _Atom:
        """`var in values`: true needs a present value among them; false allows missing."""
        base = self.base(var)
        inside = Domain(missing_ok=False, numeric=base.numeric, allowed=values)
        if base.numeric and len(values) == 1:
            (point,) = values
            if isinstance(point, int | float) and not isinstance(point, bool):
                inside = Domain(
                    missing_ok=False, numeric=True, lo=point, lo_open=False, hi=point, hi_open=False
                )
        outside = Domain(missing_ok=True, numeric=base.numeric, excluded=values)
        if var.startswith("tag:"):  # a tag test is never "missing": absent means False
            outside = Domain(missing_ok=False, allowed=frozenset({True, False}) - values)
        if negated:
            return _Atom(var, base, outside, (inside,))
        return _Atom(var, base, inside, (outside,))

    def _compare(self, name: str, op: str, value: Any) -> _Atom | None:
        kind = self._kind(name)
        if kind is None:
            return None
        if op in ("==", "!="):
            if kind is FieldType.NUMBER and not isinstance(value, int | float):
                return None
            return self._equality(name, value, negated=op == "!=")
        if kind is not FieldType.NUMBER or isinstance(value, bool):
            return None
        if not isinstance(value, int | float):
            return None
        base = self.base(name)
        below = {"<": (value, True), "<=": (value, False)}
        above = {">": (value, True), ">=": (value, False)}
        if op in below:
            hi, hi_open = below[op]
            true = Domain(missing_ok=False, numeric=True, hi=hi, hi_open=hi_open)
            false = Domain(missing_ok=False, numeric=True, lo=hi, lo_open=not hi_open)
        else:
            lo, lo_open = above[op]
            true = Domain(missing_ok=False, numeric=True, lo=lo, lo_open=lo_open)
            false = Domain(missing_ok=False, numeric=True, hi=lo, hi_open=not lo_open)
        missing = Domain(missing_ok=True, numeric=True, lo=1, hi=0)
        return _Atom(name, base, true, (false, missing) if base.missing_ok else (false,))


_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


# --- over the graph ------------------------------------------------------------------------

Conditions = list[tuple[str, ex.Expr | None]]  # (exit, condition sending contacts there)


def _node_conditions(node: Any, exits: tuple[str, ...]) -> Conditions:
    """(exit, condition that sends a contact there) in evaluation order, for branching steps."""
    if node.type == "condition":
        return [("yes", _parse(node.params.get("condition")))]
    if node.type == "switch":
        cases = node.params.get("cases")
        # a case without a usable id is no exit (V112 reports it)
        return [
            (case["id"], _parse(case.get("condition")))
            for case in (cases if isinstance(cases, list) else [])
            if isinstance(case, dict) and isinstance(case.get("id"), str) and case["id"] in exits
        ]
    return []


def _parse(text: object) -> ex.Expr | None:
    if not isinstance(text, str) or not text.strip():
        return None
    parsed = ex.cached_parse(text)
    return None if isinstance(parsed, ex.ExpressionError) else parsed


def exit_facts(
    reasoner: Reasoner, node: Any, conditions: Conditions, facts: Facts
) -> dict[str, list[Facts]]:
    """Alternatives of facts on each exit of a condition or switch, given the facts on its
    input and its `_node_conditions`."""
    out: dict[str, list[Facts]] = {}
    remaining = [facts]
    for exit_name, cond in conditions:
        # setdefault/extend: cases sharing an id (V112) all lead out of the same exit
        if cond is None:
            out.setdefault(exit_name, []).extend(remaining)
            continue
        out.setdefault(exit_name, []).extend(
            r for f in remaining for r in reasoner.assume(f, cond, True)
        )
        remaining = reasoner._bounded(
            [r for f in remaining for r in reasoner.assume(f, cond, False)]
        )
    out.setdefault("no" if node.type == "condition" else "else", []).extend(remaining)
    return out


_CHANGING = frozenset({"wait", "wait_event", "update"})  # the steps `_after_node` changes facts in


def _after_node(node: Any, facts: Facts) -> Facts:
    """Facts a step itself changes: waits keep only stable fields, updates set tags."""
    if node.type in ("wait", "wait_event"):
        return {k: v for k, v in facts.items() if k in STABLE_FIELDS} if facts else facts
    if node.type == "update":
        action, params = node.params.get("action"), node.params
        if not isinstance(action, str):
            return facts  # not an action this version knows (V116 reports it)
        changed = {
            "add_tag": f"tag:{params.get('tag')}",
            "remove_tag": f"tag:{params.get('tag')}",
            "set_attribute": params.get("attribute"),
            "set_crm_stage": "crm_stage",
        }.get(action)
        kept = {k: v for k, v in facts.items() if k != changed}
        if action in ("add_tag", "remove_tag"):
            kept[changed] = Domain(missing_ok=False, allowed=frozenset({action == "add_tag"}))
        return kept
    return facts


def entry_facts(reasoner: Reasoner, node: Any) -> list[Facts]:
    cond = _parse(node.params.get("condition"))
    return reasoner.assume(TOP, cond, True) if cond is not None else [TOP]


class _Pass:
    """One computation of the facts on every reachable step's input.

    `exits_at` keeps what each condition and switch step sent out of each exit when it was
    last worked out (with its final input facts), so the findings need not redo it."""

    def __init__(self, ctx: Context, reasoner: Reasoner, conditions: dict[str, Conditions]):
        self.ctx, self.reasoner, self.conditions = ctx, reasoner, conditions
        self.relevant = _tested_variables(reasoner, conditions)
        self.exits_at: dict[str, dict[str, list[Facts]]] = {}
        # Blocks of a large funnel repeat: the same conditions meet the same facts again.
        self._branched: dict[Hashable, tuple[dict[str, list[Facts]], dict[str, Facts | None]]]
        self._branched = {}

    def facts(self) -> dict[str, Facts]:
        """Facts on the input of every reachable step. Only variables some branching step
        tests are tracked: the rest cannot change a verdict."""
        if not self.relevant:
            return dict.fromkeys(self.ctx.reachable, TOP)
        if self.ctx.acyclic and not self.ctx.twin_edges:
            return self.in_one_pass()
        return self.to_fixpoint()

    def start(self) -> dict[str, Facts]:
        """Facts on leaving each entry that lets anybody in."""
        start: dict[str, Facts] = {}
        by_condition: dict[str, Facts | None] = {}  # entries share a handful of conditions
        for entry in self.ctx.entries:
            node = self.ctx.flow[entry]
            text = node.params.get("condition")
            key = text if isinstance(text, str) else ""  # not text: no condition
            if key not in by_condition:
                joined = join_facts(entry_facts(self.reasoner, node))
                by_condition[key] = None if joined is None else self.keep_relevant(joined)
            if (facts := by_condition[key]) is not None:
                start[entry] = facts
        return start

    def keep_relevant(self, facts: Facts) -> Facts:
        relevant = self.relevant
        return {k: v for k, v in facts.items() if k in relevant}

    def outs(self, node_id: str, facts: Facts) -> dict[str, Facts | None]:
        """The facts leaving by each exit (None: nobody takes it)."""
        node = self.ctx.flow[node_id]
        conditions = self.conditions.get(node_id)
        if conditions is None:
            return dict.fromkeys(self.ctx.exits_of[node_id], self.after(node, facts))
        key = (node.type, *((x, id(c)) for x, c in conditions), frozenset(facts.items()))
        known = self._branched.get(key)
        if known is None:
            exits = exit_facts(self.reasoner, node, conditions, facts)
            outs = {x: join_facts(alternatives) for x, alternatives in exits.items()}
            known = self._branched[key] = (exits, outs)
        self.exits_at[node_id] = known[0]
        return known[1]

    def after(self, node: Any, facts: Facts) -> Facts:
        """The facts leaving a step that does not branch (the same by every exit). Only an
        update can add a variable no condition tests; a wait only drops some."""
        after = _after_node(node, facts)
        return self.keep_relevant(after) if after is not facts and node.type == "update" else after

    def in_one_pass(self) -> dict[str, Facts]:
        """Without loops: each step once, in reverse post-order, so after all the steps that
        lead to it: the arrivals, joins and widening of `to_fixpoint` in the same order,
        without its queue. (Twin connections, two from one exit to one step, arrive once
        there but twice here: `facts` leaves them to the worklist.)"""
        successors, conditions = self.ctx.successors, self.conditions
        changing = {node.id for node in self.ctx.nodes_of(*_CHANGING)}
        facts: dict[str, Facts] = {}
        start = self.start()
        arrivals: dict[str, list[Facts]] = {}
        for node_id in self.ctx.reachable_in_order:
            here = start.get(node_id)
            if here is None:
                inputs = arrivals.pop(node_id, None)
                if inputs is None:
                    continue  # every way in is a branch never taken
                if len(inputs) == 1:
                    here = inputs[0]
                elif len(inputs) > MAX_VISITS:
                    here = TOP
                else:
                    here = join_facts(inputs) or TOP
            facts[node_id] = here
            if node_id in conditions:
                outs = self.outs(node_id, here)
                for exit_name, target in successors[node_id]:
                    out = outs.get(exit_name)
                    if out is not None:
                        arrivals.setdefault(target, []).append(out)
                continue
            after = self.after(self.ctx.flow[node_id], here) if node_id in changing else here
            for _, target in successors[node_id]:
                arrivals.setdefault(target, []).append(after)
        return facts

    def to_fixpoint(self) -> dict[str, Facts]:
        """A worklist in reverse post-order to a fixpoint; a step whose facts keep changing
        (a loop) is widened to "nothing known" after MAX_VISITS arrivals."""
        ctx = self.ctx
        rank = ctx.rank
        incoming: dict[str, dict[tuple[str, str], Facts]] = {}
        facts = self.start()
        visits: dict[str, int] = {}
        work = [(rank[entry], entry) for entry in facts]
        heapq.heapify(work)
        queued = set(facts)
        while work:
            _, node_id = heapq.heappop(work)
            queued.discard(node_id)
            outs = self.outs(node_id, facts[node_id])
            for exit_name, target in ctx.successors[node_id]:
                out = outs.get(exit_name)
                if out is None:
                    continue
                arriving = incoming.setdefault(target, {})
                arriving[(node_id, exit_name)] = out
                visits[target] = visits.get(target, 0) + 1
                merged = out if len(arriving) == 1 else join_facts(arriving.values()) or TOP
                if visits[target] > MAX_VISITS:
                    merged = TOP  # widen: a loop keeps changing facts, assume nothing
                before = facts.get(target)
                if (before is None or (before is not merged and before != merged)) and (
                    target not in queued
                ):
                    heapq.heappush(work, (rank[target], target))
                    queued.add(target)
                facts[target] = merged
        return facts


def _tested_variables(reasoner: Reasoner, conditions: dict[str, Conditions]) -> set[str]:
    """Variables the conditions of condition and switch steps test (each distinct parsed
    condition walked once: a large funnel repeats a few conditions many times)."""
    tested: set[str] = set()
    walked: set[int] = set()
    for branches in conditions.values():
        for _, cond in branches:
            if cond is None or id(cond) in walked:
                continue
            walked.add(id(cond))  # the tree lives in `conditions`, so its id stays its own
            for sub in ex.walk(cond):
                atom = reasoner.atom(sub)
                if atom is not None:
                    tested.add(atom.var)
    return tested


@dataclass(frozen=True)
class Finding:
    """V401 never taken given earlier conditions, V402 always true/false, V403 overlap."""

    code: str
    node: str
    exit: str
    message: Msg


def logic_findings(ctx: Context) -> list[Finding]:
    """Branches no contact arriving at a step can take, and overlapping switch cases."""
    reasoner = Reasoner(ctx.schema)
    conditions = {
        node.id: _node_conditions(node, ctx.exits_of[node.id])
        for node in ctx.nodes_of("condition", "switch")
    }
    run = _Pass(ctx, reasoner, conditions)
    return list(_findings(run, run.facts()))


def _findings(run: _Pass, facts: dict[str, Facts]) -> Iterator[Finding]:
    ctx, reasoner = run.ctx, run.reasoner
    for entry in ctx.entries:
        node = ctx.flow[entry]
        if not entry_facts(reasoner, node):
            yield Finding(
                "V402",
                entry,
                "next",
                T(
                    "V402",
                    "Nobody ever enters through ‘{step}’: its condition is always false",
                    step=node.display_title,
                ),
            )
    for node_id, branches in run.conditions.items():
        if node_id not in facts:
            continue
        node = ctx.flow[node_id]
        here = run.exits_at.get(node_id)
        if here is None:
            here = exit_facts(reasoner, node, branches, facts[node_id])
        for exit_name, alternatives in here.items():
            if alternatives:
                continue
            code = "V401"
            why = T("V401", "the conditions contacts passed before already rule it out")
            if not exit_facts(reasoner, node, branches, TOP).get(exit_name):
                code = "V402"
                why = T("V402", "its condition can never lead there, for any contact")
                if node.type == "condition" and exit_name == "yes":
                    why = T("V402", "the condition is always false")
                elif node.type == "condition":
                    why = T("V402", "the condition is always true")
            text = T(
                "Words",
                "The *{exit}* exit of ‘{step}’ is never taken: {why}",
                exit=exit_text(exit_name),
                step=node.display_title,
                why=why,
            )
            yield Finding(code, node_id, exit_name, text)
        if node.type == "switch":
            yield from _overlaps(reasoner, node, branches, facts[node_id])


def _overlaps(
    reasoner: Reasoner, node: Any, branches: Conditions, facts: Facts
) -> Iterator[Finding]:
    cases = [(i, c) for i, c in branches if c is not None]
    for index, (later_id, later) in enumerate(cases):
        for earlier_id, earlier in cases[:index]:
            if earlier_id == later_id:
                continue  # both lead out of the same exit (V112 reports the repeated id)
            if not (reasoner.understood(earlier) and reasoner.understood(later)):
                continue
            both = [
                r
                for f in reasoner.assume(facts, earlier, True)
                for r in reasoner.assume(f, later, True)
            ]
            if both:
                yield Finding(
                    "V403",
                    node.id,
                    later_id,
                    T(
                        "V403",
                        "Cases ‘{earlier}’ and ‘{later}’ of ‘{step}’ overlap: contacts matching "
                        "both always go to ‘{earlier}’ (cases are checked in order); make the "
                        "conditions exclusive",
                        earlier=earlier_id,
                        later=later_id,
                        step=node.display_title,
                    ),
                )
                break
