"""A plausible demo contact base (a pet shop), so the app is useful on its first start.

Names come from Faker pools; everything else is drawn with numpy in whole columns, so a million
contacts take seconds rather than the minutes a per-contact Python loop would. The same seed,
locale, size and `today` always give the same database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import sqlalchemy as sa
from faker import Faker
from sqlalchemy import Connection, Engine

from app.engine.db.bulk import allocate_ids, insert_columns
from app.engine.db.models import Contact, Event, Product, Tag, contact_tags
from app.engine.db.versioning import bulk_writes
from app.engine.i18n import T

Progress = Callable[[str, int, int], None]
LOCALES = ("ru_RU", "en_US")
DAY = 86_400
BATCH = 100_000


@dataclass(frozen=True)
class DemoProduct:
    code: str
    role: str
    names: dict[str, str]
    prices: dict[str, float]


PRODUCTS = (
    DemoProduct(
        "feeding_guide",
        "lead_magnet",
        {"ru_RU": "Гайд «Как выбрать корм»", "en_US": "Pet feeding guide"},
        {"ru_RU": 0, "en_US": 0},
    ),
    DemoProduct(
        "trial_pack",
        "tripwire",
        {"ru_RU": "Пробный набор кормов", "en_US": "Food trial pack"},
        {"ru_RU": 290, "en_US": 5},
    ),
    DemoProduct(
        "premium_food",
        "main",
        {"ru_RU": "Корм премиум, 10 кг", "en_US": "Premium food, 22 lb"},
        {"ru_RU": 4490, "en_US": 59},
    ),
    DemoProduct(
        "aquarium_kit",
        "main",
        {"ru_RU": "Аквариум с фильтром, 60 л", "en_US": "Aquarium kit, 16 gal"},
        {"ru_RU": 8990, "en_US": 119},
    ),
    DemoProduct(
        "auto_feeder",
        "upsell",
        {"ru_RU": "Автокормушка", "en_US": "Automatic feeder"},
        {"ru_RU": 5990, "en_US": 79},
    ),
    DemoProduct(
        "toy_set",
        "cross_sell",
        {"ru_RU": "Набор игрушек", "en_US": "Toy set"},
        {"ru_RU": 790, "en_US": 12},
    ),
    DemoProduct(
        "vitamins",
        "cross_sell",
        {"ru_RU": "Витамины", "en_US": "Vitamins"},
        {"ru_RU": 650, "en_US": 9},
    ),
)

CITIES = {
    "ru_RU": {
        "Москва": 12.6,
        "Санкт-Петербург": 5.4,
        "Новосибирск": 1.6,
        "Екатеринбург": 1.5,
        "Казань": 1.3,
        "Нижний Новгород": 1.2,
        "Челябинск": 1.2,
        "Красноярск": 1.1,
        "Самара": 1.1,
        "Уфа": 1.1,
        "Ростов-на-Дону": 1.1,
        "Омск": 1.1,
        "Краснодар": 1.0,
        "Воронеж": 1.0,
        "Пермь": 1.0,
        "Волгоград": 1.0,
        "Тюмень": 0.8,
        "Саратов": 0.8,
        "Тольятти": 0.7,
        "Ижевск": 0.6,
        "Барнаул": 0.6,
        "Иркутск": 0.6,
        "Хабаровск": 0.6,
        "Ярославль": 0.6,
        "Владивосток": 0.6,
        "Томск": 0.6,
        "Калининград": 0.5,
        "Сочи": 0.4,
    },
    "en_US": {
        "New York": 8.3,
        "Los Angeles": 3.9,
        "Chicago": 2.7,
        "Houston": 2.3,
        "Phoenix": 1.6,
        "Philadelphia": 1.6,
        "San Antonio": 1.5,
        "San Diego": 1.4,
        "Dallas": 1.3,
        "San Jose": 1.0,
        "Austin": 1.0,
        "Jacksonville": 0.95,
        "Fort Worth": 0.9,
        "Columbus": 0.9,
        "Charlotte": 0.9,
        "Indianapolis": 0.88,
        "San Francisco": 0.87,
        "Seattle": 0.75,
        "Denver": 0.71,
        "Nashville": 0.68,
        "Boston": 0.65,
        "Portland": 0.65,
        "Las Vegas": 0.64,
        "Atlanta": 0.5,
        "Miami": 0.44,
        "Minneapolis": 0.43,
    },
}
COUNTRY = {"ru_RU": "Россия", "en_US": "United States"}
EMAIL_DOMAINS = {
    "ru_RU": {
        "mail.ru": 30,
        "yandex.ru": 28,
        "gmail.com": 25,
        "bk.ru": 5,
        "list.ru": 4,
        "inbox.ru": 4,
        "rambler.ru": 4,
    },
    "en_US": {
        "gmail.com": 45,
        "yahoo.com": 18,
        "outlook.com": 10,
        "hotmail.com": 9,
        "icloud.com": 12,
        "aol.com": 6,
    },
}
SOURCES = {
    "ru_RU": {"vk": 25, "yandex": 25, "telegram": 15, "referral": 10, "offline": 15, "email": 10},
    "en_US": {
        "google": 35,
        "facebook": 20,
        "instagram": 20,
        "tiktok": 10,
        "referral": 10,
        "email": 5,
    },
}
US_AREA_CODES = (212, 310, 312, 415, 512, 617, 646, 702, 713, 305, 404, 206, 303, 214, 602, 619)
# Independent chances per contact; "vip" goes to the top spenders instead.
TAG_CHANCES = {
    "cats": 0.42,
    "dogs": 0.35,
    "fish": 0.10,
    "birds": 0.05,
    "rodents": 0.07,
    "discount_hunter": 0.12,
    "wholesale": 0.005,
}
_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


@dataclass(frozen=True)
class DemoReport:
    contacts: int
    events: int
    tags: int
    products: int


class DemoError(Exception):
    """The demo cannot be written here (bad arguments, or the base already has contacts)."""


def generate_demo(
    engine: Engine,
    contacts: int,
    *,
    locale: str = "ru_RU",
    seed: int = 0,
    today: date | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> DemoReport:
    """Write `contacts` demo contacts with tags, products and event histories up to `today`."""
    if locale not in LOCALES:
        raise DemoError(
            str(
                T(
                    "Database",
                    "unknown locale {locale}; use one of: {locales}",
                    locale=repr(locale),
                    locales=", ".join(LOCALES),
                )
            )
        )
    if contacts < 1:
        raise DemoError(
            str(T("Database", "the number of contacts must be at least 1, not {n}", n=contacts))
        )
    today = today or datetime.now(UTC).date()
    data = _DemoData(contacts, locale, seed, today)
    with engine.begin() as connection:
        if not replace and connection.scalar(sa.select(sa.func.count()).select_from(Contact)):
            raise DemoError(
                str(
                    T(
                        "Database",
                        "the database already has contacts; use --replace to start over",
                    )
                )
            )
        with bulk_writes(connection):
            if replace:
                for table in (contact_tags, Event.__table__, Contact.__table__, Tag.__table__):
                    connection.execute(table.delete())
                connection.execute(Product.__table__.delete())
            return data.write(connection, progress or (lambda *_: None))


def _weights(table: dict[str, float]) -> tuple[list[str], np.ndarray]:
    names = list(table)
    weights = np.array([table[name] for name in names], dtype=float)
    return names, weights / weights.sum()


class _DemoData:
    """Every column of the demo, drawn once; `write` only stores them."""

    def __init__(self, n: int, locale: str, seed: int, today: date) -> None:
        self.n, self.locale, self.seed = n, locale, seed
        self.rng = np.random.default_rng(seed)
        self.anchor = int(datetime(today.year, today.month, today.day, tzinfo=UTC).timestamp())
        faker = Faker(locale)
        faker.seed_instance(seed)
        self.pools = {
            "f": (
                [faker.first_name_female() for _ in range(300)],
                [faker.last_name_female() for _ in range(400)],
            ),
            "m": (
                [faker.first_name_male() for _ in range(300)],
                [faker.last_name_male() for _ in range(400)],
            ),
        }
        self.people()
        self.histories()

    # -- people

    def people(self) -> None:
        n, rng, locale = self.n, self.rng, self.locale
        self.gender = rng.choice(np.array(["f", "m", ""], dtype=object), n, p=[0.56, 0.42, 0.02])
        first = np.empty(n, dtype=object)
        last = np.empty(n, dtype=object)
        for key in ("f", "m", ""):
            rows = np.flatnonzero(self.gender == key)
            firsts, lasts = self.pools[key or "f"]
            first[rows] = np.array(firsts, dtype=object)[rng.integers(0, len(firsts), rows.size)]
            last[rows] = np.array(lasts, dtype=object)[rng.integers(0, len(lasts), rows.size)]
        self.first, self.last = first, last
        self.signup = (
            self.anchor
            - (np.minimum(rng.exponential(420, n), 3 * 365) * DAY).astype(np.int64)
            - rng.integers(1, DAY, n)
        )
        age_days = (np.clip(rng.normal(37, 12, n), 18.1, 80) * 365.25).astype(np.int64)
        self.birth = (self.anchor // DAY - age_days).astype("datetime64[D]")
        self.has_birth = rng.random(n) < 0.85
        self.has_email = rng.random(n) < 0.92
        self.has_phone = rng.random(n) < 0.7
        domains, weights = _weights(EMAIL_DOMAINS[locale])
        self.domain = np.array(domains, dtype=object)[rng.choice(len(domains), n, p=weights)]
        self.pattern = rng.integers(0, 4, n)
        cities, weights = _weights(CITIES[locale])
        self.city = np.array(cities, dtype=object)[rng.choice(len(cities), n, p=weights)]
        self.has_city = rng.random(n) < 0.85
        self.consent_email = self.has_email & (rng.random(n) < 0.75)
        self.consent_sms = self.has_phone & (rng.random(n) < 0.35)
        self.consent_messenger = self.has_phone & (rng.random(n) < 0.25)
        self.consent_vk = self.has_phone & (rng.random(n) < (0.3 if locale == "ru_RU" else 0.01))
        self.consent_push = rng.random(n) < 0.3
        sources, weights = _weights(SOURCES[locale])
        self.source = np.array(sources, dtype=object)[rng.choice(len(sources), n, p=weights)]
        self.has_source = rng.random(n) < 0.85
        self.tag_masks = {tag: rng.random(n) < chance for tag, chance in TAG_CHANCES.items()}
        self.tag_masks["newsletter"] = self.consent_email & (rng.random(n) < 0.6)

    def phones(self) -> list[str | None]:
        k = np.arange(1, self.n + 1, dtype=np.int64)
        if self.locale == "ru_RU":
            digits = (k * 7_919_117 + 12_345_678) % 1_000_000_000
            numbers = [f"+79{d:09d}" for d in digits.tolist()]
        else:
            digits = (k * 7_919 + 1_234_567) % 10_000_000
            areas = np.array(US_AREA_CODES)[self.rng.integers(0, len(US_AREA_CODES), self.n)]
            numbers = [
                f"+1{a}{d:07d}" for a, d in zip(areas.tolist(), digits.tolist(), strict=True)
            ]
        return [p if has else None for p, has in zip(numbers, self.has_phone.tolist(), strict=True)]

    def emails(self) -> list[str | None]:
        emails: list[str | None] = []
        latin: dict[str, str] = {}
        rows = zip(
            self.first.tolist(),
            self.last.tolist(),
            self.pattern.tolist(),
            self.domain.tolist(),
            self.has_email.tolist(),
            strict=True,
        )
        for index, (first, last, pattern, domain, has) in enumerate(rows, start=1):
            if not has:
                emails.append(None)
                continue
            f = latin.get(first) or latin.setdefault(first, _latin(first))
            la = latin.get(last) or latin.setdefault(last, _latin(last))
            local = (f"{f}.{la}", f"{f[0]}{la}", f"{la}.{f}", f"{f}_")[pattern]
            emails.append(f"{local}{index}@{domain}")
        return emails

    # -- histories

    def spread(self, owners: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        width = np.maximum(end[owners] - start[owners], 1)
        return start[owners] + (self.rng.random(owners.size) * width).astype(np.int64)

    def histories(self) -> None:
        n, rng = self.n, self.rng
        span = self.anchor - self.signup
        self.active_end = self.signup + (span * rng.beta(2.0, 1.0, n)).astype(np.int64)
        events: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        everyone = np.arange(n)
        events["signup"] = (everyone, self.signup.copy())
        early = self.signup + (self.active_end - self.signup) // 10
        owners = np.flatnonzero(rng.random(n) < 0.3)
        events["lead_magnet_download"] = (owners, self.spread(owners, self.signup, early))
        buyers = rng.random(n) < 0.55
        purchases = np.where(buyers, rng.geometric(0.45, n), 0)
        owners = np.repeat(everyone, purchases)
        events["purchase"] = (owners, self.spread(owners, self.signup, self.active_end))
        carts = np.where(rng.random(n) < 0.3, 1 + (rng.random(n) < 0.3), 0)
        owners = np.repeat(everyone, carts)
        events["cart_abandoned"] = (owners, self.spread(owners, self.signup, self.active_end))
        owners = np.flatnonzero(rng.random(n) < 0.15)
        events["wishlist_added"] = (owners, self.spread(owners, self.signup, self.active_end))
        opened = np.where(self.consent_email, rng.poisson(2.0, n), 0)
        owners = np.repeat(everyone, opened)
        events["opened"] = (owners, self.spread(owners, self.signup, self.active_end))
        clicked = rng.binomial(opened, 0.2)
        owners = np.repeat(everyone, clicked)
        events["clicked"] = (owners, self.spread(owners, self.signup, self.active_end))
        owners = np.flatnonzero(buyers & (rng.random(n) < 0.2))
        events["nps_answered"] = (owners, self.spread(owners, self.signup, self.active_end))
        owners = np.flatnonzero(self.consent_email & (rng.random(n) < 0.04))
        events["unsubscribed"] = (owners, self.spread(owners, self.signup, self.active_end))
        self.consent_email[owners] = False
        last_seen = self.signup.copy()
        for owners, times in events.values():
            np.maximum.at(last_seen, owners, times)
        quiet = np.flatnonzero(self.anchor - last_seen > 90 * DAY)
        events["inactive"] = (quiet, last_seen[quiet] + 90 * DAY)
        self.template_events(events)
        self.events = events
        self.event_details()

    def template_events(self, events: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """Events bundled templates start from: requests sent through a site form (B2B
        qualification) and wished-for products coming back in stock. Drawn from a stream of
        their own, so every other figure of a seed is what it was before they were added."""
        extra = np.random.default_rng([self.seed, 1])
        owners = np.flatnonzero(extra.random(self.n) < 0.04)
        width = np.maximum(self.active_end[owners] - self.signup[owners], 1)
        moments = self.signup[owners] + (extra.random(owners.size) * width).astype(np.int64)
        events["form_submitted"] = (owners, moments)
        wishers, wished = events["wishlist_added"]
        restocked = np.flatnonzero(extra.random(wishers.size) < 0.35)
        later = wished[restocked] + (extra.exponential(12.0, restocked.size) * DAY).astype(np.int64)
        kept = later < self.anchor
        self.restocked = restocked[kept]  # which wishlist event each restock answers
        events["back_in_stock"] = (wishers[self.restocked], later[kept])

    def event_details(self) -> None:
        """Products, amounts and payloads; then the contact summaries that follow from them."""
        n, rng, locale = self.n, self.rng, self.locale
        prices = np.array([p.prices[locale] for p in PRODUCTS], dtype=float)
        by_role = {
            role: [i for i, p in enumerate(PRODUCTS) if p.role == role]
            for role in ("lead_magnet", "tripwire", "main", "upsell", "cross_sell")
        }
        buyable = np.array([i for i, p in enumerate(PRODUCTS) if p.role != "lead_magnet"])
        count = {kind: owners.size for kind, (owners, _) in self.events.items()}
        self.product = {kind: np.full(size, -1) for kind, size in count.items()}
        self.amount = {kind: np.full(size, np.nan) for kind, size in count.items()}
        self.payload: dict[str, list] = {}
        self.product["lead_magnet_download"][:] = by_role["lead_magnet"][0]
        roles = rng.choice(
            ["tripwire", "main", "upsell", "cross_sell"],
            count["purchase"],
            p=[0.25, 0.45, 0.1, 0.2],
        )
        chosen = np.array(
            [
                by_role[role][k % len(by_role[role])]
                for role, k in zip(
                    roles.tolist(), rng.integers(0, 2, roles.size).tolist(), strict=True
                )
            ],
            dtype=int,
        )
        quantity = np.where(
            np.array([PRODUCTS[i].role == "cross_sell" for i in chosen], dtype=bool),
            rng.integers(1, 4, chosen.size),
            1,
        )
        discount = rng.choice([1.0, 0.95, 0.9, 0.85], chosen.size, p=[0.6, 0.15, 0.15, 0.1])
        self.product["purchase"] = chosen
        self.amount["purchase"] = np.round(
            prices[chosen] * quantity * discount, 0 if locale == "ru_RU" else 2
        )
        self.product["wishlist_added"] = buyable[
            rng.integers(0, buyable.size, count["wishlist_added"])
        ]
        self.product["back_in_stock"] = self.product["wishlist_added"][self.restocked]
        items = rng.integers(1, 4, count["cart_abandoned"])
        carts = [buyable[rng.integers(0, buyable.size, k)] for k in items.tolist()]
        self.amount["cart_abandoned"] = np.array([prices[c].sum() for c in carts])
        self.payload["cart_abandoned"] = [
            {
                "items": [
                    {
                        "product": PRODUCTS[i].code,
                        "name": PRODUCTS[i].names[locale],
                        "price": PRODUCTS[i].prices[locale],
                        "quantity": 1,
                    }
                    for i in c.tolist()
                ]
            }
            for c in carts
        ]
        scores = rng.choice(
            11, count["nps_answered"], p=np.array([1, 1, 1, 1, 2, 3, 5, 9, 14, 25, 38]) / 100
        )
        self.payload["nps_answered"] = [{"score": int(s)} for s in scores.tolist()]

        owners, times = self.events["purchase"]
        self.orders = np.bincount(owners, minlength=n)
        self.spent = np.round(np.bincount(owners, weights=self.amount["purchase"], minlength=n), 2)
        self.last_purchase = np.full(n, -1, dtype=np.int64)
        np.maximum.at(self.last_purchase, owners, times)
        cart_owner, cart_time = self.events["cart_abandoned"]
        order = np.lexsort((cart_time, cart_owner))
        latest = np.full(n, -1)
        latest[cart_owner[order]] = order  # the last write per contact is its latest cart
        self.cart = np.zeros(n)
        has_cart = latest >= 0
        open_cart = has_cart & (cart_time[np.maximum(latest, 0)] > self.last_purchase)
        self.cart[open_cart] = self.amount["cart_abandoned"][latest[open_cart]]
        nps_owner, nps_time = self.events["nps_answered"]
        order = np.lexsort((nps_time, nps_owner))
        self.nps = np.full(n, np.nan)
        self.nps[nps_owner[order]] = scores[order]
        self.tag_masks["vip"] = (
            self.spent >= np.quantile(self.spent, 0.95) if n >= 20 else self.spent > 0
        )
        self.tag_masks["vip"] &= self.spent > 0
        interested = np.zeros(n, dtype=bool)
        interested[cart_owner] = True
        interested[self.events["wishlist_added"][0]] = True
        self.stage = np.where(
            self.orders >= 3,
            "loyal",
            np.where(self.orders >= 1, "customer", np.where(interested, "prospect", "lead")),
        )

    # -- storage

    def write(self, connection: Connection, progress: Progress) -> DemoReport:
        product_ids = self.write_products(connection)
        tag_ids = self.write_tags(connection)
        contact_ids = np.array(allocate_ids(connection, Contact.__table__, self.n), dtype=np.int64)
        self.write_contacts(connection, contact_ids, progress)
        self.write_tag_links(connection, contact_ids, tag_ids)
        events = self.write_events(connection, contact_ids, product_ids, progress)
        return DemoReport(self.n, events, len(tag_ids), len(product_ids))

    def write_products(self, connection: Connection) -> np.ndarray:
        ids = allocate_ids(connection, Product.__table__, len(PRODUCTS))
        insert_columns(
            connection,
            Product.__table__,
            {
                "id": ids,
                "code": [p.code for p in PRODUCTS],
                "name": [p.names[self.locale] for p in PRODUCTS],
                "role": [p.role for p in PRODUCTS],
                "price": [float(p.prices[self.locale]) for p in PRODUCTS],
            },
        )
        return np.array(ids)

    def write_tags(self, connection: Connection) -> dict[str, int]:
        existing = dict(connection.execute(sa.select(Tag.name, Tag.id)).all())
        new = [name for name in sorted(self.tag_masks) if name not in existing]
        ids = allocate_ids(connection, Tag.__table__, len(new))
        insert_columns(connection, Tag.__table__, {"id": ids, "name": new})
        return {**existing, **dict(zip(new, ids, strict=True))}

    def write_contacts(self, connection: Connection, ids: np.ndarray, progress: Progress) -> None:
        n = self.n
        attributes = []
        for points, source, has_source, orders in zip(
            (self.spent / (100 if self.locale == "ru_RU" else 1)).astype(int).tolist(),
            self.source.tolist(),
            self.has_source.tolist(),
            self.orders.tolist(),
            strict=True,
        ):
            values: dict[str, object] = {}
            if has_source:
                values["source"] = source
            if orders:
                values["loyalty_points"] = points
            attributes.append(values or None)
        columns = {
            "id": ids.tolist(),
            "first_name": self.first.tolist(),
            "last_name": self.last.tolist(),
            "email": self.emails(),
            "phone": self.phones(),
            "gender": [g or None for g in self.gender.tolist()],
            "birth_date": [
                d if has else None
                for d, has in zip(self.birth.tolist(), self.has_birth.tolist(), strict=True)
            ],
            "city": [
                c if has else None
                for c, has in zip(self.city.tolist(), self.has_city.tolist(), strict=True)
            ],
            "country": [COUNTRY[self.locale]] * n,
            "locale": [self.locale.split("_")[0]] * n,
            "consent_email": self.consent_email.tolist(),
            "consent_sms": self.consent_sms.tolist(),
            "consent_messenger": self.consent_messenger.tolist(),
            "consent_vk": self.consent_vk.tolist(),
            "consent_push": self.consent_push.tolist(),
            "created_at": _datetimes(self.signup),
            "crm_stage": self.stage.tolist(),
            "nps_score": [None if np.isnan(s) else s for s in self.nps.tolist()],
            "orders_count": self.orders.tolist(),
            "total_spent": self.spent.tolist(),
            "cart_value": self.cart.tolist(),
            "last_purchase_at": _datetimes(self.last_purchase),
            "attributes": attributes,
        }
        for start in range(0, n, BATCH):
            batch = {name: values[start : start + BATCH] for name, values in columns.items()}
            insert_columns(connection, Contact.__table__, batch)
            progress("contacts", min(start + BATCH, n), n)

    def write_tag_links(
        self, connection: Connection, contact_ids: np.ndarray, tag_ids: dict[str, int]
    ) -> None:
        for name in sorted(self.tag_masks):
            members = contact_ids[self.tag_masks[name]].tolist()
            insert_columns(
                connection,
                contact_tags,
                {"contact_id": members, "tag_id": [tag_ids[name]] * len(members)},
            )

    def write_events(
        self,
        connection: Connection,
        contact_ids: np.ndarray,
        product_ids: np.ndarray,
        progress: Progress,
    ) -> int:
        kinds = list(self.events)
        owner = np.concatenate([self.events[kind][0] for kind in kinds])
        time = np.concatenate([self.events[kind][1] for kind in kinds])
        kind = np.concatenate([np.full(self.events[k][0].size, i) for i, k in enumerate(kinds)])
        product = np.concatenate([self.product[k] for k in kinds])
        amount = np.concatenate([self.amount[k] for k in kinds])
        payload = np.empty(owner.size, dtype=object)
        payload[:] = [
            item for k in kinds for item in self.payload.get(k, [None] * self.events[k][0].size)
        ]
        order = np.lexsort((kind, time, owner))  # each contact's history in time order
        total = order.size
        ids = allocate_ids(connection, Event.__table__, total)
        names = np.array(kinds, dtype=object)
        for start in range(0, total, BATCH):
            rows = order[start : start + BATCH]
            chosen = product[rows]
            insert_columns(
                connection,
                Event.__table__,
                {
                    "id": ids[start : start + BATCH],
                    "contact_id": contact_ids[owner[rows]].tolist(),
                    "type": names[kind[rows]].tolist(),
                    "occurred_at": _datetimes(time[rows]),
                    "product_id": [None if p < 0 else int(product_ids[p]) for p in chosen.tolist()],
                    "amount": [None if np.isnan(a) else a for a in amount[rows].tolist()],
                    "payload": payload[rows].tolist(),
                },
            )
            progress("events", min(start + BATCH, total), total)
        return total


def _datetimes(seconds: np.ndarray) -> list[datetime | None]:
    """Epoch seconds as naive UTC datetimes; negative means missing."""
    moments = seconds.astype("datetime64[s]").astype("datetime64[us]").tolist()
    if (seconds >= 0).all():
        return moments
    return [m if s >= 0 else None for m, s in zip(moments, seconds.tolist(), strict=True)]


def _latin(name: str) -> str:
    """An e-mail-safe Latin spelling of a name (Cyrillic transliterated, the rest dropped)."""
    spelled = "".join(_TRANSLIT.get(char, char) for char in name.lower())
    return "".join(char for char in spelled if char.isascii() and char.isalpha()) or "user"
