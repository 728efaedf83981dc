"""The condition language: one safe text syntax, one typed tree, four back-ends.

A marketer writes `age >= 25 and gender == "f" and "cats" in tags`; `parse` turns it into
a tree of public frozen dataclasses (never `eval`, never Python's `ast`), `check` finds
unknown names and type mistakes, and the tree is then evaluated on a contact dict
(`evaluate`), on numpy columns for whole cohorts (`evaluate_columns`), exported as JsonLogic
(`to_jsonlogic`) or shown in plain words (`to_words`). All back-ends share one meaning of
missing values, so a simulation, an export and the reference runtime never disagree.

Grammar (lowest precedence first; `docs/CONDITIONS.md` is the guide for marketers)::

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)*   chains join with and
                | sum ("in" | "not" "in") (list | sum)
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | STRING | "true" | "false" | NAME | call | "(" condition ")"
    call       := FUNCTION "(" STRING ")"
    list       := "[" [literal ("," literal)* [","]] "]"        lists only follow in / not in
    literal    := ["-"] NUMBER | STRING | "true" | "false"

NUMBER is `25`, `2.5` or `1e3`; STRING is quoted with " or ' and knows the escapes
\\\\ \\" \\' \\n \\t \\r \\uXXXX; `True` / `False` are accepted for `true` / `false`.

Whitelisted functions (each takes one quoted name):
    has_event("purchase")    yes/no   the event happened at least once
    event_count("opened")    number   how many times; 0 if never
    days_since("purchase")   number   days since the last one; missing if never
    has_tag("vip")           yes/no   same as "vip" in tags

Missing values: a field absent or None, an event that never happened (`days_since`), a
division by zero. Every comparison (== < <= > >= in) with a missing value is false; `!=` and
`not in` are the negations of `==` and `in`, so `city != "Kazan"` holds when city is missing.
"""

from __future__ import annotations

import difflib
import json
import math
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from app.engine.catalog import event_label
from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema, FieldType
from app.engine.i18n import Msg, T

# The whitelist: each function takes one quoted name and gives this kind of value.
FUNCTIONS: dict[str, str] = {
    "has_event": "boolean",
    "event_count": "number",
    "days_since": "number",
    "has_tag": "boolean",
}
EVENT_FUNCTIONS = frozenset({"has_event", "event_count", "days_since"})
TAGS_FIELD = "tags"
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
ARITHMETIC = ("+", "-", "*", "/")

_ALLOWED_FUNCTIONS = ", ".join(FUNCTIONS)

# Every back-end walks the tree recursively, so depth is bounded well below Python's stack
# limit: nested brackets / not / minus while parsing, and levels of the finished tree.
MAX_NESTING = 32
MAX_DEPTH = 64
_TOO_DEEP = T("Condition", "this condition is nested too deeply; split it into simpler conditions")


# --------------------------------------------------------------------------- errors


class _Located:
    """A text about a condition at a column: `message` in the current language, `located`
    with its column ("column 7: …"), kept as a Msg for texts shown later."""

    text: Msg | str
    column: int

    @property
    def message(self) -> str:
        """What is wrong, in the current language."""
        return str(self.text)

    @property
    def located(self) -> Msg:
        return T("Condition", "column {column}: {message}", column=self.column, message=self.text)

    def __str__(self) -> str:
        return str(self.located)


class ExpressionError(_Located, ValueError):
    """A condition that cannot be used, with the 1-based column a text editor can underline."""

    def __init__(
        self, message: Msg | str, column: int, end_column: int | None = None, kind: str = "syntax"
    ) -> None:
        super().__init__(message)
        self.text = message
        self.column = column
        self.end_column = end_column
        self.kind = kind


@dataclass(frozen=True)
class ExprIssue(_Located):
    """A semantic problem `check` found; `kind` is stable so validation can map it to a code."""

    kind: str  # "unknown_field" | "unknown_tag" | "unknown_event" | "type"
    text: Msg | str
    column: int
    name: str | None = None
    end_column: int | None = None


# --------------------------------------------------------------------------- tree

# Spans are 1-based columns; `end_column` is one past the last character. They do not take
# part in equality, so trees parsed from differently spaced texts compare equal.
_SPAN = {"default": 0, "compare": False, "kw_only": True}


@dataclass(frozen=True)
class Literal:
    value: bool | int | float | str
    column: int = field(**_SPAN)
    end_column: int = field(**_SPAN)


@dataclass(frozen=True)
class ListLiteral:
    """Fixed values after `in` / `not in`; items are literals so a list is known statically."""

    items: tuple[Literal, ...]
    column: int = field(**_SPAN)
    end_column: int = field(**_SPAN)


@dataclass(frozen=True)
class FieldRef:
    """A declared contact field, a calendar field, or a custom attribute."""

    name: str
    column: int = field(**_SPAN)
    end_column: int = field(**_SPAN)


@dataclass(frozen=True)
class Call:
    """A whitelisted function applied to one quoted event or tag name."""

    func: str
    arg: str
    column: int = field(**_SPAN)
    end_column: int = field(**_SPAN)


@dataclass(frozen=True)
class Compare:
    """One of == != < <= > >=; a chain `a < b < c` becomes BoolOp("and", ...) of these."""

    op: str
    left: Expr
    right: Expr
    column: int = field(**_SPAN)
    end_column: int = field(**_SPAN)


@dataclass(frozen=True)
class Membership:
    """`item in container`, or `item not in container` when `negated`."""

    item: Expr
    container: Expr
    negated: bool = False
    column: int = field(**_SPAN)
    end_column: int = field(**_SPAN)


@dataclass(frozen=True)
class BoolOp:
    """`and` / `or` over two or more operands (an unparenthesised run is one node)."""

    op: str
    operands: tuple[Expr, ...]
    column: int = field(**_SPAN)
    end_column: int = field(**_SPAN)


@dataclass(frozen=True)
class Not:
    operand: Expr
    column: int = field(**_SPAN)
    end_column: int = field(**_SPAN)


@dataclass(frozen=True)
class Arith:
    """+ - * / on numbers; unary minus on a non-literal is `0 - x`."""

    op: str
    left: Expr
    right: Expr
    column: int = field(**_SPAN)
    end_column: int = field(**_SPAN)


Expr = Literal | ListLiteral | FieldRef | Call | Compare | Membership | BoolOp | Not | Arith


