"""The contact database: SQLite by default, PostgreSQL for teams, the same code for both.

- `open_database(url)` opens (and migrates) it; `contact_schema(engine)` is the condition
  language's view of it (fields, tags, events, custom attributes).
- `count_matching(engine, condition)` counts a segment in SQL; `read_columns(engine, keys)`
  gives numpy columns for simulation.
- `import_csv(engine, path)` imports CRM exports; `generate_demo(engine, n)` fills a demo.
"""

import importlib
from typing import Any

# Imported on first use, so a process that needs one light module of this package (the
# second process of a large CSV import, importer.py) does not load SQLAlchemy, Alembic and
# Faker for nothing.
_MODULES = {
    "ContactColumns": "columns",
    "read_columns": "columns",
    "condition_clause": "conditions",
    "count_matching": "conditions",
    "DemoError": "demo",
    "generate_demo": "demo",
    "CsvImportError": "import_reading",
    "ImportReport": "importer",
    "import_csv": "importer",
    "parse_csv": "importer",
    "contact_record": "records",
    "iter_contact_records": "records",
    "contact_schema": "schema",
    "DatabaseError": "session",
    "database_url": "session",
    "migrate": "session",
    "open_database": "session",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)


__all__ = [
    "ContactColumns",
    "CsvImportError",
    "DatabaseError",
    "DemoError",
    "ImportReport",
    "condition_clause",
    "contact_record",
    "contact_schema",
    "count_matching",
    "database_url",
    "generate_demo",
    "import_csv",
    "iter_contact_records",
    "migrate",
    "open_database",
    "parse_csv",
    "read_columns",
]
