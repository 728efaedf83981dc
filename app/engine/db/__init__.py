"""The contact database: SQLite by default, PostgreSQL for teams, the same code for both.

- `open_database(url)` opens (and migrates) it; `contact_schema(engine)` is the condition
  language's view of it (fields, tags, events, custom attributes).
- `count_matching(engine, condition)` counts a segment in SQL; `read_columns(engine, keys)`
  gives numpy columns for simulation.
- `import_csv(engine, path)` imports CRM exports; `generate_demo(engine, n)` fills a demo.
"""

from app.engine.db.columns import ContactColumns, read_columns
from app.engine.db.conditions import condition_clause, count_matching
from app.engine.db.demo import DemoError, generate_demo
from app.engine.db.importer import CsvImportError, ImportReport, import_csv, parse_csv
from app.engine.db.records import contact_record, iter_contact_records
from app.engine.db.schema import contact_schema
from app.engine.db.session import DatabaseError, database_url, migrate, open_database

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