def children(expr: Expr) -> tuple[Expr, ...]:
    """Direct sub-expressions, left to right."""
    match expr:
        case ListLiteral(items=items):
            return items
        case Compare(left=left, right=right) | Arith(left=left, right=right):
            return (left, right)
        case Membership(item=item, container=container):
            return (item, container)
        case BoolOp(operands=operands):
            return operands
        case Not(operand=operand):
            return (operand,)
    return ()


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node, pre-order, left to right (what validation rules iterate over)."""
    yield expr
    for child in children(expr):
        yield from walk(child)


def is_tag_test(expr: Expr) -> bool:
    """`"cats" in tags`: the one membership with a fast column and its own wording."""
    return (
        isinstance(expr, Membership)
        and isinstance(expr.container, FieldRef)
        and expr.container.name == TAGS_FIELD
        and isinstance(expr.item, Literal)
        and isinstance(expr.item.value, str)
    )


def fields_used(expr: Expr) -> set[str]:
    """Names of fields and custom attributes the expression reads."""
    return {node.name for node in walk(expr) if isinstance(node, FieldRef)}


def tags_used(expr: Expr) -> set[str]:
    """Tag names tested by `"x" in tags`, `"x" not in tags` or `has_tag("x")`."""
    tags = {node.item.value for node in walk(expr) if is_tag_test(node)}
    calls = {node.arg for node in walk(expr) if isinstance(node, Call) and node.func == "has_tag"}
    return tags | calls


def events_used(expr: Expr) -> set[str]:
    """Event names given to has_event, event_count and days_since."""
    return {
        node.arg for node in walk(expr) if isinstance(node, Call) and node.func in EVENT_FUNCTIONS
    }


# --------------------------------------------------------------------------- tokenizer


@dataclass(frozen=True)
class _Token:
    kind: str  # "number" | "string" | "name" | "op" | "end"
    text: str
    value: object
    column: int
    end_column: int


_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",")
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "True", "False"})
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}
_DIGITS = "0123456789"
_HEX = "0123456789abcdefABCDEF"

# Symbols people bring from other languages, with what to write instead.
_SYMBOL_HINTS = {
    "&&": T("Condition", "use and instead of &&"),
    "||": T("Condition", "use or instead of ||"),
    "&": T("Condition", "use and instead of &"),
    "|": T("Condition", "use or instead of |"),
    "**": T("Condition", "powers (**) are not supported; multiply with *"),
    "=<": T("Condition", "write <= (the = goes last)"),
    "=>": T("Condition", "write >= (the = goes last)"),
    "=": T("Condition", "use == to compare; a single = is not allowed"),
    "!": T("Condition", "use not instead of !"),
    "%": T("Condition", "the remainder operator % is not supported"),
    ".": T(
        "Condition",
        "dots are not allowed: a condition names a field (like city) but cannot look inside it",
    ),
}
_WORD_HINTS = {
    "lambda": T(
        "Condition", "lambda is not allowed: a condition is a single expression, not a function"
    ),
    "import": T("Condition", "import is not allowed in a condition"),
    "is": T("Condition", "use == instead of is"),
    "if": T("Condition", "if is not allowed: write the condition itself, e.g. age > 18"),
    "else": T("Condition", "else is not allowed: a condition node already has yes and no exits"),
    "for": T("Condition", "loops are not allowed in a condition"),
    "None": T(
        "Condition",
        "None is not a value here: comparisons with a missing value are simply false",
    ),
}


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
        elif char in _DIGITS:
            token = _lex_number(text, pos)
            tokens.append(token)
            pos = token.end_column - 1
        elif char in "\"'":
            token = _lex_string(text, pos)
            tokens.append(token)
            pos = token.end_column - 1
        elif char.isalpha() or char == "_":
            end = pos
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1
            word = text[pos:end]
            if word in _WORD_HINTS:
                raise ExpressionError(_WORD_HINTS[word], pos + 1, end + 1)
            tokens.append(_Token("name", word, word, pos + 1, end + 1))
            pos = end
        else:
            token = _lex_symbol(text, pos)
            tokens.append(token)
            pos = token.end_column - 1
    tokens.append(_Token("end", "", None, len(text) + 1, len(text) + 1))
    return tokens


def _lex_symbol(text: str, pos: int) -> _Token:
    for size in (2, 1):
        symbol = text[pos : pos + size]
        if symbol in _OPERATORS:
            return _Token("op", symbol, symbol, pos + 1, pos + 1 + size)
        if symbol in _SYMBOL_HINTS:
            raise ExpressionError(_SYMBOL_HINTS[symbol], pos + 1, pos + 1 + size)
    raise ExpressionError(
        T("Condition", "the character {char} is not allowed here", char=repr(text[pos])),
        pos + 1,
        pos + 2,
    )


def _lex_number(text: str, pos: int) -> _Token:
    end = _skip_digits(text, pos)
    if text.startswith(".", end) and end + 1 < len(text) and text[end + 1] in _DIGITS:
        end = _skip_digits(text, end + 1)
    if end < len(text) and text[end] in "eE":
        exponent = end + 1
        if exponent < len(text) and text[exponent] in "+-":
            exponent += 1
        if exponent < len(text) and text[exponent] in _DIGITS:
            end = _skip_digits(text, exponent)
    if end < len(text) and (text[end].isalnum() or text[end] == "_"):
        raise ExpressionError(
            T(
                "Condition",
                "put a space or an operator between the number {number} and what follows",
                number=text[pos:end],
            ),
            end + 1,
            end + 2,
        )
    source = text[pos:end]
    value: int | float = int(source) if source.isdigit() else float(source)
    if not math.isfinite(value):
        raise ExpressionError(T("Condition", "this number is too large"), pos + 1, end + 1)
    return _Token("number", source, value, pos + 1, end + 1)


def _skip_digits(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _DIGITS:
        pos += 1
    return pos


def _lex_string(text: str, start: int) -> _Token:
    quote = text[start]
    chars: list[str] = []
    pos = start + 1
    while pos < len(text) and text[pos] != quote:
        if text[pos] != "\\":
            chars.append(text[pos])
            pos += 1
            continue
        escape = text[pos + 1 : pos + 2]
        digits = text[pos + 2 : pos + 6]
        if not escape:  # a backslash at the very end: the quote is missing
            pos = len(text)
        elif escape in _ESCAPES:
            chars.append(_ESCAPES[escape])
            pos += 2
        elif escape == "u" and len(digits) == 4 and all(d in _HEX for d in digits):
            chars.append(chr(int(digits, 16)))
            pos += 6
        else:
            raise ExpressionError(
                T(
                    "Condition",
                    "unknown escape \\{escape} in the text; write \\\\ for a backslash",
                    escape=escape,
                ),
                pos + 1,
                pos + 3,
            )
    if pos >= len(text):
        raise ExpressionError(
            T("Condition", "this text has no closing quote; add {quote} at its end", quote=quote),
            start + 1,
            len(text) + 1,
        )
    return _Token("string", text[start : pos + 1], "".join(chars), start + 1, pos + 2)


# --------------------------------------------------------------------------- parser


def parse(text: str) -> Expr:
    """Syntax only: the typed tree of `text`, or ExpressionError at the first mistake."""
    expr = _Parser(text).parse()
    _check_depth(expr)
    return expr


def _check_depth(expr: Expr) -> None:
    """Iterative, because `1 + 1 + … + 1` builds a deep tree without any recursion in parsing."""
    stack = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(_TOO_DEEP, node.column, node.end_column)
        stack.extend((child, depth + 1) for child in reversed(children(node)))


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.nesting = 0

    def parse(self) -> Expr:
        if self.peek().kind == "end":
            raise ExpressionError(T("Condition", "the condition is empty; write e.g. age >= 18"), 1)
        expr = self.or_expr()
        token = self.peek()
        if token.kind == "end":
            return expr
        if token.text == ")":
            raise _error_at(token, T("Condition", "there is no ( to match this )"))
        raise _error_at(
            token,
            T(
                "Condition",
                "{token} was not expected here: the condition already ended; "
                "join two conditions with and / or",
                token=_describe(token),
            ),
        )

    # -- token helpers

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.peek()
        self.pos += 1
        return token

    def at(self, text: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind in ("op", "name") and token.text == text

    def at_not_in(self) -> bool:
        return self.at("not") and self.at("in", 1)

    def nested(self, parse_inner: Callable[[], Expr], opener: _Token) -> Expr:
        """Run a recursive rule one level deeper, refusing depths that would exhaust the stack."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise _error_at(
                opener,
                T("Condition", "{why} (at most {n} levels)", why=_TOO_DEEP, n=MAX_NESTING),
            )
        expr = parse_inner()
        self.nesting -= 1
        return expr

    # -- grammar

    def or_expr(self) -> Expr:
        return self.bool_run("or", self.and_expr)

    def and_expr(self) -> Expr:
        return self.bool_run("and", self.not_expr)

    def bool_run(self, op: str, operand: Callable[[], Expr]) -> Expr:
        operands = [operand()]
        while self.at(op):
            self.advance()
            operands.append(operand())
        if len(operands) == 1:
            return operands[0]
        return BoolOp(op, tuple(operands), **_span(operands[0], operands[-1]))

    def not_expr(self) -> Expr:
        if not self.at("not"):
            return self.comparison()
        token = self.advance()
        operand = self.nested(self.not_expr, token)
        return Not(operand, column=token.column, end_column=operand.end_column)

    def comparison(self) -> Expr:
        left = self.sum_expr()
        if self.at("in") or self.at_not_in():
            return self.membership(left)
        links: list[Compare] = []
        while self.peek().kind == "op" and self.peek().text in COMPARISONS:
            op = self.advance().text
            right = self.sum_expr()
            links.append(Compare(op, left, right, **_span(left, right)))
            left = right
            if self.at("in") or self.at_not_in():
                raise _error_at(
                    self.peek(), T("Condition", "join a comparison and an in check with and")
                )
        if not links:
            return left
        if len(links) == 1:
            return links[0]
        return BoolOp("and", tuple(links), **_span(links[0], links[-1]))

    def membership(self, item: Expr) -> Expr:
        negated = self.at("not")
        if negated:
            self.advance()
        self.advance()  # "in"
        container = self.list_literal() if self.at("[") else self.sum_expr()
        token = self.peek()
        if self.at("in") or self.at_not_in() or token.text in COMPARISONS:
            raise _error_at(
                token, T("Condition", "only one comparison per check: join them with and")
            )
        return Membership(item, container, negated, **_span(item, container))

    def sum_expr(self) -> Expr:
        return self.arith_run(("+", "-"), self.product)

    def product(self) -> Expr:
        return self.arith_run(("*", "/"), self.unary)

    def arith_run(self, ops: tuple[str, ...], operand: Callable[[], Expr]) -> Expr:
        left = operand()
        while self.peek().kind == "op" and self.peek().text in ops:
            op = self.advance().text
            right = operand()
            left = Arith(op, left, right, **_span(left, right))
        return left

    def unary(self) -> Expr:
        if not self.at("-"):
            return self.primary()
        token = self.advance()
        operand = self.nested(self.unary, token)
        if isinstance(operand, Literal) and _is_number(operand.value):
            return Literal(-operand.value, column=token.column, end_column=operand.end_column)
        zero = Literal(0, column=token.column, end_column=token.end_column)
        return Arith("-", zero, operand, column=token.column, end_column=operand.end_column)

    def primary(self) -> Expr:
        token = self.peek()
        if token.kind in ("number", "string") or token.text in ("true", "false", "True", "False"):
            expr: Expr = self.literal()
        elif token.kind == "name" and token.text not in _KEYWORDS:
            expr = self.name()
        elif token.text == "(":
            expr = self.parenthesised()
        elif token.text == "[":
            raise _error_at(
                token,
                T(
                    "Condition",
                    'a list [...] can only follow in or not in, e.g. city in ["Moscow"]',
                ),
            )
        elif token.kind == "end":
            previous = self.tokens[self.pos - 1].text if self.pos else ""
            raise _error_at(
                token,
                T(
                    "Condition",
                    "the condition ends too early: something is missing after {previous}",
                    previous=previous,
                ),
            )
        else:
            raise _error_at(
                token,
                T(
                    "Condition",
                    "expected a field, a value or a condition here, found {token}",
                    token=_describe(token),
                ),
            )
        self.reject_postfix()
        return expr

    def reject_postfix(self) -> None:
        token = self.peek()
        if token.text == "[":
            raise _error_at(
                token,
                T(
                    "Condition",
                    "square brackets after a value are not allowed (no indexing); "
                    'a list can only follow in, e.g. city in ["Moscow"]',
                ),
            )
        if token.text == "(":
            raise _error_at(
                token,
                T(
                    "Condition",
                    "only these functions can be called: {functions}",
                    functions=_ALLOWED_FUNCTIONS,
                ),
            )

    def literal(self) -> Literal:
        token = self.advance()
        value = token.value if token.kind != "name" else token.text in ("true", "True")
        return Literal(value, column=token.column, end_column=token.end_column)

    def name(self) -> Expr:
        token = self.advance()
        name = token.text
        if name in FUNCTIONS:
            return self.call(token)
        if self.at("("):
            raise _error_at(
                token,
                T(
                    "Condition",
                    "{name} is not a function you can use here; allowed: {functions}",
                    name=name,
                    functions=_ALLOWED_FUNCTIONS,
                ),
            )
        return FieldRef(name, column=token.column, end_column=token.end_column)

    def call(self, func: _Token) -> Call:
        name = func.text
        example = f'{name}("{"vip" if name == "has_tag" else "purchase"}")'
        if not self.at("("):
            raise _error_at(
                func,
                T("Condition", "{name} is a function: write {example}", name=name, example=example),
            )
        self.advance()
        arg = self.advance()
        if arg.kind != "string":
            if name == "has_tag":
                text = T(
                    "Condition",
                    "{name} needs a tag name in quotes, e.g. {example}",
                    name=name,
                    example=example,
                )
            else:
                text = T(
                    "Condition",
                    "{name} needs an event name in quotes, e.g. {example}",
                    name=name,
                    example=example,
                )
            raise _error_at(arg, text)
        close = self.advance()
        if close.text != ")":
            raise _error_at(
                close,
                T(
                    "Condition",
                    "{name} takes exactly one name, e.g. {example}",
                    name=name,
                    example=example,
                ),
            )
        return Call(func.text, str(arg.value), column=func.column, end_column=close.end_column)

    def parenthesised(self) -> Expr:
        opener = self.advance()
        if self.at(")"):
            raise _error_at(
                opener, T("Condition", "empty parentheses: put a condition or a value inside")
            )
        expr = self.nested(self.or_expr, opener)
        token = self.advance()
        if token.text == ")":
            return expr
        if token.kind == "end":
            raise _error_at(opener, T("Condition", "this ( is never closed; add ) where it ends"))
        raise _error_at(
            token,
            T(
                "Condition",
                "expected ) to close the ( at column {column}, found {token}",
                column=opener.column,
                token=_describe(token),
            ),
        )

    def list_literal(self) -> ListLiteral:
        opener = self.advance()
        items: list[Literal] = []
        while not self.at("]"):
            token = self.peek()
            if token.kind == "end":
                raise _error_at(
                    opener, T("Condition", "this [ is never closed; add ] after the last item")
                )
            items.append(self.list_item())
            if not self.at("]") and not self.at(","):
                raise _error_at(self.peek(), T("Condition", "separate list items with commas"))
            if self.at(","):
                self.advance()
        close = self.advance()
        return ListLiteral(tuple(items), column=opener.column, end_column=close.end_column)

    def list_item(self) -> Literal:
        token = self.peek()
        if self.at("-") and self.peek(1).kind == "number":
            self.advance()
            number = self.literal()
            return Literal(-number.value, column=token.column, end_column=number.end_column)
        if token.kind in ("number", "string") or token.text in ("true", "false", "True", "False"):
            return self.literal()
        raise _error_at(token, T("Condition", 'list items must be fixed values like "Moscow" or 5'))


