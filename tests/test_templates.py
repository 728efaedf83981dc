"""Message templates: what they read, how they fail, and that the sandbox holds."""

from __future__ import annotations

import time

import pytest

from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema
from app.engine.model import Product
from app.engine.templates import (
    CONTEXT_NAMES,
    TemplateError,
    TemplateIssue,
    check_template,
    money,
    parse_template,
    preview_context,
    render,
    sample_contact,
)

NBSP = "\u00a0"


def variables(text: str) -> tuple[str, ...]:
    return parse_template(text).variables


def render_error(text: str, context: dict | None = None) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        render(text, context if context is not None else full_context())
    return caught.value


def full_context() -> dict:
    return preview_context(
        sample_contact(),
        product={"id": "course", "name": "Курс «Кошки дома»", "role": "main", "price": 990},
        discount=10,
        promo_code="КОТ10",
        cart={
            "items": [
                {"name": "Когтеточка", "price": 1490, "quantity": 1},
                {"name": "Корм", "price": 350, "quantity": 2},
            ],
            "value": 2190,
        },
        scenario_name="Брошенная корзина",
    )


# --- variables a template reads ----------------------------------------------------------------


def test_variables_are_dotted_paths_sorted_and_unique() -> None:
    text = "{{ promo_code }} {{ contact.first_name }} {{ offer.discount }} {{ contact.first_name }}"
    assert variables(text) == ("contact.first_name", "offer.discount", "promo_code")


def test_loop_targets_and_loop_are_local_to_the_loop() -> None:
    text = "{% for item in cart.items %}{{ loop.index }}. {{ item.name }}{% endfor %}"
    assert variables(text) == ("cart.items",)


def test_a_loop_target_used_after_its_loop_is_a_context_variable() -> None:
    text = "{% for item in cart.items %}{% endfor %}{{ item.name }}"
    assert variables(text) == ("cart.items", "item.name")


def test_loop_filters_and_tuple_targets_are_local_but_the_else_branch_is_not() -> None:
    text = (
        "{% for name, qty in cart.items|dictsort if qty > contact.age %}{{ name }}"
        "{% else %}{{ qty }}{% endfor %}"
    )
    assert variables(text) == ("cart.items", "contact.age", "qty")


def test_filters_and_their_arguments_are_read() -> None:
    text = '{{ contact.first_name|default("друг")|upper }} {{ offer.price|money(currency) }}'
    assert variables(text) == ("contact.first_name", "currency", "offer.price")


def test_nested_attributes_and_constant_keys_form_one_path() -> None:
    text = '{{ offer.product.name }} {{ contact["attributes"]["vip"] }} {{ cart["value"] }}'
    assert variables(text) == ("cart.value", "contact.attributes.vip", "offer.product.name")


def test_a_path_stops_at_an_index_or_a_variable_key() -> None:
    assert variables("{{ cart.items[0].name }}") == ("cart.items",)
    assert variables("{{ contact[field] }}") == ("contact", "field")


def test_conditions_and_tests_are_read() -> None:
    text = (
        '{% if contact.age >= 18 and "cats" in contact.tags %}A'
        "{% elif contact.city is defined %}B{% else %}{{ promo_code }}{% endif %}"
    )
    assert variables(text) == ("contact.age", "contact.city", "contact.tags", "promo_code")


def test_a_method_call_reads_its_object_not_a_field_named_like_the_method() -> None:
    text = '{{ contact.first_name.upper() }} {{ contact.attributes.get("vip", unsubscribe_url) }}'
    assert variables(text) == ("contact.attributes", "contact.first_name", "unsubscribe_url")


def test_names_the_template_binds_itself_and_globals_are_not_context_variables() -> None:
    text = (
        "{% set total = cart.value %}{{ total }}{{ range(3)|list }}"
        "{% macro hi(name) %}{{ name }}{% endmacro %}{{ hi(contact.first_name) }}"
        "{% with city = contact.city %}{{ city }}{% endwith %}"
    )
    assert variables(text) == ("cart.value", "contact.city", "contact.first_name")


def test_plain_text_reads_nothing() -> None:
    assert variables("Скидка 10% только сегодня!") == ()


# --- syntax errors -----------------------------------------------------------------------------


