"""The node catalog: every node type declared as data.

One declaration feeds the palette, the inspector's generated form, validation and the exporters,
so a type's exits, parameters and defaults are never restated elsewhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.engine.contact_schema import CHANNELS, KNOWN_EVENTS
from app.engine.i18n import Msg, localized


class Category(StrEnum):
    ENTRY = "entry"
    MESSAGE = "message"
    OFFER = "offer"
    FLOW = "flow"
    ACTION = "action"
    GOAL = "goal"
    EXIT = "exit"
    ANNOTATION = "annotation"


class ParamKind(StrEnum):
    """How a parameter is edited and checked; the inspector picks a widget per kind."""

    TEXT = "text"
    MULTILINE = "multiline"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    DURATION = "duration"
    EXPRESSION = "expression"
    TEMPLATE = "template"
    PRODUCT = "product"
    TIME = "time"
    WEEKDAYS = "weekdays"
    CASES = "cases"
    VARIANTS = "variants"
    COLOR = "color"


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: ParamKind
    label: str
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False
    help: str = ""
    # A value a marketer would type, shown after `help` in tooltips and docs.
    example: str = ""


ExitsFromParams = Callable[[Mapping[str, Any]], tuple[str, ...]]


@dataclass(frozen=True)
class NodeType:
    """A kind of step. `exits` is fixed, or `exits_from_params` derives it (switch, split).

    `help` says what the step does; `example` is one use in the words of a funnel a marketer
    already knows. Both feed the palette's and inspector's tooltips and the docs.
    """

    type: str
    category: Category
    label: str
    help: str
    params: tuple[ParamSpec, ...] = ()
    exits: tuple[str, ...] = ()
    exits_from_params: ExitsFromParams | None = None
    has_input: bool = True
    is_annotation: bool = False
    example: str = ""
    _params_by_name: dict[str, ParamSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_params_by_name", {p.name: p for p in self.params})

    def exits_for(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        if self.exits_from_params is not None:
            return self.exits_from_params(params)
        return self.exits

    def param(self, name: str) -> ParamSpec | None:
        return self._params_by_name.get(name)

    def default_params(self) -> dict[str, Any]:
        """A fresh copy of the defaults, safe to mutate."""
        return {p.name: _copy(p.default) for p in self.params if p.default is not None}

    @property
    def is_entry(self) -> bool:
        return self.category is Category.ENTRY


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _case_exits(params: Mapping[str, Any]) -> tuple[str, ...]:
    return (*_item_ids(params.get("cases")), "else")


def _variant_exits(params: Mapping[str, Any]) -> tuple[str, ...]:
    return _item_ids(params.get("variants"))


def _item_ids(items: Any) -> tuple[str, ...]:
    """Ids of switch cases / split variants, skipping malformed items (validation reports them)."""
    if not isinstance(items, list):
        return ()
    ids: list[str] = []
    for item in items:
        item_id = item.get("id") if isinstance(item, Mapping) else None
        if isinstance(item_id, str) and item_id and item_id not in ids:
            ids.append(item_id)
    return tuple(ids)


OUTCOMES = ("converted", "lost", "unsubscribed", "disqualified", "handoff")
PRODUCT_ROLES = ("lead_magnet", "tripwire", "main", "upsell", "cross_sell")
REENTRY_RULES = ("never", "after_exit", "always")
WAIT_EVENTS = (
    "opened",
    "clicked",
    "purchase",
    "replied",
    *[e for e in KNOWN_EVENTS if e not in ("opened", "clicked", "purchase", "replied")],
)

_CHANNEL = ParamSpec(
    "channel",
    ParamKind.CHOICE,
    "Channel",
    default="email",
    choices=CHANNELS,
    required=True,
    help="How the message reaches the contact. SMS and messengers need a phone and consent.",
    example="SMS for an urgent back-in-stock alert, e-mail for everything else",
)
_SUBJECT = ParamSpec(
    "subject",
    ParamKind.TEMPLATE,
    "Subject",
    default="",
    help="The e-mail's subject line (a Jinja2 template); other channels do not use it.",
    example="{{ contact.first_name }}, your cart is waiting",
)
_BODY = ParamSpec(
    "body",
    ParamKind.TEMPLATE,
    "Text",
    default="",
    required=True,
    help="The message text, a Jinja2 template: contact fields, the offer, the promo code.",
    example="Hi {{ contact.first_name }}, {{ promo_code }} gives you {{ offer.discount }} % off",
)
_COST = ParamSpec(
    "cost",
    ParamKind.NUMBER,
    "Cost per message",
    default=0,
    minimum=0,
    help="What one message costs in the scenario's currency; simulation adds it up.",
    example="4.5 for an SMS, 0.1 for an e-mail",
)
_CONDITION = ParamSpec(
    "condition",
    ParamKind.EXPRESSION,
    "Condition",
    default="",
    help="Only contacts for whom this holds enter; empty means everyone.",
    example='days_since_purchase > 90 and "vip" in tags',
)
_REENTRY = ParamSpec(
    "reentry",
    ParamKind.CHOICE,
    "Re-entry",
    default="never",
    choices=REENTRY_RULES,
    help="May a contact enter again: never, after leaving the scenario, or at any time.",
    example="after_exit for a monthly win-back, never for a welcome series",
)
_TEXT = ParamSpec(
    "text",
    ParamKind.MULTILINE,
    "Text",
    default="",
    help="What the diagram shows: the note's words or the frame's caption.",
    example="Why the first reminder carries no discount",
)
_COLOR = ParamSpec(
    "color",
    ParamKind.COLOR,
    "Colour",
    default="#FFF4C2",
    help="The background colour on the canvas and in exported diagrams.",
    example="#FFF4C2, a sticky-note yellow",
)

NODE_TYPES: tuple[NodeType, ...] = (
    NodeType(
        "entry.segment",
        Category.ENTRY,
        "Segment entry",
        "Contacts matching a condition enter the scenario.",
        params=(
            _CONDITION,
            ParamSpec(
                "schedule",
                ParamKind.CHOICE,
                "Entry schedule",
                default="all_at_once",
                choices=("all_at_once", "spread"),
                help="All at once when the scenario starts, or evenly over some days, so a "
                "large segment does not flood the shop's support in one morning.",
                example="spread, for 50 000 dormant customers",
            ),
            ParamSpec(
                "spread_days",
                ParamKind.INTEGER,
                "Spread over days",
                default=1,
                minimum=1,
                maximum=365,
                help="With a spread schedule, contacts enter evenly over this many days.",
                example="7",
            ),
            _REENTRY,
        ),
        exits=("next",),
        has_input=False,
        example="everyone tagged “vip” who has not bought for 90 days",
    ),
    NodeType(
        "entry.event",
        Category.ENTRY,
        "Event trigger",
        "A contact enters when an event happens: a cart abandoned, a sign-up, a purchase…",
        params=(
            ParamSpec(
                "event",
                ParamKind.CHOICE,
                "Event",
                default="cart_abandoned",
                choices=KNOWN_EVENTS,
                required=True,
                help="What the contact does (or what happens to them) that brings them in.",
                example="cart_abandoned, signup, purchase",
            ),
            ParamSpec(
                "inactive_days",
                ParamKind.INTEGER,
                "Inactive for days",
                default=90,
                minimum=1,
                help="For the ‘inactive’ event: days without activity that fire it.",
                example="90",
            ),
            _CONDITION,
            _REENTRY,
        ),
        exits=("next",),
        has_input=False,
        example="a cart worth 1 000 ₽ or more is abandoned",
    ),
    NodeType(
        "message",
        Category.MESSAGE,
        "Send message",
        "Sends a message. ‘failed’ is taken when there is no consent, no address, "
        "or the message is not delivered.",
        params=(_CHANNEL, _SUBJECT, _BODY, _COST),
        exits=("sent", "failed"),
        example="an e-mail: “You left something in your cart”",
    ),
    NodeType(
        "offer",
        Category.OFFER,
        "Product offer",
        "Offers a product from the product matrix, with an optional discount and promo code.",
        params=(
            ParamSpec(
                "product",
                ParamKind.PRODUCT,
                "Product",
                required=True,
                help="What is offered, from the scenario's products: lead magnet, tripwire, "
                "main product, upsell or cross-sell.",
                example="Phone case (cross-sell, 990 ₽) two days after a phone",
            ),
            ParamSpec(
                "discount",
                ParamKind.NUMBER,
                "Discount, %",
                default=0,
                minimum=0,
                maximum=100,
                help="The discount in percent; above the scenario's limit it is a warning.",
                example="10",
            ),
            ParamSpec(
                "promo_code",
                ParamKind.TEXT,
                "Promo code",
                default="",
                help="The code typed at checkout; the text can show it as {{ promo_code }}.",
                example="BACK10",
            ),
            _CHANNEL,
            _SUBJECT,
            _BODY,
            _COST,
        ),
        exits=("sent", "failed"),
        example="a personal 10 % code for the items left in the cart",
    ),
    NodeType(
        "wait",
        Category.FLOW,
        "Wait",
        "Holds the contact for a time, or until the next send window.",
        params=(
            ParamSpec(
                "mode",
                ParamKind.CHOICE,
                "Wait",
                default="duration",
                choices=("duration", "window"),
                help="A fixed time, or until the next allowed send window.",
                example="window, so a cart left at 2 a.m. is reminded at 10:00",
            ),
            ParamSpec(
                "duration",
                ParamKind.DURATION,
                "Duration",
                default="P1D",
                help="How long to hold the contact (ISO 8601: PT = hours and minutes).",
                example="PT1H (an hour), P2D (two days), P1W (a week)",
            ),
            ParamSpec(
                "window_days",
                ParamKind.WEEKDAYS,
                "Window days",
                default=["mon", "tue", "wed", "thu", "fri"],
                help="The days on which the send window opens.",
                example="Tue–Sat, to keep out of Monday's full inbox",
            ),
            ParamSpec(
                "window_start",
                ParamKind.TIME,
                "Window opens",
                default="10:00",
                help="When the window opens, 24-hour time in the scenario's time zone.",
                example="10:00",
            ),
            ParamSpec(
                "window_end",
                ParamKind.TIME,
                "Window closes",
                default="20:00",
                help="When the window closes; contacts arriving later wait for the next day.",
                example="20:00",
            ),
        ),
        exits=("next",),
        example="wait 1 hour, or hold until the 09:00–21:00 window",
    ),
    NodeType(
        "wait_event",
        Category.FLOW,
        "Wait for event",
        "Waits until the contact does something (opens, clicks, buys) or the timeout passes.",
        params=(
            ParamSpec(
                "event",
                ParamKind.CHOICE,
                "Event",
                default="purchase",
                choices=WAIT_EVENTS,
                required=True,
                help="What the contact must do for the ‘happened’ exit.",
                example="purchase, after a reminder with a promo code",
            ),
            ParamSpec(
                "timeout",
                ParamKind.DURATION,
                "Timeout",
                default="P2D",
                required=True,
                help="How long to wait before taking the ‘timeout’ exit.",
                example="P2D (two days)",
            ),
        ),
        exits=("happened", "timeout"),
        example="did they buy within 2 days? If not, remind them",
    ),
    NodeType(
        "condition",
        Category.FLOW,
        "Condition",
        "Branches on the contact's attributes, tags, events, season or day of week.",
        params=(
            ParamSpec(
                "condition",
                ParamKind.EXPRESSION,
                "Condition",
                default="",
                required=True,
                help="Contacts for whom this holds take ‘yes’, the others ‘no’.",
                example='age >= 25 and gender == "f" and "cats" in tags',
            ),
        ),
        exits=("yes", "no"),
        example="can we text them? consent_sms and has_phone",
    ),
    NodeType(
        "switch",
        Category.FLOW,
        "Switch",
        "Checks cases in order; the first that holds decides the exit, ‘else’ takes the rest.",
        params=(
            ParamSpec(
                "cases",
                ParamKind.CASES,
                "Cases",
                default=[
                    {"id": "case1", "label": "Case 1", "condition": ""},
                    {"id": "case2", "label": "Case 2", "condition": ""},
                ],
                help="Ordered cases, each with an id, a label and a condition; the first that "
                "holds wins and each case is an exit.",
                example='cats: "cats" in tags · dogs: "dogs" in tags · else: the rest',
            ),
        ),
        exits_from_params=_case_exits,
        example="by city: Moscow, St Petersburg, everyone else",
    ),
    NodeType(
        "split",
        Category.FLOW,
        "A/B split",
        "Sends contacts down variants at random, by weight (weights sum to 100).",
        params=(
            ParamSpec(
                "variants",
                ParamKind.VARIANTS,
                "Variants",
                default=[
                    {"id": "a", "label": "A", "weight": 50},
                    {"id": "b", "label": "B", "weight": 50},
                ],
                help="Variants with a weight each; the weights add up to 100 and every "
                "variant is an exit.",
                example="A 50 / B 50 to test two subject lines",
            ),
        ),
        exits_from_params=_variant_exits,
        example="test two subject lines, 50 % / 50 %",
    ),
    NodeType(
        "update",
        Category.ACTION,
        "Update contact",
        "Sets an attribute, adds or removes a tag, or moves the CRM stage.",
        params=(
            ParamSpec(
                "action",
                ParamKind.CHOICE,
                "Action",
                default="add_tag",
                choices=("add_tag", "remove_tag", "set_attribute", "set_crm_stage"),
                help="What changes on the contact: a tag, an attribute or the CRM stage.",
                example="add_tag, to mark who saw the offer",
            ),
            ParamSpec(
                "tag",
                ParamKind.TEXT,
                "Tag",
                default="",
                help="The tag to add or remove; later conditions can test it.",
                example="cart_lost",
            ),
            ParamSpec(
                "attribute",
                ParamKind.TEXT,
                "Attribute",
                default="",
                help="The contact attribute to set (with ‘set attribute’).",
                example="preferred_channel",
            ),
            ParamSpec(
                "value",
                ParamKind.TEXT,
                "Value",
                default="",
                help="The attribute's new value, or the CRM stage to move the contact to.",
                example="Sales-qualified lead",
            ),
        ),
        exits=("next",),
        example="tag “cart_lost” for retargeting ads",
    ),
    NodeType(
        "notify",
        Category.ACTION,
        "Notify / CRM task / webhook",
        "Tells a manager, creates a CRM task or calls a webhook.",
        params=(
            ParamSpec(
                "kind",
                ParamKind.CHOICE,
                "Kind",
                default="manager",
                choices=("manager", "crm_task", "webhook"),
                help="Tell a manager now, create a CRM task, or call a webhook of another system.",
                example="crm_task, for a call-back within a day",
            ),
            ParamSpec(
                "text",
                ParamKind.TEMPLATE,
                "Text",
                default="",
                help="What the manager or the task reads (a Jinja2 template).",
                example="Call {{ contact.first_name }} at {{ contact.phone }} today",
            ),
            ParamSpec(
                "assignee",
                ParamKind.TEXT,
                "Assignee",
                default="",
                help="Who gets the notification or the task.",
                example="Head of Sales",
            ),
            ParamSpec(
                "url",
                ParamKind.TEXT,
                "Webhook URL",
                default="",
                help="The address the webhook calls with the contact's data.",
                example="https://crm.example/hooks/hot-lead",
            ),
        ),
        exits=("done", "failed"),
        example="ask a manager to call a hot lead",
    ),
    NodeType(
        "goal",
        Category.GOAL,
        "Goal",
        "Counts a conversion stage for the funnel chart, with the revenue it brings.",
        params=(
            ParamSpec(
                "stage",
                ParamKind.TEXT,
                "Stage",
                default="Purchase",
                required=True,
                help="The stage's name in the funnel chart; goals with one name add up.",
                example="Cart recovered",
            ),
            ParamSpec(
                "revenue",
                ParamKind.NUMBER,
                "Revenue",
                default=0,
                minimum=0,
                help="What a contact reaching this goal brings, in the scenario's currency.",
                example="4490, the average check",
            ),
        ),
        exits=("next",),
        example="“Cart recovered”, worth the average check",
    ),
    NodeType(
        "exit",
        Category.EXIT,
        "Exit",
        "Where a contact leaves the scenario, with its outcome.",
        params=(
            ParamSpec(
                "outcome",
                ParamKind.CHOICE,
                "Outcome",
                default="converted",
                choices=OUTCOMES,
                required=True,
                help="How the contact leaves: converted, lost, unsubscribed, disqualified, or "
                "handed to another scenario.",
                example="lost, for ‘did not buy after two reminders’",
            ),
            ParamSpec(
                "handoff_to",
                ParamKind.TEXT,
                "Hand off to scenario",
                default="",
                help="With outcome ‘handoff’: the id of the scenario that takes over.",
                example="post_purchase_cross_sell",
            ),
        ),
        example="bought / did not buy / unsubscribed",
    ),
    NodeType(
        "note",
        Category.ANNOTATION,
        "Note",
        "A sticky note for the diagram; not part of the flow.",
        params=(_TEXT, _COLOR),
        has_input=False,
        is_annotation=True,
        example="why the first reminder carries no discount",
    ),
    NodeType(
        "group",
        Category.ANNOTATION,
        "Stage frame",
        "A frame around a stage (Attention, Interest, Decision, Action); not part of the flow.",
        params=(
            _TEXT,
            dataclasses.replace(_COLOR, default="#E8F0FE", example="#E8F0FE, a pale blue"),
            ParamSpec(
                "width",
                ParamKind.NUMBER,
                "Width",
                default=600,
                minimum=50,
                help="The frame's width on the canvas (a step card is 220 wide).",
                example="780, three columns of steps",
            ),
            ParamSpec(
                "height",
                ParamKind.NUMBER,
                "Height",
                default=400,
                minimum=50,
                help="The frame's height on the canvas; auto-layout fits it to its steps.",
                example="880",
            ),
        ),
        has_input=False,
        is_annotation=True,
        example="the “Interest” stage of the funnel",
    ),
)

CATALOG: dict[str, NodeType] = {t.type: t for t in NODE_TYPES}

MESSAGE_TYPES = frozenset({"message", "offer"})
WAIT_TYPES = frozenset({"wait", "wait_event"})


def node_type(type_name: str) -> NodeType | None:
    """The declaration of a type, or None for types this version does not know."""
    return CATALOG.get(type_name)


def types_in(category: Category) -> list[NodeType]:
    return [t for t in NODE_TYPES if t.category is category]


# --- words a user reads ----------------------------------------------------------------------
# Labels and help above are the English sources; these show them in the current language
# (`tools/translations.py` lists every one of them for the translators).

FIXED_EXITS = ("next", "sent", "failed", "happened", "timeout", "yes", "no", "else", "done")
_ACRONYMS = {"sms": "SMS", "vk": "VK", "crm": "CRM", "nps": "NPS", "url": "URL", "email": "e-mail"}


def category_source(category: Category) -> str:
    return category.value.capitalize()


def category_title(category: Category) -> str:
    """`Entry`, `Flow`…: a palette heading."""
    return localized("Category", category_source(category))


def type_label(spec: NodeType) -> str:
    return localized("NodeType", spec.label)


def type_help(spec: NodeType) -> str:
    return localized("NodeType", spec.help)


def param_label(param: ParamSpec) -> str:
    return localized("Parameter", param.label)


def example_text(spec: NodeType | ParamSpec) -> str:
    """A step's or parameter's example in the interface language ("" when it has none)."""
    return localized("Example", spec.example) if spec.example else ""


def param_help(param: ParamSpec) -> str:
    return localized("Parameter", param.help) if param.help else ""


def exit_label(exit_name: str) -> str:
    """A fixed exit (`sent`, `timeout`) in words; a case or variant id is the user's own."""
    return str(exit_text(exit_name))