def _span(first: Expr, last: Expr) -> dict[str, int]:
    return {"column": first.column, "end_column": last.end_column}


def _error_at(token: _Token, message: Msg) -> ExpressionError:
    return ExpressionError(message, token.column, max(token.end_column, token.column + 1))


def _describe(token: _Token) -> Msg | str:
    if token.kind == "end":
        return T("Condition", "the end of the text")
    if token.kind == "number":
        return T("Condition", "the number {number}", number=token.text)
    if token.kind == "string":
        return T("Condition", "the text {text}", text=token.text)
    return f"'{token.text}'"


# --------------------------------------------------------------------------- source text

_PREC_OR, _PREC_AND, _PREC_NOT, _PREC_CMP, _PREC_SUM, _PREC_PRODUCT, _PREC_ATOM = range(1, 8)


def _precedence(expr: Expr) -> int:
    match expr:
        case BoolOp(op=op):
            return _PREC_OR if op == "or" else _PREC_AND
        case Not():
            return _PREC_NOT
        case Compare() | Membership():
            return _PREC_CMP
        case Arith(op=op):
            return _PREC_SUM if op in ("+", "-") else _PREC_PRODUCT
    return _PREC_ATOM


def to_text(expr: Expr) -> str:
    """Canonical source text; `parse(to_text(e)) == e` for every tree `parse` can build."""
    return _render(expr, words=False)


