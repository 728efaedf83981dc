"""Message templates: Jinja2 subjects and bodies, checked against the contact schema and rendered
in a sandbox.

Templates travel inside shared scenario files, so they render in an immutable sandbox (no
attribute tricks, no changing the contact), missing values are errors rather than silent blanks,
and output is plain text (no HTML escaping: SMS and text e-mails). Every failure is a
`TemplateError` worded for the marketer who wrote the template, with its line when known.

Template context, the names a template may read:

- ``contact``: the contact dict: the fields declared in `contact_schema` (first_name, last_name,
  email, phone, city, age, tags, ...) and ``attributes``, a dict of custom attributes.
- ``offer``: ``{"product": {...}, "discount": 10, "price": 990, "final_price": 891}``.
- ``product``: the offered product: ``{"id", "name", "role", "price"}``.
- ``promo_code``: text.
- ``cart``: ``{"items": [{"name", "price", "quantity"}, ...], "value": ...}``.
- ``scenario``: ``{"name": ...}``.
- ``unsubscribe_url``: text.

Dict keys win over dict methods, so ``cart.items`` is the list of items, not ``dict.items``.
A ``None`` value (a nullable field the contact lacks) prints as nothing, not as "None".
Filters are Jinja2's built-ins plus `money`.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, Literal

from jinja2 import (
    StrictUndefined,
    Template,
    TemplateSyntaxError,
    Undefined,
    UndefinedError,
    nodes,
)
from jinja2.exceptions import SecurityError, TemplateRuntimeError
from jinja2.runtime import Context
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment
from jinja2.utils import missing

from app.engine.contact_schema import CHANNELS, DEFAULT_SCHEMA, ContactSchema
from app.engine.i18n import Msg, T, Tpl, current_locale
from app.engine.locale_format import format_money
from app.engine.model import Product

CONTEXT_NAMES: tuple[str, ...] = (
    "contact",
    "offer",
    "product",
    "promo_code",
    "cart",
    "scenario",
    "unsubscribe_url",
)
PREVIEW_UNSUBSCRIBE_URL = "https://example.com/unsubscribe"

_NBSP = "\u00a0"  # keeps "1 234 ₽" on one line in e-mail clients
# Bigger powers take seconds to minutes to compute; nothing in a message needs them.
_MAX_POWER_BITS = 10_000


class TemplateError(Exception):
    """A template that cannot be parsed or rendered, in words a marketer can act on."""

    def __init__(self, message: Msg | str, line: int | None = None) -> None:
        super().__init__(message)
        self.text = message
        self.line = line

    @property
    def message(self) -> str:
        return str(self.text)

    @property
    def located(self) -> Msg | str:
        return _on_line(self.text, self.line)

    def __str__(self) -> str:
        return str(self.located)


def _on_line(text: Msg | str, line: int | None) -> Msg | str:
    return T("Template", "line {line}: {message}", line=line, message=text) if line else text


@dataclass(frozen=True)
class TemplateInfo:
    """What a template reads: dotted context paths such as ``contact.first_name``, sorted."""

    variables: tuple[str, ...]


IssueKind = Literal["syntax", "unknown_variable", "unknown_field"]


@dataclass(frozen=True)
class TemplateIssue:
    """One problem `check_template` found; `name` is the variable or path as written."""

    kind: IssueKind
    text: Msg | str
    line: int | None
    name: str | None = None

    @property
    def message(self) -> str:
        return str(self.text)

    @property
    def located(self) -> Msg | str:
        return _on_line(self.text, self.line)

    def __str__(self) -> str:
        return str(self.located)


# --- the sandbox -------------------------------------------------------------------------------


class _Record(dict):
    """A context dict that knows its dotted path, so a missing key is named in full."""

    __slots__ = ("_path",)

    def __init__(self, path: str, items: dict[Any, Any]) -> None:
        super().__init__(items)
        self._path = path


class _Items(list):
    """A context list that knows its dotted path, for the same reason as `_Record`."""

    __slots__ = ("_path",)

    def __init__(self, path: str, items: list[Any]) -> None:
        super().__init__(items)
        self._path = path


def _tracked(value: Any, path: str) -> Any:
    """A copy of `value` whose dicts and lists carry their path; the caller's data stays as is."""
    if isinstance(value, Mapping):
        return _Record(path, {key: _tracked(item, f"{path}.{key}") for key, item in value.items()})
    if isinstance(value, list | tuple):
        return _Items(path, [_tracked(item, f"{path}[{i}]") for i, item in enumerate(value)])
    return value