def test_an_unclosed_variable_tag_is_reported_on_its_line() -> None:
    text = "Здравствуйте!\n\nВаш город: {{ contact.city }\nДо встречи"
    with pytest.raises(TemplateError) as caught:
        parse_template(text)
    assert caught.value.line == 3
    assert caught.value.message == 'the tag is not closed — add "}}"'
    assert str(caught.value) == 'line 3: the tag is not closed — add "}}"'


def test_an_unclosed_statement_tag_asks_for_its_own_closing_mark() -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template("{{ promo_code }}\n{% if contact.age > 18 }взрослый{% endif %}")
    assert caught.value.line == 2
    assert caught.value.message == 'the tag is not closed — add "%}"'


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "a\n{% for item in cart.items %}\n{{ item.name }}",
            3,
            "{% for %} is not closed — add {% endfor %}",
        ),
        (
            "{% if promo_code %}\nx\n{% endfor %}",
            3,
            "{% endfor %} does not belong here: {% if %} is still open — close it with {% endif %}",
        ),
        ("x\n{% endif %}", 2, "{% endif %} has no matching opening tag"),
        ("{{ promo_code|shout }}", 1, "there is no filter ‘shout’"),
        ("{{ }}", 1, "a value is missing before ‘}}’"),
        ("x\n{{ contact.first name }}", 2, 'unexpected ‘name’ — is "}}" missing before it?'),
        ("{{ 'КОТ10 }}", 1, "a quoted text is not closed — add the closing '"),
        ("{{ money(offer.price }}", 1, 'a bracket is not closed — add ")"'),
        ("{# note", 1, 'the comment is not closed — add "#}"'),
    ],
)
def test_syntax_errors_are_worded_for_a_marketer(text: str, line: int, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(text)
    assert (caught.value.line, caught.value.message) == (line, message)


def test_a_template_error_without_a_line_is_just_its_message() -> None:
    error = TemplateError("something is off")
    assert (error.line, str(error)) == (None, "something is off")


# --- checking ----------------------------------------------------------------------------------


def test_a_correct_template_has_no_issues() -> None:
    text = (
        "{{ contact.first_name }}, {{ offer.product.name }} за {{ offer.final_price|money }}\n"
        "{% for item in cart.items %}{{ item.name }}{% endfor %} {{ promo_code }} "
        "{{ product.price }} {{ scenario.name }} {{ unsubscribe_url }} "
        "{{ contact.attributes.favourite_breed }}"
    )
    assert check_template(text) == []


def shown(issues: list[TemplateIssue]) -> list[TemplateIssue]:
    """Issues with their texts in words (an issue keeps a translatable `Msg`)."""
    return [TemplateIssue(i.kind, i.message, i.line, i.name) for i in issues]


def test_a_syntax_error_is_one_issue_with_its_line() -> None:
    issues = check_template("ok\n{{ contact.first_name }")
    assert shown(issues) == [TemplateIssue("syntax", 'the tag is not closed — add "}}"', 2)]
    assert str(issues[0]) == 'line 2: the tag is not closed — add "}}"'


def test_unknown_variables_are_reported_once_with_a_suggestion() -> None:
    issues = check_template("{{ contact.city }}\n{{ promocode }} {{ promocode }}\n{{ foo.bar }}")
    assert shown(issues) == [
        TemplateIssue(
            "unknown_variable",
            "‘promocode’ is not a template variable — did you mean ‘promo_code’?",
            2,
            "promocode",
        ),
        TemplateIssue(
            "unknown_variable",
            "‘foo’ is not a template variable; use one of: " + ", ".join(CONTEXT_NAMES),
            3,
            "foo",
        ),
    ]


def test_unknown_contact_fields_are_reported_but_attributes_are_free_form() -> None:
    text = "{{ contact.attributes.anything.at_all }}\n\n{{ contact.frist_name }} {{ contact.vip }}"
    assert shown(check_template(text)) == [
        TemplateIssue(
            "unknown_field",
            "‘contact.frist_name’ is not a contact field — did you mean ‘contact.first_name’?",
            3,
            "contact.frist_name",
        ),
        TemplateIssue(
            "unknown_field",
            "‘contact.vip’ is not a contact field; custom attributes are read as "
            "contact.attributes.vip",
            3,
            "contact.vip",
        ),
    ]


def test_a_custom_attribute_named_as_a_field_points_to_attributes() -> None:
    schema = ContactSchema(custom_attributes=frozenset({"loyalty_level"}))
    (issue,) = check_template("{{ contact.loyalty_level }}", schema)
    assert issue.kind == "unknown_field"
    assert (
        issue.message
        == "‘loyalty_level’ is a custom attribute — write contact.attributes.loyalty_level"
    )


def test_every_schema_field_is_accepted() -> None:
    text = " ".join(f"{{{{ contact.{name} }}}}" for name in DEFAULT_SCHEMA.field_names())
    assert check_template(text) == []


# --- rendering ---------------------------------------------------------------------------------


def test_render_fills_in_a_full_context() -> None:
    text = (
        "{{ contact.first_name }}, в корзине «{{ scenario.name }}» осталось:\n"
        "{% for item in cart.items %}\n"
        "- {{ item.name }} × {{ item.quantity }}: {{ item.price|money }}\n"
        "{% endfor %}\n"
        "{{ offer.product.name }}: {{ offer.price|money }} → {{ offer.final_price|money }} "
        "(−{{ offer.discount }}%) по коду {{ promo_code }}.\n"
        "Отписаться: {{ unsubscribe_url }}"
    )
    assert render(text, full_context()) == (
        "Анна, в корзине «Брошенная корзина» осталось:\n"
        f"- Когтеточка × 1: 1{NBSP}490{NBSP}₽\n"
        f"- Корм × 2: 350{NBSP}₽\n"
        f"Курс «Кошки дома»: 990{NBSP}₽ → 891{NBSP}₽ (−10%) по коду КОТ10.\n"
        "Отписаться: https://example.com/unsubscribe"
    )


def test_cart_items_are_the_items_not_the_dict_method() -> None:
    assert render("{{ cart.items|length }} {{ cart.value }}", full_context()) == "2 2190"


def test_a_missing_contact_field_is_named_in_full() -> None:
    contact = {key: value for key, value in sample_contact().items() if key != "first_name"}
    error = render_error("Привет!\n{{ contact.first_name }}", preview_context(contact))
    assert error.message == "‘contact.first_name’ is not set for this contact"
    assert error.line == 2


def test_missing_values_elsewhere_are_named_with_their_path() -> None:
    assert render_error("{{ coupon }}").message == "‘coupon’ is not set"
    assert render_error("{{ offer.bonus }}").message == "‘offer.bonus’ is not set"
    assert render_error("{{ cart.items[5].name }}").message == "‘cart.items[5]’ is not set"
    loop = "{% for item in cart.items %}{{ item.colour }}{% endfor %}"
    assert render_error(loop).message == "‘cart.items[0].colour’ is not set"


def test_a_template_can_guard_against_missing_values() -> None:
    context = preview_context({"attributes": {}})
    text = (
        '{{ contact.first_name|default("друг") }}'
        "{% if contact.city is defined %} из {{ contact.city }}{% endif %}"
    )
    assert render(text, context) == "друг"


def test_a_null_field_prints_as_nothing_rather_than_none() -> None:
    context = preview_context({"first_name": None})
    assert render("Привет, {{ contact.first_name }}!", context) == "Привет, !"
    assert render("{{ contact.first_name or 'друг' }}", context) == "друг"


def test_without_a_product_there_is_no_offer() -> None:
    context = preview_context(sample_contact())
    assert "offer" not in context and "product" not in context and "cart" not in context
    assert render_error("{{ offer.discount }}", context).message == "‘offer’ is not set"


def test_rendering_never_changes_the_callers_context() -> None:
    context = full_context()
    with pytest.raises(TemplateError):
        render("{{ contact.update({'first_name': 'Мария'}) }}", context)
    with pytest.raises(TemplateError):
        render("{{ cart['items'].append(1) }}", context)
    assert context["contact"]["first_name"] == "Анна"
    assert len(context["cart"]["items"]) == 2


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("{{ ''.__class__.__mro__ }}", "__class__"),
        ("{{ contact.__class__.__init__.__globals__ }}", "__class__"),
        ("{{ ''.format.__globals__ }}", "__globals__"),
        ("{{ cart.items.pop.__self__ }}", "pop"),
    ],
)
def test_sandbox_escapes_are_refused_at_the_first_forbidden_step(text: str, refused: str) -> None:
    error = render_error(text)
    assert error.message == f"the template tried something that is not allowed: using ‘{refused}’"