def _render(expr: Expr, words: bool) -> str:
    """Precedence-aware printer shared by `to_text` and `to_words`."""
    phrase = _words_phrase(expr) if words else None
    if phrase is not None:
        return phrase
    ops = _WORD_OPS if words else _SOURCE_OPS

    def wrap(child: Expr, minimum: int) -> str:
        text = _render(child, words)
        return f"({text})" if _precedence(child) < minimum else text

    own = _precedence(expr)
    match expr:
        case BoolOp(op=op, operands=operands):
            # Words bracket every nested and/or: marketers should not need precedence rules.
            minimum = _PREC_NOT if words else own + 1
            return f" {_word(op) if words else op} ".join(wrap(o, minimum) for o in operands)
        case Not(operand=operand):
            return f"{_word('not') if words else 'not'} {wrap(operand, own)}"
        case Compare(op=op, left=left, right=right):
            return f"{wrap(left, own + 1)} {ops[op]} {wrap(right, own + 1)}"
        case Membership(item=item, container=container, negated=negated):
            word = "not in" if negated else "in"
            word = _word(word) if words else word
            return f"{wrap(item, own + 1)} {word} {wrap(container, own + 1)}"
        case Arith(op=op, left=left, right=right):
            return f"{wrap(left, own)} {ops[op]} {wrap(right, own + 1)}"
    return _words_atom(expr) if words else _source_atom(expr)


_SOURCE_OPS = {op: op for op in (*COMPARISONS, *ARITHMETIC)}


def _word(keyword: str) -> str:
    """`and`, `or`, `not`, `in`, `not in` between words on the canvas, in the current language."""
    words = {
        "and": T("Condition words", "and"),
        "or": T("Condition words", "or"),
        "not": T("Condition words", "not"),
        "in": T("Condition words", "in"),
        "not in": T("Condition words", "not in"),
    }
    return str(words[keyword])


def _source_atom(expr: Expr) -> str:
    match expr:
        case Literal(value=value):
            return _source_literal(value)
        case ListLiteral(items=items):
            return "[" + ", ".join(_source_literal(item.value) for item in items) + "]"
        case FieldRef(name=name):
            return name
        case Call(func=func, arg=arg):
            return f"{func}({_source_literal(arg)})"
    raise TypeError(f"not an expression node: {expr!r}")


def _source_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + "".join(_escape(char) for char in value) + '"'
    return repr(value)


def _escape(char: str) -> str:
    if char in ('"', "\\"):
        return "\\" + char
    named = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
    if char in named:
        return named[char]
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\u{ord(char):04x}"
    return char


# --------------------------------------------------------------------------- checking

_KIND_WORDS = {
    "number": T("Condition", "a number"),
    "text": T("Condition", "text"),
    "boolean": T("Condition", "a yes/no value"),
    "tags": T("Condition", "the list of tags"),
    "list": T("Condition", "a list"),
}
_FIELD_KINDS = {
    FieldType.NUMBER: "number",
    FieldType.TEXT: "text",
    FieldType.ENUM: "text",
    FieldType.BOOLEAN: "boolean",
    FieldType.TAGS: "tags",
}


def check(expr: Expr, schema: ContactSchema = DEFAULT_SCHEMA) -> list[ExprIssue]:
    """Unknown names and type mistakes, ordered by column; empty when the condition is sound."""
    checker = _Checker(schema)
    kind = checker.kind_of(expr)
    checker.expect_boolean(expr, kind, T("Condition", "a condition must be yes or no"))
    return sorted(checker.issues, key=lambda issue: issue.column)