class _Unset(StrictUndefined):
    """Strict undefined whose error names the whole path: ‘contact.first_name’, not ‘first_name’."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[TemplateRuntimeError] = UndefinedError,
    ) -> None:
        if hint is None:
            owner = obj._path if isinstance(obj, _Record | _Items) else None
            if owner is None:
                path = str(name)
            elif isinstance(obj, _Items):
                path = f"{owner}[{name}]"
            else:
                path = f"{owner}.{name}"
            if path.startswith("contact."):
                hint = str(T("Template", "‘{path}’ is not set for this contact", path=path))
            else:
                hint = str(T("Template", "‘{path}’ is not set", path=path))
        super().__init__(hint, obj, name, exc)


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with data keys before methods and guards on results that would hang."""

    # Intercepted operators are also never folded at compile time, so even checking
    # `{{ 7 ** 100000000 }}` while it is typed cannot hang.
    intercepted_binops = frozenset({"*", "**"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        if isinstance(obj, Undefined):
            return obj  # `''.__class__.__mro__` was refused at `__class__`: say that one
        hint = str(T("Template", "using ‘{name}’", name=attribute))
        return self.undefined(hint, obj=obj, name=attribute, exc=SecurityError)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _power_too_big(left, right):
            raise OverflowError("the number would be too large")
        if operator == "*" and _repeat_length(left, right) > MAX_RANGE:
            raise OverflowError(f"the repeated text would be longer than {MAX_RANGE} characters")
        return super().call_binop(context, operator, left, right)


def _power_too_big(base: Any, exponent: Any) -> bool:
    return (
        isinstance(base, int)
        and isinstance(exponent, int)
        and abs(base) > 1
        and exponent * base.bit_length() > _MAX_POWER_BITS
    )


def _repeat_length(left: Any, right: Any) -> int:
    if isinstance(left, int) and isinstance(right, str | list | tuple):
        left, right = right, left
    if isinstance(left, str | list | tuple) and isinstance(right, int):
        return len(left) * right
    return 0


def _blank_none(value: Any) -> Any:
    return "" if value is None else value


def money(value: Any, currency: str = "RUB", locale: str | None = None) -> str:
    """``1 234 ₽``, ``$1,234.50``: whole amounts without decimals, as prices are quoted, in
    the given locale's convention, else the current one (`app.engine.i18n.install`), else the
    currency's own: ``1 234 ₽``, ``$1,234``, ``1 234 KZT``."""
    try:
        return format_money(value, currency, locale or current_locale())
    except ValueError:
        raise ValueError(
            str(T("Template", "money: ‘{value}’ is not an amount", value=value))
        ) from None


_ENV = _Sandbox(
    undefined=_Unset,
    autoescape=False,
    finalize=_blank_none,
    # Block tags on a line of their own leave no blank lines in plain text.
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["money"] = money


# --- parsing and checking ----------------------------------------------------------------------

_TOKEN_WORDS = {
    "end of print statement": "}}",
    "end of statement block": "%}",
    "end of template": Tpl("Template", "the end of the template"),
}
_SYNTAX_WORDING: tuple[tuple[re.Pattern[str], Msg], ...] = tuple(
    (re.compile(pattern, re.DOTALL), wording)
    for pattern, wording in (
        (
            r"unexpected end of template, expected 'end of print statement'\.",
            Tpl("Template", 'the tag is not closed — add "}}"'),
        ),
        (
            r"unexpected end of template, expected 'end of statement block'\.",
            Tpl("Template", 'the tag is not closed — add "%}"'),
        ),
        (
            r"unexpected 'end of template'",
            Tpl("Template", 'the template ends inside a tag — close it with "}}" or "%}"'),
        ),
        (
            r"Unexpected end of template\..*The innermost block that needs to be closed is "
            r"'(?P<block>\w+)'\.",
            Tpl("Template", "{% ${block} %} is not closed — add {% end${block} %}"),
        ),
        (
            r"Encountered unknown tag '(?P<tag>\w+)'\..*The innermost block that needs to be "
            r"closed is '(?P<block>\w+)'\.",
            Tpl(
                "Template",
                "{% ${tag} %} does not belong here: {% ${block} %} is still open — "
                "close it with {% end${block} %}",
            ),
        ),
        (
            r"Encountered unknown tag '(?P<tag>end\w+|else|elif)'\.",
            Tpl("Template", "{% ${tag} %} has no matching opening tag"),
        ),
        (
            r"Encountered unknown tag '(?P<tag>\w+)'\.",
            Tpl("Template", "there is no tag {% ${tag} %}"),
        ),
        (r"No filter named '(?P<name>\w+)'\.", Tpl("Template", "there is no filter ‘${name}’")),
        (r"No test named '(?P<name>\w+)'\.", Tpl("Template", "there is no test ‘${name}’")),
        (
            r"expected token 'end of print statement', got '(?P<found>.+)'",
            Tpl("Template", 'unexpected ‘${found}’ — is "}}" missing before it?'),
        ),
        (
            r"expected token 'end of statement block', got '(?P<found>.+)'",
            Tpl("Template", 'unexpected ‘${found}’ — is "%}" missing before it?'),
        ),
        (
            r"Expected an expression, got '(?P<found>.+)'",
            Tpl("Template", "a value is missing before ‘${found}’"),
        ),
        (
            r"unexpected char (?P<outer>['\"])(?P<quote>['\"])(?P=outer) at \d+",
            Tpl("Template", "a quoted text is not closed — add the closing ${quote}"),
        ),
        (
            r"unexpected char (?P<outer>['\"])(?P<char>.+)(?P=outer) at \d+",
            Tpl("Template", "‘${char}’ cannot be used here"),
        ),
        (
            r"unexpected '(?P<found>.+)', expected '(?P<closer>.)'",
            Tpl("Template", 'a bracket is not closed — add "${closer}"'),
        ),
        (r"unexpected '(?P<found>.+)'", Tpl("Template", "unexpected ‘${found}’")),
        (r"Missing end of comment tag", Tpl("Template", 'the comment is not closed — add "#}"')),
        (
            r"Missing end of raw directive",
            Tpl("Template", "{% raw %} is not closed — add {% endraw %}"),
        ),
        (r"expected name or number", Tpl("Template", 'a name is missing after "."')),
        (r"tag name expected", Tpl("Template", 'a tag name is missing after "{%"')),
    )
)


def _syntax_message(exc: TemplateSyntaxError, text: str) -> Msg | str:
    """Jinja2's message in a marketer's words; one this table does not know stays as it is."""
    message = exc.message or str(exc)
    if message == "unexpected '}'":
        return Tpl(
            "Template",
            'the tag is not closed — add "${closer}"',
            closer=_missing_closer(text, exc.lineno),
        )
    for pattern, wording in _SYNTAX_WORDING:
        match = pattern.fullmatch(message)
        if match:
            words = {key: _TOKEN_WORDS.get(word, word) for key, word in match.groupdict().items()}
            return wording.with_args(**words)
    return message


def _missing_closer(text: str, line: int) -> str:
    """Which mark, "}}" or "%}", the tag that a lone "}" on `line` broke is missing."""
    lines = text.splitlines(keepends=True)
    current = lines[line - 1] if 0 < line <= len(lines) else ""
    lone = re.search(r"(?<![}%#])\}(?!\})", current)
    opened = "".join(lines[: line - 1]) + (current[: lone.start()] if lone else current)
    return "%}" if opened.rfind("{%") > opened.rfind("{{") else "}}"


@lru_cache(maxsize=256)
def _compiled(text: str) -> Template:
    """Previews re-render on every keystroke, so each text is compiled once."""
    try:
        return _ENV.from_string(text)
    except TemplateSyntaxError as exc:
        raise TemplateError(_syntax_message(exc, text), exc.lineno) from exc


def _parse(text: str) -> nodes.Template:
    _compiled(text)  # also reports what only compiling finds, such as an unknown filter
    return _ENV.parse(text)


def _dotted(node: nodes.Node) -> str | None:
    """``contact.first_name`` for a chain of names, attributes and constant string keys."""
    if isinstance(node, nodes.Name):
        return node.name if node.ctx == "load" else None
    if isinstance(node, nodes.Getattr):
        base = _dotted(node.node)
        return None if base is None else f"{base}.{node.attr}"
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
    ):
        base = _dotted(node.node)
        return None if base is None else f"{base}.{node.arg.value}"
    return None


def _names(target: nodes.Node) -> frozenset[str]:
    found = (target, *target.find_all(nodes.Name))
    return frozenset(node.name for node in found if isinstance(node, nodes.Name))


def _read_paths(tree: nodes.Template) -> dict[str, int]:
    """Each context path the template reads, with the line it is first read on.

    Names the template binds itself (loop targets inside their loop, ``set``, macros and their
    arguments, ``with``) and Jinja's globals (``range``, ...) are not context variables.
    """
    bound: set[str] = set(_ENV.globals)
    for node in tree.find_all((nodes.Assign, nodes.AssignBlock)):
        bound |= _names(node.target)
    bound |= {node.name for node in tree.find_all(nodes.Macro)}
    found: dict[str, int] = {}

    def visit(node: nodes.Node, local: frozenset[str]) -> None:
        path = _dotted(node)
        if path is not None:
            if path.partition(".")[0] not in local:
                found[path] = min(found.get(path, node.lineno), node.lineno)
        elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
            # `contact.first_name.upper()` reads contact.first_name, not a field named upper.
            visit(node.node.node, local)
            for argument in (*node.args, *node.kwargs, node.dyn_args, node.dyn_kwargs):
                if argument is not None:
                    visit(argument, local)
        elif isinstance(node, nodes.For):
            visit(node.iter, local)
            inner = local | _names(node.target) | {"loop"}
            for child in (*node.body, node.test):
                if child is not None:
                    visit(child, inner)
            for child in node.else_:
                visit(child, local)
        elif isinstance(node, nodes.Macro | nodes.CallBlock):
            if isinstance(node, nodes.CallBlock):
                visit(node.call, local)
            for default in node.defaults:
                visit(default, local)
            inner = local | {arg.name for arg in node.args} | {"caller", "varargs", "kwargs"}
            for child in node.body:
                visit(child, inner)
        elif isinstance(node, nodes.With):
            for value in node.values:
                visit(value, local)
            inner = local.union(*(_names(target) for target in node.targets))
            for child in node.body:
                visit(child, inner)
        else:
            for child in node.iter_child_nodes():
                visit(child, local)

    visit(tree, frozenset(bound))
    return found


def parse_template(text: str) -> TemplateInfo:
    """The variables a template reads; raises `TemplateError` if it is not valid Jinja2."""
    return TemplateInfo(tuple(sorted(_read_paths(_parse(text)))))


OFFER_NAMES = frozenset({"offer", "product"})


def check_template(
    text: str, schema: ContactSchema = DEFAULT_SCHEMA, *, in_offer: bool = True
) -> list[TemplateIssue]:
    """Problems to show next to the template before anyone renders it, ordered by line.

    `in_offer=False` is for steps that are not product offers: they have no ``offer`` or
    ``product`` to read, and a template that reads them cannot be sent.
    """
    try:
        paths = _read_paths(_parse(text))
    except TemplateError as exc:
        return [TemplateIssue("syntax", exc.text, exc.line)]
    issues: list[TemplateIssue] = []
    reported: set[str] = set()
    for path, line in sorted(paths.items(), key=lambda item: (item[1], item[0])):
        root, _, rest = path.partition(".")
        if root in OFFER_NAMES and not in_offer:
            if root not in reported:
                reported.add(root)
                issues.append(TemplateIssue("unknown_variable", _not_an_offer(root), line, root))
        elif root not in CONTEXT_NAMES:
            if root not in reported:
                reported.add(root)
                issues.append(
                    TemplateIssue("unknown_variable", _unknown_variable(root), line, root)
                )
        elif root == "contact" and rest:
            field = rest.partition(".")[0]
            name = f"contact.{field}"
            if field != "attributes" and schema.find(field) is None and name not in reported:
                reported.add(name)
                issues.append(
                    TemplateIssue("unknown_field", _unknown_field(field, schema), line, name)
                )
    return issues


def _not_an_offer(name: str) -> Msg:
    return T(
        "Template",
        "‘{name}’ is known only in a Product offer step; this step offers no product — "
        "write the product's name in the text, or make the step an offer",
        name=name,
    )


def _unknown_variable(name: str) -> Msg:
    close = difflib.get_close_matches(name, CONTEXT_NAMES, n=1)
    if close:
        return T(
            "Template",
            "‘{name}’ is not a template variable — did you mean ‘{close}’?",
            name=name,
            close=close[0],
        )
    return T(
        "Template",
        "‘{name}’ is not a template variable; use one of: {names}",
        name=name,
        names=", ".join(CONTEXT_NAMES),
    )


def _unknown_field(field: str, schema: ContactSchema) -> Msg:
    if field in schema.custom_attributes:
        return T(
            "Template",
            "‘{field}’ is a custom attribute — write contact.attributes.{field}",
            field=field,
        )
    close = difflib.get_close_matches(field, schema.field_names(), n=1)
    if close:
        return T(
            "Template",
            "‘contact.{field}’ is not a contact field — did you mean ‘contact.{close}’?",
            field=field,
            close=close[0],
        )
    return T(
        "Template",
        "‘contact.{field}’ is not a contact field; "
        "custom attributes are read as contact.attributes.{field}",
        field=field,
    )


# --- rendering ---------------------------------------------------------------------------------


def render(text: str, context: Mapping[str, Any]) -> str:
    """The filled-in message; any failure becomes a `TemplateError`, never a raw exception."""
    template = _compiled(text)
    try:
        return template.render({name: _tracked(value, name) for name, value in context.items()})
    except Exception as exc:
        raise TemplateError(_render_message(exc), _template_line(exc)) from exc


def _render_message(exc: Exception) -> Msg | str:
    if isinstance(exc, UndefinedError):
        return str(exc)  # `_Unset` already names the missing path
    if isinstance(exc, SecurityError):
        return T(
            "Template", "the template tried something that is not allowed: {error}", error=str(exc)
        )
    if isinstance(exc, ZeroDivisionError):
        return T("Template", "division by zero")
    return T(
        "Template",
        "the template could not be filled in: {error}",
        error=str(exc) or type(exc).__name__,
    )


def _template_line(exc: BaseException) -> int | None:
    """Jinja2 rewrites tracebacks so template frames carry template line numbers."""
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename == "<template>"
    ]
    return lines[-1] if lines else None


def preview_context(
    contact: Mapping[str, Any],
    *,
    product: Mapping[str, Any] | Product | None = None,
    discount: float = 0,
    promo_code: str = "",
    cart: Mapping[str, Any] | None = None,
    scenario_name: str = "",
    unsubscribe_url: str = PREVIEW_UNSUBSCRIBE_URL,
) -> dict[str, Any]:
    """The template context for one contact.

    Without a product there is no ``offer`` or ``product``, and without a cart no ``cart``, so a
    template that reads them fails in the preview as it would when sent.
    """
    context: dict[str, Any] = {
        "contact": dict(contact),
        "promo_code": promo_code,
        "scenario": {"name": scenario_name},
        "unsubscribe_url": unsubscribe_url,
    }
    if product is not None:
        item = dict(product) if isinstance(product, Mapping) else dataclasses.asdict(product)
        price = item.get("price", 0)
        final = Decimal(str(price)) * (100 - Decimal(str(discount))) / 100
        context["product"] = item
        context["offer"] = {
            "product": item,
            "discount": discount,
            "price": price,
            "final_price": int(final.quantize(Decimal(1), ROUND_HALF_UP)),
        }
    if cart is not None:
        context["cart"] = dict(cart)
    return context


def sample_contact() -> dict[str, Any]:
    """A plausible contact with every schema field, for previews when there is no contact base."""
    return {
        "first_name": "Анна",
        "last_name": "Смирнова",
        "email": "anna.smirnova@example.com",
        "phone": "+79161234567",
        "gender": "f",
        "age": 32,
        "city": "Москва",
        "country": "Россия",
        "locale": "ru",
        "has_email": True,
        "has_phone": True,
        **{f"consent_{channel}": True for channel in CHANNELS},
        "orders_count": 2,
        "total_spent": 4380,
        "cart_value": 1290,
        "days_since_signup": 45,
        "days_since_purchase": 12,
        "nps_score": 9,
        "crm_stage": "customer",
        "tags": ["cats"],
        "season": "spring",
        "weekday": "tue",
        "month": 4,
        "hour": 11,
        "attributes": {},
    }


def sample_cart() -> dict[str, Any]:
    """The sample contact's abandoned cart (its `cart_value`), for previews of cart messages."""
    return {
        "items": [{"name": "Кроссовки для бега", "price": 1290, "quantity": 1}],
        "value": 1290,
    }