@pytest.mark.parametrize(
    "text",
    [
        "{{ range(10**9)|list|length }}",
        "{{ 7 ** 100000000 }}",
        "{{ 'ха' * 10**9 }}",
    ],
)
def test_huge_computations_fail_fast_instead_of_hanging(text: str) -> None:
    started = time.monotonic()
    assert check_template(text) == []  # compiling must not fold the constant either
    with pytest.raises(TemplateError) as caught:
        render(text, {})
    assert caught.value.message.startswith("the template could not be filled in:")
    assert time.monotonic() - started < 2


def test_small_powers_and_repeats_still_work() -> None:
    assert render("{{ 2 ** 10 }} {{ 'ха' * 3 }} {{ range(3)|sum }}", {}) == "1024 хахаха 3"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x\n\n{{ cart.value / 0 }}", "division by zero"),
        (
            "x\n\n{{ promo_code|money }}",
            "the template could not be filled in: money: ‘КОТ10’ is not an amount",
        ),
        (
            "x\n\n{{ contact.first_name + 1 }}",
            'the template could not be filled in: can only concatenate str (not "int") to str',
        ),
    ],
)
def test_other_render_failures_become_template_errors_with_a_line(text: str, message: str) -> None:
    error = render_error(text)
    assert (error.line, error.message) == (3, message)