class _Checker:
    def __init__(self, schema: ContactSchema) -> None:
        self.schema = schema
        self.issues: list[ExprIssue] = []

    def report(self, kind: str, message: Msg, node: Expr, name: str | None = None) -> None:
        self.issues.append(ExprIssue(kind, message, node.column, name, node.end_column))

    def kind_of(self, expr: Expr) -> str:
        """The static kind ("number", "text", "boolean", "tags", "list" or "any")."""
        match expr:
            case Literal(value=value):
                return _literal_kind(value)
            case ListLiteral():
                return "list"
            case FieldRef():
                return self.field_kind(expr)
            case Call():
                self.check_call(expr)
                return FUNCTIONS[expr.func]
            case Arith():
                for side in (expr.left, expr.right):
                    why = T("Condition", "{op} works on numbers", op=expr.op)
                    self.expect(side, self.kind_of(side), "number", why)
                return "number"
            case Compare():
                self.check_compare(expr)
            case Membership():
                self.check_membership(expr)
            case BoolOp(op=op, operands=operands):
                for operand in operands:
                    message = T("Condition", "{op} joins yes/no conditions", op=op)
                    self.expect_boolean(operand, self.kind_of(operand), message)
            case Not(operand=operand):
                why = T("Condition", "not needs a yes/no condition")
                self.expect_boolean(operand, self.kind_of(operand), why)
        return "boolean"

    def field_kind(self, ref: FieldRef) -> str:
        declared = self.schema.find(ref.name)
        if declared is not None:
            return _FIELD_KINDS[declared.type]
        if ref.name not in self.schema.custom_attributes:
            known = [*self.schema.field_names(), *self.schema.custom_attributes]
            message = _suggest(
                T("Condition", "there is no field called {name}", name=ref.name), ref.name, known
            )
            self.report("unknown_field", message, ref, ref.name)
        return "any"

    def check_call(self, call: Call) -> None:
        if call.func in EVENT_FUNCTIONS and call.arg not in self.schema.events:
            message = _suggest(
                T("Condition", "there is no event called {name}", name=call.arg),
                call.arg,
                self.schema.events,
            )
            self.report("unknown_event", message, call, call.arg)
        if call.func == "has_tag":
            self.check_tag(call.arg, call)

    def check_tag(self, tag: str, node: Expr) -> None:
        if self.schema.tags and tag not in self.schema.tags:
            message = _suggest(
                T("Condition", "no contact has the tag {tag}", tag=tag), tag, self.schema.tags
            )
            self.report("unknown_tag", message, node, tag)

    def check_compare(self, compare: Compare) -> None:
        left, right = compare.left, compare.right
        kinds = (self.kind_of(left), self.kind_of(right))
        if compare.op not in ("==", "!="):
            for side, kind in zip((left, right), kinds, strict=True):
                why = T("Condition", "{op} compares numbers", op=compare.op)
                self.expect(side, kind, "number", why)
            return
        if not _compatible(*kinds):
            words = {
                "left": _short(left),
                "left_kind": _KIND_WORDS[kinds[0]],
                "right": _short(right),
                "right_kind": _KIND_WORDS[kinds[1]],
            }
            if "tags" in kinds:
                message = T(
                    "Condition",
                    "{left} ({left_kind}) cannot be compared with {right} ({right_kind}); "
                    'to test a tag write "vip" in tags',
                    **words,
                )
            else:
                message = T(
                    "Condition",
                    "{left} ({left_kind}) cannot be compared with {right} ({right_kind})",
                    **words,
                )
            self.report("type", message, compare)
            return
        self.check_choices(left, right)
        self.check_choices(right, left)

    def check_membership(self, membership: Membership) -> None:
        item, container = membership.item, membership.container
        item_kind = self.kind_of(item)
        container_kind = self.kind_of(container)
        if isinstance(container, ListLiteral):
            for literal in container.items:
                if not _compatible(item_kind, _literal_kind(literal.value)):
                    message = T(
                        "Condition",
                        "{value} is {value_kind} but {item} is {item_kind}",
                        value=_short(literal),
                        value_kind=_KIND_WORDS[_literal_kind(literal.value)],
                        item=_short(item),
                        item_kind=_KIND_WORDS[item_kind],
                    )
                    self.report("type", message, literal)
                else:
                    self.check_choices(item, literal)
        elif container_kind == "tags":
            self.expect(item, item_kind, "text", T("Condition", "tags are names"))
            if is_tag_test(membership):
                self.check_tag(str(item.value), item)
        elif container_kind != "any":
            message = T(
                "Condition",
                'in needs the tags or a list like ["a", "b"] on its right, '
                "but {container} is {kind}",
                container=_short(container),
                kind=_KIND_WORDS[container_kind],
            )
            self.report("type", message, container)

    def check_choices(self, side: Expr, other: Expr) -> None:
        """`gender == "x"`: a text literal must be one of an enum field's choices."""
        if not (isinstance(side, FieldRef) and isinstance(other, Literal)):
            return
        declared = self.schema.find(side.name)
        if declared is None or not declared.choices or other.value in declared.choices:
            return
        message = T(
            "Condition",
            "{value} is not a possible {field}; use one of: {choices}",
            value=_short(other),
            field=side.name,
            choices=", ".join(declared.choices),
        )
        self.report("type", message, other, side.name)

    def expect(self, node: Expr, kind: str, wanted: str, why: Msg) -> None:
        if kind not in (wanted, "any"):
            message = T(
                "Condition",
                "{why}, but {value} is {kind}",
                why=why,
                value=_short(node),
                kind=_KIND_WORDS[kind],
            )
            self.report("type", message, node)

    def expect_boolean(self, node: Expr, kind: str, why: Msg) -> None:
        self.expect(node, kind, "boolean", why)


def _literal_kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "text" if isinstance(value, str) else "number"


def _compatible(left: str, right: str) -> bool:
    return left == right or "any" in (left, right)


def _suggest(message: Msg, name: str, candidates: Iterable[str]) -> Msg:
    """The message, with the closest known name offered when one is close."""
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.7)
    if not close:
        return message
    return T("Condition", "{message}; did you mean {name}?", message=message, name=close[0])


def _short(expr: Expr) -> str:
    text = to_text(expr)
    return text if len(text) <= 40 else text[:39] + "…"


# --------------------------------------------------------------------------- values
# One scalar meaning, shared by the dict evaluator, the object-column path of the numpy
# evaluator and the column builder, so the back-ends cannot drift apart.


_BOOL_TYPES = (bool, np.bool_)
_NUMBER_TYPES = (int, float, np.integer, np.floating)


def _is_bool(value: object) -> bool:
    return isinstance(value, _BOOL_TYPES)


def _is_number(value: object) -> bool:
    return isinstance(value, _NUMBER_TYPES) and not isinstance(value, _BOOL_TYPES)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def _clean(value: object) -> object:
    return None if _missing(value) else value


def _truth(value: object) -> bool:
    """Only a real `true` holds; numbers, text and missing values never do."""
    return _is_bool(value) and bool(value)


def _number(value: object) -> float | None:
    return None if _missing(value) or not _is_number(value) else float(value)


def _equal(left: object, right: object) -> bool:
    """Strict equality (JsonLogic ===): numbers, texts and yes/no values never equal each other.

    Lists are equal only to themselves (the same field on both sides), as arrays are in JS.
    """
    if _missing(left) or _missing(right):
        return False
    if _is_number(left) and _is_number(right):
        return float(left) == float(right)
    if _is_bool(left) and _is_bool(right):
        return bool(left) == bool(right)
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    return left is right


_ORDERINGS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


def _compare(op: str, left: object, right: object) -> bool:
    if op in ("==", "!="):
        return _equal(left, right) == (op == "==")
    x, y = _number(left), _number(right)
    return x is not None and y is not None and _ORDERINGS[op](x, y)


def _arith(op: str, left: object, right: object) -> float | None:
    x, y = _number(left), _number(right)
    if x is None or y is None or (op == "/" and y == 0):
        return None
    result = _ARITHMETIC[op](x, y)
    return None if math.isnan(result) else result


def _contains(container: object, item: object) -> bool:
    """`in` as JsonLogic has it: list membership, or a substring of a non-empty text."""
    if _missing(item):
        return False
    if isinstance(container, list | tuple | set | frozenset):
        return any(_equal(element, item) for element in container)
    return (
        isinstance(container, str)
        and isinstance(item, str)
        and container != ""
        and (item in container)
    )


def _field_value(contact: Mapping, name: str, schema: ContactSchema) -> object:
    if schema.find(name) is not None:
        return _clean(contact.get(name))
    attributes = contact.get("attributes")
    return _clean(attributes.get(name)) if isinstance(attributes, Mapping) else None


def _event_entry(contact: Mapping, event: str) -> Mapping:
    events = contact.get("events")
    entry = events.get(event) if isinstance(events, Mapping) else None
    return entry if isinstance(entry, Mapping) else {}


def _event_count(contact: Mapping, event: str) -> float:
    count = _number(_event_entry(contact, event).get("count"))
    return 0.0 if count is None else count


def _days_since(contact: Mapping, event: str) -> float | None:
    return _number(_event_entry(contact, event).get("days_since"))


def _call_value(call: Call, contact: Mapping) -> object:
    if call.func == "event_count":
        return _event_count(contact, call.arg)
    if call.func == "days_since":
        return _days_since(contact, call.arg)
    if call.func == "has_event":
        return _event_count(contact, call.arg) > 0
    return _contains(_clean(contact.get(TAGS_FIELD)), call.arg)


# --------------------------------------------------------------------------- dict evaluator


def evaluate(expr: Expr, contact: Mapping, schema: ContactSchema = DEFAULT_SCHEMA) -> bool:
    """Whether one contact (runtime shape, see docs/CONDITIONS.md) satisfies the condition."""
    return _truth(_value(expr, contact, schema))


