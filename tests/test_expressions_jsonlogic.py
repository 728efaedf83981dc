"""JsonLogic export: its shape, and agreement with `evaluate` under the reference json-logic-js.

The main table lives in test_expressions.py; here are the corners where JavaScript differs
from Python (null read as 0, `+` parsing text, `in` on text, null === null), probed with edge
cases and a seeded random corpus, all evaluated by Node in one run.
"""

from __future__ import annotations

import random

import pytest
from reference_jsonlogic import run_jsonlogic

from app.engine.expressions import ExpressionError, evaluate, parse, to_jsonlogic

# Operators documented at jsonlogic.com and implemented by json-logic-js 2.0.5 that the
# export may use; anything else would be a private dialect other runtimes cannot read.
EXPORTED_OPERATORS = {
    "var",
    "==",
    "!=",
    "===",
    "!==",
    "<",
    "<=",
    ">",
    ">=",
    "and",
    "or",
    "!",
    "!!",
    "in",
    "+",
    "-",
    "*",
    "/",
    "cat",
}


def operators(rule: object) -> set[str]:
    if isinstance(rule, list):
        return set().union(*(operators(item) for item in rule))
    if isinstance(rule, dict):
        ((op, args),) = rule.items()
        return {op} | operators(args)
    return set()


# --------------------------------------------------------------------------- shape


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ('gender == "f"', {"===": [{"var": "gender"}, "f"]}),
        ('gender != "f"', {"!==": [{"var": "gender"}, "f"]}),
        ("age < 25", {"and": [{"!=": [{"var": "age"}, None]}, {"<": [{"var": "age"}, 25]}]}),
        ('event_count("opened") >= 2', {">=": [{"var": ["events.opened.count", 0]}, 2]}),
        ('has_event("purchase")', {">": [{"var": ["events.purchase.count", 0]}, 0]}),
        (
            'days_since("purchase") > 90',
            {
                "and": [
                    {"!=": [{"var": "events.purchase.days_since"}, None]},
                    {">": [{"var": "events.purchase.days_since"}, 90]},
                ]
            },
        ),
        ('"cats" in tags', {"in": ["cats", {"var": "tags"}]}),
        ('has_tag("vip")', {"in": ["vip", {"var": "tags"}]}),
        ('"cats" not in tags', {"!": [{"in": ["cats", {"var": "tags"}]}]}),
        ('city in ["Moscow", "Kazan"]', {"in": [{"var": "city"}, ["Moscow", "Kazan"]]}),
        ('loyalty == "gold"', {"===": [{"var": "attributes.loyalty"}, "gold"]}),
        ("not has_phone", {"!": [{"===": [{"var": "has_phone"}, True]}]}),
        ("true", True),
        ("False", False),
        (
            "score > 3",
            {
                "and": [
                    {"===": [{"+": [{"var": "attributes.score"}]}, {"var": "attributes.score"}]},
                    {">": [{"var": "attributes.score"}, 3]},
                ]
            },
        ),
    ],
)
def test_rule_shape(text, rule):
    assert to_jsonlogic(parse(text)) == rule


def test_and_runs_are_flat_and_guards_are_not_repeated():
    rule = to_jsonlogic(parse("age > 18 and age / age > 0 and has_phone"))
    assert rule == {
        "and": [
            {"!=": [{"var": "age"}, None]},
            {">": [{"var": "age"}, 18]},
            {"!=": [{"var": "age"}, 0]},
            {">": [{"/": [{"var": "age"}, {"var": "age"}]}, 0]},
            {"===": [{"var": "has_phone"}, True]},
        ]
    }


def test_event_names_with_dots_cannot_be_exported():
    with pytest.raises(ExpressionError) as caught:
        to_jsonlogic(parse('has_event("a.b")'))
    assert (caught.value.kind, caught.value.column) == ("export", 1)


# --------------------------------------------------------------------------- agreement

# Custom attributes may hold any JSON; declared fields follow the runtime contact shape.
EDGE_CONTACTS = [
    {},
    {"age": None, "city": None, "tags": None, "events": None, "attributes": None},
    {"age": 0, "city": "", "tags": [], "events": {}, "attributes": {}},
    {
        "age": 30,
        "city": "Kazan",
        "gender": "m",
        "tags": ["vip"],
        "has_phone": True,
        "has_email": True,
        "events": {"purchase": {"count": 1, "days_since": 0}, "opened": {"count": 0}},
        "attributes": {"score": "9", "loyalty": ["gold", None], "interests": "null"},
    },
    {
        "age": 45.5,
        "city": "5",
        "has_phone": False,
        "attributes": {"score": True, "loyalty": 5, "interests": ["cats", 5, True]},
    },
    {"attributes": {"score": [9], "loyalty": "", "interests": None}},
    {"attributes": {"score": 7, "loyalty": "gold", "interests": ["dogs"]}},
    {"age": 30, "attributes": {"score": 5, "loyalty": "true", "interests": "5 true 30 null"}},
]
EDGE_CONDITIONS = [
    "score > 5",
    "score * 2 > 10",
    "score == 7",
    "score != 7",
    "score == loyalty",
    "score in [7, 9]",
    "loyalty in interests",
    '"null" in interests',
    '"go" in loyalty',
    '"" in loyalty',
    "5 in interests",
    "true in interests",
    "true in loyalty",
    "score in interests",
    "score * 6 in interests",
    "city in interests",
    '"a" in city',
    "age in interests",
    "has_phone == has_email",
    "has_phone != has_email",
    "(age > 5) == has_phone",
    "age / 0 == age / 0",
    "1 / 0 != 1 / 0",
    "age - 30 == 0",
    "age - 30 != 0",
    "city + 1 > 2",
    '"a" < 5',
    "true < 5",
    "loyalty",
    "not score",
    'event_count("opened") == 0',
    'days_since("opened") >= 0',
    'days_since("purchase") == 0',
    "tags == tags",
]


