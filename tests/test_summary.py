"""Canvas summaries: one table of expected lines per type, and no crash on any params.

The canvas paints a summary for every step of every file it opens, hand-edited ones too,
so besides the table the junk-params property matters most: a bad value must read as ‘?’
or ⚠, never as an exception in a paint event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.catalog import CATALOG, NODE_TYPES
from app.engine.contact_schema import WEEKDAYS
from app.engine.model import Node, Product, Scenario, Settings
from app.engine.serialization import load_scenario
from app.engine.summary import MAX_LENGTH, summarize
from app.engine.templates import sample_contact

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "resources" / "examples").glob("*.json"))
T = "\u202f"  # the narrow no-break space in "10 %" and "4 990 ₽"
NAME = sample_contact()["first_name"]


def scenario(currency: str = "RUB") -> Scenario:
    return Scenario(
        name="Cart",
        settings=Settings(currency=currency),
        products=[Product("case", "Phone case", "cross_sell", 990)],
    )


def line(type_name: str, currency: str = "RUB", **params: Any) -> str:
    return summarize(Node("n", type_name, params=params), scenario(currency))


CASES: list[tuple[str, dict[str, Any], str]] = [
    # messages: subject, else the first words of the body, placeholders filled by name
    (
        "message",
        {"channel": "email", "subject": "Your cart is waiting"},
        "E-mail · ‘Your cart is waiting’",
    ),
    (
        "message",
        {
            "channel": "sms",
            "body": "{{ contact.first_name }}, your 10 % code expires tonight, use it",
        },
        f"SMS · ‘{NAME}, your 10 % code expires tonight…’",
    ),
    (
        "message",
        {"channel": "push", "subject": "  ", "body": "Back\n\nin stock"},
        "Push · ‘Back in stock’",
    ),
    (
        "message",
        {"channel": "email", "subject": "{{ product.name }} is back"},
        "E-mail · ‘Phone case is back’",
    ),
    (
        "message",
        {"channel": "email", "subject": 'Hi {{ contact.nick or "friend" }}'},
        "E-mail · ‘Hi friend’",
    ),
    (
        "message",
        {"channel": "email", "subject": "Total {{ cart.total | money }}"},
        "E-mail · ‘Total {total}’",
    ),
    ("message", {"channel": "vk", "body": "{% if x %}Hi{% endif %} there"}, "VK · ‘Hi there’"),
    ("message", {"channel": "sms", "subject": "Unsent", "body": "Sent"}, "SMS · ‘Sent’"),
    ("message", {"channel": "email"}, "E-mail · ⚠ no text"),
    ("message", {"channel": "fax", "body": "Hi"}, "fax · ‘Hi’"),
    # offers
    ("offer", {"channel": "sms", "product": "case", "discount": 10}, f"SMS · Phone case −10{T}%"),
    (
        "offer",
        {"channel": "email", "product": "case", "discount": 12.5},
        f"E-mail · Phone case −12.5{T}%",
    ),
    ("offer", {"channel": "email", "product": "case", "discount": 0}, "E-mail · Phone case"),
    ("offer", {"channel": "email"}, "E-mail · ⚠ no product"),
    ("offer", {"channel": "email", "product": "sofa"}, "E-mail · ⚠ unknown product ‘sofa’"),
    # waits
    ("wait", {"mode": "duration", "duration": "P2D"}, "Wait 2 days"),
    ("wait", {"duration": "PT36H"}, "Wait 1 day 12 hours"),
    ("wait", {"duration": "soon"}, "Wait ?"),
    (
        "wait",
        {
            "mode": "window",
            "window_days": ["mon", "tue", "wed", "thu", "fri"],
            "window_start": "10:00",
            "window_end": "20:00",
        },
        "Until Mon–Fri 10:00–20:00",
    ),
    (
        "wait",
        {
            "mode": "window",
            "window_days": ["sun", "sat"],
            "window_start": "11:00",
            "window_end": "18:00",
        },
        "Until Sat, Sun 11:00–18:00",
    ),
    (
        "wait",
        {"mode": "window", "window_days": ["fri", "mon", "wed", "thu"], "window_start": "9:00"},
        "Until Mon, Wed–Fri 9:00–?",
    ),
    (
        "wait",
        {
            "mode": "window",
            "window_days": list(WEEKDAYS),
            "window_start": "10:00",
            "window_end": "20:00",
        },
        "Until 10:00–20:00",
    ),
    ("wait_event", {"event": "purchase", "timeout": "P2D"}, "Wait 2 days for purchase"),
    ("wait_event", {"event": "nps_answered", "timeout": "PT6H"}, "Wait 6 hours for nps answered"),
    ("wait_event", {"event": "purchase"}, "Wait for purchase, no timeout"),
    # branching
    ("condition", {"condition": 'age >= 25 and gender == "f"'}, "age ≥ 25 and gender = f"),
    ("condition", {"condition": "age >="}, "⚠ cannot read condition"),
    ("condition", {"condition": ""}, "⚠ no condition"),
    ("condition", {"condition": "(" * 5000 + "age" + ")" * 5000}, "⚠ cannot read condition"),
    (
        "switch",
        {"cases": [{"id": f"c{i}", "label": "", "condition": ""} for i in range(3)]},
        "3 cases + else",
    ),
    ("switch", {"cases": [{"id": "c1"}]}, "1 case + else"),
    ("switch", {"cases": []}, "else only"),
    ("split", {"variants": CATALOG["split"].default_params()["variants"]}, f"A 50{T}% · B 50{T}%"),
    ("split", {"variants": [{"id": "x", "weight": 100}]}, f"x 100{T}%"),
    ("split", {"variants": [{"id": "x", "label": "Big", "weight": "lots"}]}, "Big ?"),
    ("split", {}, "⚠ no variants"),
    # entries
    ("entry.segment", {"condition": ""}, "All contacts"),
    ("entry.segment", {"condition": '"vip" in tags'}, "tagged vip"),
    ("entry.event", {"event": "cart_abandoned"}, "When cart abandoned"),
    ("entry.event", {"event": "inactive", "inactive_days": 90}, "When inactive 90 days"),
    (
        "entry.event",
        {"event": "purchase", "condition": "has_tag('vip')"},
        "When purchase · tagged vip",
    ),
    # actions
    ("update", {"action": "add_tag", "tag": "vip"}, "Add tag vip"),
    ("update", {"action": "remove_tag", "tag": "waitlist"}, "Remove tag waitlist"),
    (
        "update",
        {"action": "set_attribute", "attribute": "city", "value": "Kazan"},
        "Set city = Kazan",
    ),
    ("update", {"action": "set_crm_stage", "value": "SQL"}, "CRM stage → SQL"),
    ("update", {"action": "add_tag"}, "Add tag ?"),
    ("update", {"action": "explode"}, "⚠ unknown action ‘explode’"),
    ("notify", {"kind": "manager"}, "Notify manager"),
    ("notify", {"kind": "manager", "assignee": "Head of Sales"}, "Notify manager · Head of Sales"),
    ("notify", {"kind": "crm_task"}, "CRM task"),
    ("notify", {"kind": "webhook"}, "Webhook"),
    (
        "notify",
        {"kind": "webhook", "url": "https://hooks.example.com/x?y=1"},
        "Webhook · hooks.example.com",
    ),
    # outcomes
    ("goal", {"stage": "Purchase", "revenue": 4990}, f"Purchase · 4{T}990{T}₽"),
    ("goal", {"stage": "Purchase", "revenue": 1234567.5}, f"Purchase · 1{T}234{T}567,5{T}₽"),
    ("goal", {"stage": "SQL", "revenue": 0}, "SQL"),
    ("goal", {"stage": "Lead"}, "Lead"),
    ("exit", {"outcome": "converted"}, "Converted"),
    ("exit", {"outcome": "lost"}, "Lost"),
    ("exit", {"outcome": "unsubscribed"}, "Unsubscribed"),
    ("exit", {"outcome": "handoff", "handoff_to": "b2b_nurture"}, "Handed to b2b_nurture"),
    ("exit", {"outcome": "handoff"}, "Handed to ?"),
    # annotations
    ("note", {"text": "\n  Why no discount first\nbecause…"}, "Why no discount first"),
    ("group", {"text": "Attention"}, "Attention"),
    ("note", {}, "(no text)"),
    # types this version does not know
    ("ai_magic", {"prompt": "sell"}, "Unknown type ‘ai_magic’"),
]


@pytest.mark.parametrize(("type_name", "params", "expected"), CASES)
def test_summary_table(type_name: str, params: dict[str, Any], expected: str) -> None:
    assert line(type_name, **params) == expected


@pytest.mark.parametrize(
    ("currency", "expected"),
    [
        ("RUB", f"4{T}990{T}₽"),
        ("USD", f"$4{T}990"),
        ("EUR", f"€4{T}990"),
        ("KZT", f"4{T}990{T}KZT"),
    ],
)
def test_goal_revenue_in_the_scenario_currency(currency: str, expected: str) -> None:
    assert line("goal", currency, stage="Purchase", revenue=4990) == f"Purchase · {expected}"


def test_long_texts_are_cut_at_a_word_with_an_ellipsis() -> None:
    text = line("note", text="word " * 40)
    assert len(text) <= MAX_LENGTH and text.endswith("word…")
    offer = summarize(
        Node("n", "offer", params={"channel": "messenger", "product": "p", "discount": 15}),
        Scenario(products=[Product("p", "An extraordinarily long product name " * 3)]),
    )
    assert len(offer) <= MAX_LENGTH and offer.endswith(f"… −15{T}%")  # the discount stays


def test_every_catalog_type_has_its_own_summary() -> None:
    for spec in NODE_TYPES:
        text = summarize(Node("n", spec.type, params=spec.default_params()), scenario())
        assert text and not text.startswith("Unknown type"), spec.type


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_steps_summarize_to_short_lines(path: Path) -> None:
    loaded = load_scenario(path).scenario
    for node in loaded.nodes.values():
        text = summarize(node, loaded)
        assert 0 < len(text) < 60, (node.id, text)
        assert "Unknown type" not in text and "⚠" not in text, (node.id, text)


# --- junk never raises ---------------------------------------------------------------------------

junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=80)
    | st.sampled_from(
        ["case", "email", "window", "handoff", "webhook", "inactive", "mon", "{{ x", "{{ offer }}"]
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


@st.composite
def junk_nodes(draw: st.DrawFn) -> Node:
    """A step whose params are junk, or its defaults with some of them junk, so the junk also
    reaches the code behind the valid ones (a real product with a junk discount...)."""
    type_name = draw(st.sampled_from([*CATALOG, "ai_magic"]))
    spec = CATALOG.get(type_name)
    names = [p.name for p in spec.params] if spec else ["prompt"]
    params = draw(st.dictionaries(st.sampled_from([*names, "other"]), junk, max_size=len(names)))
    if spec and draw(st.booleans()):
        params = {**spec.default_params(), "product": "case", **params}
    return Node("n", type_name, params=params)


@settings(max_examples=300, deadline=None)
@given(junk_nodes(), st.sampled_from(["RUB", "USD", "EUR", "", "xx"]))
def test_junk_params_never_raise(node: Node, currency: str) -> None:
    text = summarize(node, scenario(currency))
    assert isinstance(text, str) and 0 < len(text) <= MAX_LENGTH


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(list(CATALOG)),
    st.sampled_from(["cases", "variants", "window_days"]),
    st.lists(junk, max_size=5),
)
def test_junk_items_never_raise(type_name: str, name: str, items: list[Any]) -> None:
    params = {**CATALOG[type_name].default_params(), "mode": "window", name: items}
    text = summarize(Node("n", type_name, params=params), scenario())
    assert 0 < len(text) <= MAX_LENGTH


@pytest.mark.parametrize("price", [1e30, 10**400, float("nan"), -5])
def test_absurd_product_prices_do_not_break_message_previews(price: float) -> None:
    junk = Scenario(products=[Product("p", "Thing", price=price)])
    for type_name in ("message", "offer"):
        node = Node("n", type_name, params={"product": "p", "discount": 10, "body": "{{ offer }}"})
        assert summarize(node, junk)


def test_odd_values_that_trip_the_standard_library() -> None:
    assert line("notify", kind="webhook", url="http://[oops/x") == "Webhook"
    assert line("message", channel=["email"], subject="Hi") == "? · ⚠ no text"
    assert line("goal", stage="Big", revenue=10**40).startswith("Big · 10")


@pytest.mark.parametrize("params", [None, [], "text", 5])
def test_params_that_are_not_a_dict(params: Any) -> None:
    for type_name in CATALOG:
        assert summarize(Node("n", type_name, params=params), scenario())