def _value(expr: Expr, contact: Mapping, schema: ContactSchema) -> object:
    match expr:
        case Literal(value=value):
            return value
        case ListLiteral(items=items):
            return [item.value for item in items]
        case FieldRef(name=name):
            return _field_value(contact, name, schema)
        case Call():
            return _call_value(expr, contact)
        case Compare(op=op, left=left, right=right):
            return _compare(op, _value(left, contact, schema), _value(right, contact, schema))
        case Membership(item=item, container=container, negated=negated):
            found = _contains(_value(container, contact, schema), _value(item, contact, schema))
            return found != negated
        case BoolOp(op=op, operands=operands):
            truths = (_truth(_value(o, contact, schema)) for o in operands)
            return all(truths) if op == "and" else any(truths)
        case Not(operand=operand):
            return not _truth(_value(operand, contact, schema))
        case Arith(op=op, left=left, right=right):
            return _arith(op, _value(left, contact, schema), _value(right, contact, schema))
    raise TypeError(f"not an expression node: {expr!r}")


# --------------------------------------------------------------------------- columns


def field_column(name: str, schema: ContactSchema = DEFAULT_SCHEMA) -> str:
    """Column key of a field: its name if declared, else `attr:<name>`."""
    return name if schema.find(name) is not None else f"attr:{name}"


def _call_column(call: Call) -> str:
    if call.func == "has_tag":
        return f"tag:{call.arg}"
    if call.func == "days_since":
        return f"days_since:{call.arg}"
    return f"event_count:{call.arg}"


def columns_needed(expr: Expr, schema: ContactSchema = DEFAULT_SCHEMA) -> set[str]:
    """Exactly the column keys `evaluate_columns` reads for this expression."""
    if is_tag_test(expr):
        return {f"tag:{expr.item.value}"}
    if isinstance(expr, FieldRef):
        return {field_column(expr.name, schema)}
    if isinstance(expr, Call):
        return {_call_column(expr)}
    return set().union(*(columns_needed(child, schema) for child in children(expr)))


def columns_from_contacts(
    contacts: Sequence[Mapping],
    expr_or_exprs: Expr | Iterable[Expr],
    schema: ContactSchema = DEFAULT_SCHEMA,
) -> dict[str, np.ndarray]:
    """The columns the expression(s) need, built from runtime-shape contact dicts."""
    exprs = [expr_or_exprs] if isinstance(expr_or_exprs, Expr) else list(expr_or_exprs)
    keys = set().union(*(columns_needed(expr, schema) for expr in exprs))
    return {key: _build_column(key, contacts, schema) for key in sorted(keys)}


def _build_column(key: str, contacts: Sequence[Mapping], schema: ContactSchema) -> np.ndarray:
    prefix, _, name = key.partition(":")
    count = len(contacts)
    if prefix == "tag":
        tags = (_contains(_clean(c.get(TAGS_FIELD)), name) for c in contacts)
        return np.fromiter(tags, dtype=bool, count=count)
    if prefix == "event_count":
        return np.fromiter((_event_count(c, name) for c in contacts), dtype=float, count=count)
    if prefix == "days_since":
        days = (_days_since(c, name) for c in contacts)
        return np.fromiter((math.nan if d is None else d for d in days), dtype=float, count=count)
    field_name = name if prefix == "attr" else key
    values = [_field_value(c, field_name, schema) for c in contacts]
    declared = schema.find(field_name) if prefix != "attr" else None
    return _pack(values, declared.type if declared else None)


def _pack(values: list[object], declared: FieldType | None) -> np.ndarray:
    """float64 for clean numbers, bool for complete yes/no values, else object with None."""
    if declared is FieldType.NUMBER and all(v is None or _is_number(v) for v in values):
        return np.array([math.nan if v is None else float(v) for v in values], dtype=float)
    if declared is FieldType.BOOLEAN and all(_is_bool(v) for v in values):
        return np.array(values, dtype=bool)
    column = np.empty(len(values), dtype=object)
    for index, value in enumerate(values):
        column[index] = value
    return column


def evaluate_columns(
    expr: Expr,
    columns: Mapping[str, np.ndarray],
    n: int,
    schema: ContactSchema = DEFAULT_SCHEMA,
) -> np.ndarray:
    """The condition for n contacts at once, as a bool array; the same answers as `evaluate`.

    Column keys (see docs/CONDITIONS.md): a declared field by its name (numbers float64 with
    NaN for missing, yes/no as bool, text as object with None; object columns are accepted
    for any field); `attr:<name>` for custom attributes (object); `tag:<name>` bool (absent:
    all false); `event_count:<event>` float (absent: 0) and `days_since:<event>` float
    (absent: NaN); `tags` (object array of lists) only when the tag itself is not a literal.
    An absent field column means the field is missing for everyone.
    """
    truth = _Vectorised(columns, n, schema).truth(expr)
    return np.array(np.broadcast_to(truth, (n,)), dtype=bool)


# Values are float64 arrays (NaN missing), bool arrays (never missing), object arrays (None
# missing, any Python value), or plain scalars for literals that numpy broadcasts.
_Vector = np.ndarray | bool | int | float | str

_EQUAL = np.frompyfunc(_equal, 2, 1)
_CONTAINS = np.frompyfunc(_contains, 2, 1)
_NP_ORDERINGS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
_NP_ARITHMETIC = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}


def _vector_kind(value: _Vector) -> str:
    if isinstance(value, np.ndarray):
        return {"f": "number", "b": "boolean"}.get(value.dtype.kind, "object")
    if _is_number(value):
        return "number"
    return "boolean" if _is_bool(value) else "object"


def _as_numbers(value: _Vector) -> np.ndarray | float:
    kind = _vector_kind(value)
    if not isinstance(value, np.ndarray):
        return float(value) if kind == "number" else math.nan
    if kind == "number":
        return value
    if kind == "boolean":
        return np.full(value.shape, math.nan)
    numbers = (
        float(v) if isinstance(v, _NUMBER_TYPES) and not isinstance(v, _BOOL_TYPES) else math.nan
        for v in value
    )  # `_number` of each element, inlined for speed; NaN stays NaN, i.e. missing
    return np.fromiter(numbers, dtype=float, count=len(value))


def _truths(column: np.ndarray, flag: bool = True) -> np.ndarray:
    """Which elements are exactly `flag` (a yes/no value), inlined for speed on object columns."""
    same = np.True_ if flag else np.False_
    values = (v is flag or v is same for v in column)
    return np.fromiter(values, dtype=bool, count=len(column))


def _as_bools(result: object) -> np.ndarray:
    return np.asarray(result, dtype=bool)