def random_number(rng: random.Random, depth: int) -> str:
    if depth and rng.random() < 0.4:
        ops = "+-*/"
        return (
            f"({random_number(rng, depth - 1)} {rng.choice(ops)} {random_number(rng, depth - 1)})"
        )
    return rng.choice(
        [
            *["age", "cart_value", "orders_count", "score", "city"],
            *["0", "1", "2", "-3", "2.5", "40", 'event_count("opened")', 'days_since("purchase")'],
        ]
    )


def random_value(rng: random.Random, depth: int) -> str:
    if rng.random() < 0.5:
        return random_number(rng, depth)
    return rng.choice(['"gold"', '""', "city", "loyalty", "has_phone", "true", "score", '"5"'])


def random_condition(rng: random.Random, depth: int) -> str:
    shape = rng.randrange(8 if depth else 5)
    if shape == 0:
        left, right = random_number(rng, 2), random_number(rng, 2)
        return f"{left} {rng.choice(['<', '<=', '>', '>=', '==', '!='])} {right}"
    if shape == 1:
        return f"{random_value(rng, 1)} {rng.choice(['==', '!='])} {random_value(rng, 1)}"
    if shape == 2:
        container = rng.choice(
            ["tags", "interests", "loyalty", "city", '["gold", 5, true, ""]', "[0, 2.5, 30]"]
        )
        return f"{random_value(rng, 1)} {rng.choice(['in', 'not in'])} {container}"
    if shape == 3:
        return rng.choice(['has_event("purchase")', 'has_tag("vip")', "has_phone", "loyalty"])
    if shape == 4:
        return rng.choice(["true", "false", "consent_sms", "score"])
    if shape == 5:
        return f"not ({random_condition(rng, depth - 1)})"
    joiner = " and " if shape == 6 else " or "
    return joiner.join(f"({random_condition(rng, depth - 1)})" for _ in range(rng.randint(2, 3)))


def random_contact(rng: random.Random) -> dict:
    def maybe(*values):
        return rng.choice([*values, None])

    contact = {
        "age": maybe(0, 30, 2.5, -3),
        "cart_value": maybe(0, 40, 6000),
        "orders_count": maybe(0, 2),
        "city": maybe("", "gold", "5", "Kazan"),
        "has_phone": maybe(True, False),
        "consent_sms": maybe(True, False),
        "tags": maybe([], ["vip"], ["gold", "cats"]),
        "events": {
            name: {"count": rng.randint(0, 2), "days_since": maybe(0, 3, 100)}
            for name in rng.sample(["purchase", "opened"], rng.randint(0, 2))
        },
        "attributes": {
            "score": maybe(0, 7, 2.5, "9", True, [7], ""),
            "loyalty": maybe("gold", "", 5, True, ["gold", None], "old"),
            "interests": maybe(["gold", 5, True, None], "golden", [], [30], "5 true 40"),
        },
    }
    return {key: value for key, value in contact.items() if rng.random() < 0.85}


def corpus() -> list[tuple[str, dict]]:
    rng = random.Random(20240601)
    pairs = [(text, contact) for text in EDGE_CONDITIONS for contact in EDGE_CONTACTS]
    for _ in range(400):
        text = random_condition(rng, 2)
        pairs.extend((text, random_contact(rng)) for _ in range(5))
    return pairs


CORPUS = corpus()


@pytest.fixture(scope="module")
def reference_results():
    items = [{"rule": to_jsonlogic(parse(text)), "data": contact} for text, contact in CORPUS]
    return run_jsonlogic(items)


def test_exports_use_only_standard_operators():
    used = set().union(*(operators(to_jsonlogic(parse(text))) for text, _ in CORPUS))
    assert used <= EXPORTED_OPERATORS


@pytest.mark.node
def test_reference_json_logic_agrees_with_evaluate(reference_results):
    exprs = {text: parse(text) for text, _ in CORPUS}
    disagreements = [
        (text, contact, result)
        for (text, contact), result in zip(CORPUS, reference_results, strict=True)
        if result != {"result": evaluate(exprs[text], contact)}
    ]
    assert disagreements == []
    assert len(reference_results) > 2000
