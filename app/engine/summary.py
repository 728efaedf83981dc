"""One-line summaries under each step's title on the canvas: what the step does, at a glance.

The canvas paints these for every step of any file it opens, including files written by hand
or by other tools, so a summary never raises: a missing or unusable value reads as ‘?’, and a
whole step that cannot be read says so with ⚠. Message texts are previewed by filling simple
placeholders from the sample contact by name; they are never rendered, because a template can
run for minutes and the canvas must not wait for one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from app.engine.catalog import choice_label, event_label
from app.engine.contact_schema import WEEKDAYS
from app.engine.durations import DurationError, duration_words, parse_duration
from app.engine.expressions import ExpressionError, cached_parse, to_words
from app.engine.i18n import T, current_locale, on_change
from app.engine.locale_format import format_money
from app.engine.model import Node, Product, Scenario
from app.engine.templates import preview_context, sample_contact

MAX_LENGTH = 56
QUOTE_LENGTH = 40

_THIN = "\u202f"  # narrow no-break space: digit groups and "10 %" stay on one line
_MINUS = "\u2212"
_CHANNELS = frozenset({"email", "sms", "messenger", "vk", "push"})
_TITLED_CHANNELS = frozenset({"email", "push"})  # the others send no subject, whatever is set
_OUTCOMES = frozenset({"converted", "lost", "unsubscribed", "disqualified"})
_SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€"}
_PREFIX_SYMBOLS = frozenset({"USD", "EUR"})
_TAG = re.compile(r"\{\{(.*?)\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_PATH = re.compile(r"\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\])*)")
_STEP = re.compile(r"[A-Za-z_]\w*|\d+")
_OR_TEXT = re.compile(r"\bor\s+(['\"])(.*?)\1")

Params = Mapping[str, Any]


def summarize(node: Node, scenario: Scenario) -> str:
    """A short line (at most MAX_LENGTH characters, never empty) from the step's params."""
    describe = _DESCRIBERS.get(node.type)
    if describe is None:
        line = str(T("Summary", "Unknown type ‘{type}’", type=_text(node.type) or "?"))
    else:
        params = node.params if isinstance(node.params, Mapping) else {}
        line = describe(params, scenario) or "?"
    return _clip(line, MAX_LENGTH)


# --- one describer per type ----------------------------------------------------------------


def _message(params: Params, scenario: Scenario) -> str:
    # A plain message naming a product (back in stock, price drop) is about the scenario's own.
    products = scenario.products
    text = _message_text(params, scenario, products[0] if products else None)
    return f"{_channel(params)} · {text}"


def _offer(params: Params, scenario: Scenario) -> str:
    product_id = _text(params.get("product"))
    if not product_id:
        return f"{_channel(params)} · ⚠ {T('Summary', 'no product')}"
    product = scenario.product(product_id)
    if product is None:
        unknown = T("Summary", "unknown product ‘{id}’", id=product_id)
        return f"{_channel(params)} · ⚠ {unknown}"
    discount = _number(params.get("discount"))
    off = f" {_MINUS}{_amount(discount)}{_THIN}%" if discount else ""
    head = f"{_channel(params)} · "
    # A long product name gives way, so the discount stays in sight.
    return head + _clip(_text(product.name) or product.id, MAX_LENGTH - len(head) - len(off)) + off


def _wait(params: Params, scenario: Scenario) -> str:
    if params.get("mode") == "window":
        hours = (
            f"{_text(params.get('window_start')) or '?'}–{_text(params.get('window_end')) or '?'}"
        )
        days = _weekdays(params.get("window_days"))
        if days:
            return str(T("Summary", "Until {days} {hours}", days=days, hours=hours))
        return str(T("Summary", "Until {hours}", hours=hours))
    return str(T("Summary", "Wait {time}", time=_duration(params.get("duration"))))


def _wait_event(params: Params, scenario: Scenario) -> str:
    event = _event(params.get("event"))
    if params.get("timeout") in (None, ""):
        return str(T("Summary", "Wait for {event}, no timeout", event=event))
    time = _duration(params.get("timeout"))
    return str(T("Summary", "Wait {time} for {event}", time=time, event=event))


def _condition(params: Params, scenario: Scenario) -> str:
    return _condition_words(params.get("condition")) or f"⚠ {T('Summary', 'no condition')}"


def _switch(params: Params, scenario: Scenario) -> str:
    cases = len(_items(params.get("cases")))
    if not cases:
        return str(T("Summary", "else only"))
    return str(T("Summary", "%n case(s) + else", cases))


def _split(params: Params, scenario: Scenario) -> str:
    variants = [
        f"{_text(v.get('label')) or _text(v.get('id')) or '?'} {_percent(v.get('weight'))}"
        for v in _items(params.get("variants"))
    ]
    return " · ".join(variants) or f"⚠ {T('Summary', 'no variants')}"