class _Vectorised:
    def __init__(self, columns: Mapping[str, np.ndarray], n: int, schema: ContactSchema) -> None:
        self.columns = columns
        self.n = n
        self.schema = schema

    def column(self, key: str, absent: object) -> np.ndarray:
        """A column normalised to float64, bool or object; absent keys hold `absent`."""
        if key not in self.columns:
            dtype = float if _is_number(absent) else bool if _is_bool(absent) else object
            return np.full(self.n, absent, dtype=dtype)
        column = np.asarray(self.columns[key])
        if column.shape != (self.n,):
            raise ValueError(f"column {key} has shape {column.shape}, expected ({self.n},)")
        if column.dtype.kind in "iuf":
            return column.astype(float, copy=False)
        return column if column.dtype.kind in "bO" else column.astype(object)

    def truth(self, expr: Expr) -> np.ndarray | bool:
        value = self.value(expr)
        kind = _vector_kind(value)
        if kind == "boolean":
            return value
        if kind == "number" or not isinstance(value, np.ndarray):
            return _truth(value)
        return _truths(value)

    def value(self, expr: Expr) -> _Vector:
        match expr:
            case Literal(value=value):
                return value
            case FieldRef(name=name):
                declared = self.schema.find(name)
                absent = math.nan if declared and declared.type is FieldType.NUMBER else None
                return self.column(field_column(name, self.schema), absent)
            case Call():
                return self.call(expr)
            case Compare(op=op, left=left, right=right):
                return self.compare(op, self.value(left), self.value(right))
            case Membership():
                found = self.membership(expr)
                return np.logical_not(found) if expr.negated else found
            case BoolOp(op=op, operands=operands):
                combine = np.logical_and if op == "and" else np.logical_or
                return combine.reduce([np.broadcast_to(self.truth(o), (self.n,)) for o in operands])
            case Not(operand=operand):
                return np.logical_not(self.truth(operand))
            case Arith(op=op, left=left, right=right):
                return self.arith(op, self.value(left), self.value(right))
        raise TypeError(f"cannot evaluate {expr!r} on columns")

    def call(self, call: Call) -> _Vector:
        key = _call_column(call)
        if call.func == "has_tag":
            return self.truth_of(self.column(key, False))
        if call.func == "days_since":
            return _as_numbers(self.column(key, math.nan))
        counts = _as_numbers(self.column(key, 0.0))
        counts = np.where(np.isnan(counts), 0.0, counts)
        return counts > 0 if call.func == "has_event" else counts

    def truth_of(self, column: np.ndarray) -> np.ndarray:
        return column if column.dtype.kind == "b" else _truths(column)

    def compare(self, op: str, left: _Vector, right: _Vector) -> _Vector:
        if op in ("==", "!="):
            equal = self.equal(left, right)
            return equal if op == "==" else np.logical_not(equal)
        with np.errstate(invalid="ignore"):
            return _NP_ORDERINGS[op](_as_numbers(left), _as_numbers(right))

    def equal(self, left: _Vector, right: _Vector) -> _Vector:
        kinds = {_vector_kind(left), _vector_kind(right)}
        if len(kinds) == 1 and kinds != {"object"}:
            return np.equal(left, right)
        if "object" not in kinds:
            return False  # numbers never equal yes/no values
        if "number" in kinds:  # only the numbers of an object column can match
            return np.equal(_as_numbers(left), _as_numbers(right))
        for column, other in ((left, right), (right, left)):
            if isinstance(column, np.ndarray) and isinstance(other, str):
                return _as_bools(column == other)  # == with a str is strict already
            if isinstance(column, np.ndarray) and _is_bool(other):
                return _truths(column, bool(other))
        return _as_bools(_EQUAL(left, right))

    def membership(self, membership: Membership) -> _Vector:
        if is_tag_test(membership):
            return self.truth_of(self.column(f"tag:{membership.item.value}", False))
        item = self.value(membership.item)
        if not isinstance(membership.container, ListLiteral):
            return _as_bools(_CONTAINS(self.value(membership.container), item))
        found = np.zeros(self.n, dtype=bool)
        for literal in membership.container.items:  # any(==), with equal()'s fast paths
            found |= np.broadcast_to(self.equal(item, literal.value), (self.n,))
        return found

    def arith(self, op: str, left: _Vector, right: _Vector) -> _Vector:
        x, y = _as_numbers(left), _as_numbers(right)
        with np.errstate(all="ignore"):
            result = _NP_ARITHMETIC[op](x, y)
            return np.where(y == 0, math.nan, result) if op == "/" else result


# --------------------------------------------------------------------------- JsonLogic


def to_jsonlogic(expr: Expr, schema: ContactSchema = DEFAULT_SCHEMA) -> object:
    """Standard JsonLogic (json-logic-js 2.0.5 operators) on the runtime contact shape.

    Every condition compiles to a strict true/false; operands that may be missing are
    guarded, because JavaScript would turn null into 0 in `<` and arithmetic.
    """
    return _JsonLogic(schema).condition(expr)


class _JsonLogic:
    def __init__(self, schema: ContactSchema) -> None:
        self.schema = schema

    def condition(self, expr: Expr) -> object:
        match expr:
            case BoolOp(op=op, operands=operands):
                parts = [self.condition(operand) for operand in operands]
                # Splice nested runs of the same operator (guards included) into one list.
                return {op: _unique([p for part in parts for p in _operands_of(part, op)])}
            case Not(operand=operand):
                return {"!": [self.condition(operand)]}
            case Compare():
                return self.compare(expr)
            case Membership():
                return self.membership(expr)
            case Call(func="has_event"):
                return {">": [self.event_var(expr, "count"), 0]}
            case Call(func="has_tag", arg=tag):
                return {"in": [tag, {"var": TAGS_FIELD}]}
            case Literal(value=value):
                return value is True
            case FieldRef():
                return {"===": [self.value(expr), True]}
        return False  # numbers never hold as conditions

    def value(self, expr: Expr) -> object:
        match expr:
            case Literal(value=value):
                return value
            case ListLiteral(items=items):
                return [item.value for item in items]
            case FieldRef(name=name):
                path = name if self.schema.find(name) is not None else f"attributes.{name}"
                return {"var": path}
            case Call(func="event_count"):
                return self.event_var(expr, "count")
            case Call(func="days_since"):
                return self.event_var(expr, "days_since")
            case Arith(op=op, left=left, right=right):
                return {op: [self.value(left), self.value(right)]}
        return self.condition(expr)

    def event_var(self, call: Call, key: str) -> dict:
        if "." in call.arg:
            raise ExpressionError(
                f"the event name {call.arg} contains a dot, which JsonLogic cannot address",
                call.column,
                call.end_column,
                kind="export",
            )
        path = f"events.{call.arg}.{key}"
        return {"var": [path, 0]} if key == "count" else {"var": path}

    def number_guards(self, expr: Expr) -> list[object]:
        """Tests that `expr` is a real number, so JS coercion of null or text cannot leak in."""
        match expr:
            case Literal(value=value):
                return [] if _is_number(value) else [False]
            case FieldRef(name=name):
                declared = self.schema.find(name)
                var = self.value(expr)
                if declared is not None and declared.type is FieldType.NUMBER:
                    return [{"!=": [var, None]}]
                return [{"===": [{"+": [var]}, var]}]
            case Call(func="event_count"):
                return []
            case Call(func="days_since"):
                return [{"!=": [self.value(expr), None]}]
            case Arith(op=op, left=left, right=right):
                guards = self.number_guards(left) + self.number_guards(right)
                return guards + ([{"!=": [self.value(right), 0]}] if op == "/" else [])
        return [False]

    def presence_guards(self, expr: Expr, other: Expr) -> list[object]:
        """For ===: null === null is true in JS, but missing never equals anything here."""
        if isinstance(expr, Arith):
            return self.number_guards(expr)
        if isinstance(other, Literal) or not isinstance(expr, FieldRef | Call):
            return []
        if isinstance(expr, Call) and expr.func != "days_since":
            return []
        return [{"!=": [self.value(expr), None]}]

    def compare(self, compare: Compare) -> object:
        left, right = compare.left, compare.right
        operands = [self.value(left), self.value(right)]
        if compare.op not in ("==", "!="):
            guards = self.number_guards(left) + self.number_guards(right)
            return _all_of(guards, {compare.op: operands})
        guards = self.presence_guards(left, right) + self.presence_guards(right, left)
        if not guards:
            return {"===" if compare.op == "==" else "!==": operands}
        equal = _all_of(guards, {"===": operands})
        return equal if compare.op == "==" else {"!": [equal]}

    def membership(self, membership: Membership) -> object:
        item, container = membership.item, membership.container
        item_value, container_value = self.value(item), self.value(container)
        guards = self.number_guards(item) if isinstance(item, Arith) else []
        simple_container = isinstance(container, ListLiteral) or (
            isinstance(container, FieldRef) and container.name == TAGS_FIELD
        )
        if not simple_container and not isinstance(item, Literal):
            guards.append({"!=": [item_value, None]})
        if not simple_container and not (isinstance(item, Literal) and isinstance(item.value, str)):
            # A text container means substring search, which only text items may do.
            is_text = {"===": [{"cat": [item_value]}, item_value]}
            guards.append({"or": [{"!==": [{"cat": [container_value]}, container_value]}, is_text]})
        found = _all_of(guards, {"in": [item_value, container_value]})
        return {"!": [found]} if membership.negated else found