def exit_text(exit_name: str) -> Msg | str:
    """`exit_label` kept as a `Msg`, for texts shown later (problems) in the reader's language."""
    return Msg("Exit", exit_name) if exit_name in FIXED_EXITS else exit_name


def event_label(event: str) -> str:
    """A known event inside a sentence (`purchase`, `cart abandoned` in English); an event the
    catalog does not know stays as written."""
    return str(event_text(event))


def event_text(event: str) -> Msg | str:
    return Msg("Event", event.replace("_", " ")) if event in KNOWN_EVENTS else event


def choice_source(value: str) -> str:
    """`cart_abandoned` → `Cart abandoned`, `sms` → `SMS`: a choice as a marketer reads it."""
    words = [_ACRONYMS.get(w, w) for w in str(value).split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def choice_label(value: str) -> str:
    return localized("Choice", choice_source(value))


def choice_text(value: str) -> Msg:
    return Msg("Choice", choice_source(value))


def channel_text(channel: str) -> Msg:
    """A channel inside a sentence: `e-mail`, `push`, `sms`."""
    return Msg("Channel", "e-mail" if channel == "email" else channel)


def param_text(param: ParamSpec) -> Msg:
    return Msg("Parameter", param.label)


def localized_defaults(spec: NodeType) -> dict[str, Any]:
    """Defaults for a step a user adds: words in them (a goal's stage, case labels) come in
    the interface language, as if the user had typed them."""
    params = spec.default_params()
    for param in spec.params:
        value = params.get(param.name)
        if param.kind is ParamKind.TEXT and isinstance(value, str) and value:
            params[param.name] = localized("Default", value)
        elif param.kind is ParamKind.CASES and isinstance(value, list):
            for case in value:
                case["label"] = localized("Default", case["label"])
    return params


def _default_words() -> list[str]:
    words = []
    for spec in NODE_TYPES:
        for param in spec.params:
            if param.kind is ParamKind.TEXT and isinstance(param.default, str) and param.default:
                words.append(param.default)
            elif param.kind is ParamKind.CASES:
                words += [case["label"] for case in param.default]
    return words


def translatable_texts() -> list[tuple[str, str]]:
    """(context, source) of every catalog text a user reads, for the translation sources."""
    texts: list[tuple[str, str]] = [("Category", category_source(c)) for c in Category]
    texts += [("Exit", name) for name in FIXED_EXITS]
    choices: set[str] = {*CHANNELS, *KNOWN_EVENTS, *WAIT_EVENTS, *OUTCOMES, *PRODUCT_ROLES}
    for spec in NODE_TYPES:
        texts += [("NodeType", spec.label), ("NodeType", spec.help)]
        if spec.example:
            texts.append(("Example", spec.example))
        for param in spec.params:
            texts.append(("Parameter", param.label))
            if param.help:
                texts.append(("Parameter", param.help))
            if param.example:
                texts.append(("Example", param.example))
            choices.update(param.choices)
    texts += [("Choice", choice_source(value)) for value in sorted(choices)]
    texts += [("Event", event.replace("_", " ")) for event in KNOWN_EVENTS]
    texts += [("Channel", str(channel_text(channel))) for channel in CHANNELS]
    texts += [("Default", word) for word in _default_words()]
    return list(dict.fromkeys(texts))