def _entry_segment(params: Params, scenario: Scenario) -> str:
    return _condition_words(params.get("condition")) or str(T("Summary", "All contacts"))


def _entry_event(params: Params, scenario: Scenario) -> str:
    event = _event(params.get("event"))
    line = str(T("Summary", "When {event}", event=event))
    if params.get("event") == "inactive":
        days = _number(params.get("inactive_days"))
        if days is None:
            line = str(T("Summary", "When {event} ? days", event=event))
        else:
            count = int(days) if float(days).is_integer() else 2
            line = str(T("Summary", "When {event} {n} day(s)", count, event=event, n=_amount(days)))
    condition = _condition_words(params.get("condition"))
    return f"{line} · {condition}" if condition else line


def _update(params: Params, scenario: Scenario) -> str:
    action = params.get("action")
    tag, value = _text(params.get("tag")) or "?", _text(params.get("value")) or "?"
    match action:
        case "add_tag":
            return str(T("Summary", "Add tag {tag}", tag=tag))
        case "remove_tag":
            return str(T("Summary", "Remove tag {tag}", tag=tag))
        case "set_attribute":
            name = _text(params.get("attribute")) or "?"
            return str(T("Summary", "Set {name} = {value}", name=name, value=value))
        case "set_crm_stage":
            return str(T("Summary", "CRM stage → {value}", value=value))
    return f"⚠ {T('Summary', 'unknown action ‘{action}’', action=_text(action) or '?')}"


def _notify(params: Params, scenario: Scenario) -> str:
    kind = params.get("kind")
    if kind == "webhook":
        try:
            host = urlsplit(_text(params.get("url"))).hostname
        except ValueError:  # e.g. an unclosed [ of an IPv6 address
            host = None
        webhook = T("Summary", "Webhook")
        return f"{webhook} · {host}" if host else str(webhook)
    lines = {"manager": T("Summary", "Notify manager"), "crm_task": T("Summary", "CRM task")}
    line = str(lines.get(_text(kind), T("Summary", "Notify")))
    assignee = _text(params.get("assignee"))
    return f"{line} · {assignee}" if assignee else line


def _goal(params: Params, scenario: Scenario) -> str:
    stage = _text(params.get("stage")) or "?"
    revenue = _number(params.get("revenue"))
    if not revenue or revenue < 0:
        return stage
    return f"{stage} · {_money(revenue, scenario.settings.currency)}"


def _exit(params: Params, scenario: Scenario) -> str:
    outcome = params.get("outcome")
    if outcome == "handoff":
        return str(T("Summary", "Handed to {id}", id=_text(params.get("handoff_to")) or "?"))
    if isinstance(outcome, str) and outcome in _OUTCOMES:
        return choice_label(outcome)
    return f"⚠ {T('Summary', 'unknown outcome ‘{outcome}’', outcome=_text(outcome) or '?')}"


def _annotation(params: Params, scenario: Scenario) -> str:
    text = params.get("text")
    lines = text.splitlines() if isinstance(text, str) else []
    return next((_text(line) for line in lines if line.strip()), str(T("Summary", "(no text)")))


_DESCRIBERS: dict[str, Callable[[Params, Scenario], str]] = {
    "entry.segment": _entry_segment,
    "entry.event": _entry_event,
    "message": _message,
    "offer": _offer,
    "wait": _wait,
    "wait_event": _wait_event,
    "condition": _condition,
    "switch": _switch,
    "split": _split,
    "update": _update,
    "notify": _notify,
    "goal": _goal,
    "exit": _exit,
    "note": _annotation,
    "group": _annotation,
}


# --- pieces ----------------------------------------------------------------------------------


def channel_name(channel: Any) -> str:
    """`sms` → `SMS`, `email` → `E-mail`: a channel as people name it (charts, reports)."""
    return _channel({"channel": channel})


def _channel(params: Params) -> str:
    channel = params.get("channel")
    if isinstance(channel, str) and channel in _CHANNELS:
        return choice_label(channel)
    return _clip(_text(channel), 16) or "?"


def _message_text(params: Params, scenario: Scenario, product: Product | None) -> str:
    """The subject, else the body, with placeholders filled from the sample contact."""
    titled = _text(params.get("channel")) in _TITLED_CHANNELS
    texts = (params.get("subject") if titled else None, params.get("body"))
    source = next((t for t in texts if isinstance(t, str) and t.strip()), "")
    discount = _number(params.get("discount")) or 0
    context = preview_context(
        sample_contact(),
        product=_sample_product(product),
        discount=discount if 0 <= discount <= 100 else 0,
        promo_code=_text(params.get("promo_code")),
        scenario_name=_text(scenario.name),
    )
    text = _text(_TAG.sub(lambda match: _fill(match, context), source))
    if not text:
        return f"⚠ {T('Summary', 'no text')}"
    return str(T("Quote", "‘{text}’", text=_clip(text, QUOTE_LENGTH)))