def _operands_of(rule: object, op: str) -> list[object]:
    return rule[op] if isinstance(rule, dict) and list(rule) == [op] else [rule]


def _unique(rules: list[object]) -> list[object]:
    """Drop repeated operands: conditions have no side effects, so `a and a` is `a`."""
    return list({json.dumps(rule, sort_keys=True): rule for rule in rules}.values())


def _all_of(guards: list[object], test: object) -> object:
    return {"and": _unique([*guards, test])} if guards else test


# --------------------------------------------------------------------------- words

_WORD_OPS = {
    "==": "=",
    "!=": "≠",
    "<": "<",
    "<=": "≤",
    ">": ">",
    ">=": "≥",
    "+": "+",
    "-": "−",
    "*": "×",
    "/": "÷",
}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _days_words(op: str, n: str, count: int, event: str) -> Msg | None:
    words = {
        ">": T("Condition words", "more than {n} day(s) since {event}", count, n=n, event=event),
        ">=": T("Condition words", "at least {n} day(s) since {event}", count, n=n, event=event),
        "<": T("Condition words", "less than {n} day(s) since {event}", count, n=n, event=event),
        "<=": T("Condition words", "at most {n} day(s) since {event}", count, n=n, event=event),
        "==": T("Condition words", "exactly {n} day(s) since {event}", count, n=n, event=event),
    }
    return words.get(op)


def _count_words(op: str, n: str, count: int, event: str) -> Msg | None:
    words = {
        ">": T("Condition words", "{event} more than {n} time(s)", count, n=n, event=event),
        ">=": T("Condition words", "{event} at least {n} time(s)", count, n=n, event=event),
        "<": T("Condition words", "{event} fewer than {n} time(s)", count, n=n, event=event),
        "<=": T("Condition words", "{event} at most {n} time(s)", count, n=n, event=event),
        "==": T("Condition words", "{event} exactly {n} time(s)", count, n=n, event=event),
    }
    return words.get(op)


def _event(name: str) -> str:
    """A known event in the current language (`purchase` in English), others as written."""
    return event_label(name)


def to_words(expr: Expr) -> str:
    """Plain words for the canvas: `age ≥ 25 and tagged cats`."""
    return _render(expr, words=True)


def _words_phrase(expr: Expr) -> str | None:
    """Node shapes that read better as a phrase than as symbols; None for the rest."""
    match expr:
        case Compare():
            return _words_compare(expr)
        case Membership():
            return _words_membership(expr)
        case Not(operand=Call(func="has_event", arg=event)):
            return str(T("Condition words", "{event} never happened", event=_event(event)))
    return None


def _words_atom(expr: Expr) -> str:
    match expr:
        case Literal(value=value):
            return _words_literal(value)
        case FieldRef(name=name):
            return name
        case Call(func="has_event", arg=event):
            return str(T("Condition words", "{event} happened", event=_event(event)))
        case Call(func="has_tag", arg=tag):
            return str(T("Condition words", "tagged {tag}", tag=tag))
        case Call(func="event_count", arg=event):
            return str(T("Condition words", "number of {event}", event=_event(event)))
        case Call(func="days_since", arg=event):
            return str(T("Condition words", "days since {event}", event=_event(event)))
    raise TypeError(f"not an expression node: {expr!r}")


def _words_compare(compare: Compare) -> str | None:
    """`days_since("x") > 90` → `more than 90 days since x`; None when no phrase fits."""
    call, number, op = compare.left, compare.right, compare.op
    if isinstance(call, Literal):
        call, number, op = number, call, _FLIPPED[op]
    if not (isinstance(call, Call) and isinstance(number, Literal) and _is_number(number.value)):
        return None
    n = _words_literal(number.value)
    # The plural form follows the number; a fraction reads like "2" in both languages.
    count = int(number.value) if float(number.value).is_integer() else 2
    phrase = None
    if call.func == "days_since":
        phrase = _days_words(op, n, abs(count), _event(call.arg))
    elif call.func == "event_count":
        phrase = _count_words(op, n, abs(count), _event(call.arg))
    return str(phrase) if phrase is not None else None


def _words_membership(membership: Membership) -> str | None:
    negated = membership.negated
    if is_tag_test(membership):
        tag = membership.item.value
        if negated:
            return str(T("Condition words", "not tagged {tag}", tag=tag))
        return str(T("Condition words", "tagged {tag}", tag=tag))
    if not isinstance(membership.container, ListLiteral):
        return None
    item = _render(membership.item, words=True)
    if _precedence(membership.item) <= _PREC_CMP:
        item = f"({item})"
    values = [_words_literal(literal.value) for literal in membership.container.items]
    if not values:
        if negated:
            return str(T("Condition words", "{item} is not in an empty list", item=item))
        return str(T("Condition words", "{item} is in an empty list", item=item))
    if not negated:
        if len(values) == 1:
            return str(T("Condition words", "{item} is {value}", item=item, value=values[0]))
        return str(
            T(
                "Condition words",
                "{item} is {values} or {last}",
                item=item,
                values=", ".join(values[:-1]),
                last=values[-1],
            )
        )
    if len(values) == 1:
        return str(T("Condition words", "{item} is not {value}", item=item, value=values[0]))
    if len(values) == 2:
        return str(
            T(
                "Condition words",
                "{item} is neither {first} nor {second}",
                item=item,
                first=values[0],
                second=values[1],
            )
        )
    return str(
        T("Condition words", "{item} is none of {values}", item=item, values=", ".join(values))
    )


def _words_literal(value: object) -> str:
    if isinstance(value, bool):
        return str(T("Condition words", "yes") if value else T("Condition words", "no"))
    if isinstance(value, str):
        return value if value and value == value.strip() else f"“{value}”"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------- compiled


@dataclass(frozen=True)
class Condition:
    """A checked condition with its schema, ready for every back-end."""

    text: str
    expr: Expr
    schema: ContactSchema = DEFAULT_SCHEMA

    def evaluate(self, contact: Mapping) -> bool:
        return evaluate(self.expr, contact, self.schema)

    def evaluate_columns(self, columns: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        return evaluate_columns(self.expr, columns, n, self.schema)

    def to_jsonlogic(self) -> object:
        return to_jsonlogic(self.expr, self.schema)

    def to_words(self) -> str:
        return to_words(self.expr)


def compile_condition(text: str, schema: ContactSchema = DEFAULT_SCHEMA) -> Condition:
    """parse + check; the first problem (syntax or semantic) is raised as ExpressionError."""
    expr = parse(text)
    issues = check(expr, schema)
    if issues:
        first = issues[0]
        raise ExpressionError(first.message, first.column, first.end_column, kind=first.kind)
    return Condition(text, expr, schema)


@lru_cache(maxsize=8192)
def cached_parse(text: str) -> Expr | ExpressionError:
    """Parse once per distinct text, returning the error instead of raising: validation and
    the canvas re-read the same conditions on every edit."""
    try:
        return parse(text)
    except ExpressionError as error:
        return error