def test_a_syntax_error_surfaces_from_render_too() -> None:
    assert render_error("{{ promo_code }").message == 'the tag is not closed — add "}}"'


# --- money, preview context, sample contact ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (1234, "RUB", f"1{NBSP}234{NBSP}₽"),
        (1234.5, "RUB", f"1{NBSP}234,50{NBSP}₽"),
        (1234567.0, "rub", f"1{NBSP}234{NBSP}567{NBSP}₽"),
        (990, "USD", "$990"),
        (1234, "USD", "$1,234"),
        (1234.5, "USD", "$1,234.50"),
        (1234, "EUR", "€1,234"),
        (0.005, "EUR", "€0.01"),
        (-1500, "RUB", f"-1{NBSP}500{NBSP}₽"),
        ("990", "RUB", f"990{NBSP}₽"),
        (25000, "KZT", f"25{NBSP}000{NBSP}KZT"),
    ],
)
def test_money(value: object, currency: str, expected: str) -> None:
    assert money(value, currency) == expected


@pytest.mark.parametrize("value", ["бесплатно", None, float("nan"), float("inf")])
def test_money_refuses_what_is_not_an_amount(value: object) -> None:
    with pytest.raises(ValueError, match="is not an amount"):
        money(value)


def test_money_is_a_template_filter_with_a_currency_argument() -> None:
    context = full_context()
    assert render('{{ offer.price|money }} / {{ offer.price|money("USD") }}', context) == (
        f"990{NBSP}₽ / $990"
    )


def test_preview_context_builds_the_offer() -> None:
    product = {"id": "course", "name": "Курс", "role": "main", "price": 990}
    context = preview_context(
        {"first_name": "Иван"}, product=product, discount=10, promo_code="X", scenario_name="S"
    )
    assert context["offer"] == {
        "product": product,
        "discount": 10,
        "price": 990,
        "final_price": 891,
    }
    assert context["product"] == product
    assert (context["promo_code"], context["scenario"]) == ("X", {"name": "S"})
    assert context["contact"] == {"first_name": "Иван"}


def test_final_price_rounds_half_up_to_whole_units() -> None:
    product = Product("mug", "Кружка", price=995)
    offer = preview_context({}, product=product, discount=10)["offer"]
    assert offer["final_price"] == 896  # 895.5
    assert offer["product"] == {"id": "mug", "name": "Кружка", "role": "main", "price": 995}


def test_sample_contact_has_every_schema_field_and_renders_the_catalog_example() -> None:
    contact = sample_contact()
    assert set(DEFAULT_SCHEMA.field_names()) | {"attributes"} == set(contact)
    assert contact["tags"] == ["cats"]
    context = preview_context(
        contact, product=Product("p", "Курс", price=1000), discount=15, promo_code="CATS15"
    )
    text = "{{ contact.first_name }}, {{ offer.discount }}%, {{ promo_code }}"
    assert check_template(text) == []
    assert render(text, context) == "Анна, 15%, CATS15"