def _sample_product(product: Product | None) -> dict[str, Any] | None:
    if product is None:
        return None
    price = _number(product.price)
    # The offer's final price is rounded in 28-digit decimals; absurd prices would not fit.
    usable = price is not None and 0 <= price < 10**15
    return {
        "id": product.id,
        "name": product.name,
        "role": product.role,
        "price": price if usable else 0,
    }


def _fill(match: re.Match[str], context: Mapping[str, Any]) -> str:
    """`{{ contact.first_name or "Hi" }}` → the sample's first name; `{% … %}` → nothing;
    a value the sample lacks → its fallback text, else `{name}`."""
    expression = match.group(1)
    if expression is None:
        return ""
    path = _PATH.match(expression)
    if path is None:
        return "{…}"
    value: Any = context
    for step in _STEP.findall(path.group(1)):
        if isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            value = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _amount(value)
    if isinstance(value, str) and value:
        return value
    fallback = _OR_TEXT.search(expression)
    return fallback.group(2) if fallback else "{" + _STEP.findall(path.group(1))[-1] + "}"


def _condition_words(text: Any) -> str:
    """The condition in plain words; "" when there is none."""
    if not isinstance(text, str) or not text.strip():
        return ""
    return _words(text)


@on_change
@lru_cache(maxsize=4096)
def _words(text: str) -> str:
    """Cached by text: every card shows its condition, and the canvas redraws them often
    (`on_change` empties the cache when the language changes)."""
    parsed = cached_parse(text)
    if isinstance(parsed, ExpressionError):
        return f"⚠ {T('Summary', 'cannot read condition')}"
    return to_words(parsed)


def _duration(value: Any) -> str:
    try:
        return duration_words(parse_duration(value))
    except DurationError:
        return "?"


def _event(value: Any) -> str:
    return event_label(_text(value)) or "?"


def _weekdays(value: Any) -> str:
    """`Mon–Fri`, `Sat, Sun`; "" when the window opens every day."""
    days = sorted({WEEKDAYS.index(d) for d in _list(value) if isinstance(d, str) and d in WEEKDAYS})
    if not days:
        return "?"
    if len(days) == len(WEEKDAYS):
        return ""
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = [
        f"{_day(r[0])}–{_day(r[-1])}" if len(r) > 2 else ", ".join(_day(d) for d in r) for r in runs
    ]
    return ", ".join(names)


def _day(index: int) -> str:
    """`Mon`…`Sun` in the current language."""
    names = (
        T("Weekday", "Mon"),
        T("Weekday", "Tue"),
        T("Weekday", "Wed"),
        T("Weekday", "Thu"),
        T("Weekday", "Fri"),
        T("Weekday", "Sat"),
        T("Weekday", "Sun"),
    )
    return str(names[index])


def _percent(value: Any) -> str:
    number = _number(value)
    return f"{_amount(number)}{_THIN}%" if number is not None else "?"


def _money(amount: float, currency: Any) -> str:
    """`4 990 ₽`, `$4 990`, `€4 990`, `4 990 KZT`, with thin spaces between digit groups; in
    the current locale's way once one is chosen (`₽4,990` in English)."""
    code = currency.upper() if isinstance(currency, str) else ""
    locale = current_locale()
    if locale:
        return format_money(amount, code or "RUB", locale) if code else _amount(amount)
    digits = _amount(amount, grouped=True)
    if code in _PREFIX_SYMBOLS:
        return f"{_SYMBOLS[code]}{digits}"
    digits = digits.replace(".", ",")
    symbol = _SYMBOLS.get(code, code)
    return f"{digits}{_THIN}{symbol}" if symbol else digits


def _amount(value: float, *, grouped: bool = False) -> str:
    """Whole numbers without decimals, others with up to two."""
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", _THIN) if grouped else text.replace(",", "")


def _number(value: Any) -> float | None:
    """A usable number param (ints of any size, finite floats; not bools), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    return None


def _text(value: Any) -> str:
    """A str param with runs of whitespace (newlines too) made single spaces; "" otherwise."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _items(value: Any) -> list[Mapping[str, Any]]:
    """The mappings of a cases / variants list; other entries are validation's to report."""
    return [item for item in _list(value) if isinstance(item, Mapping)]


def _clip(text: str, limit: int) -> str:
    """Cut at the last word that fits, marked with …."""
    if len(text) <= limit:
        return text
    if limit < 2:
        return "…"
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:·—-") + "…"
