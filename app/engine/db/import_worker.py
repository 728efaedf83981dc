"""`python -m app.engine.db.import_worker SOURCE TARGET`: the second process of a large CSV
import (importer.py). It reads the pickled arguments of `parse_tail` from SOURCE, a file the
importing process has just written in a private temporary folder, and pickles the converted
part to TARGET.

A process of its own rather than multiprocessing's: spawning those re-runs the caller's main
script in the child, which a script calling `import_csv` without a `__main__` guard would
not survive.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from app.engine.db.import_reading import CsvImportError, parse_tail

BROKEN = 3  # exit status: the part cannot be read (a quote never closed)


def main(source: Path, target: Path) -> int:
    arguments = pickle.loads(source.read_bytes())
    try:
        part = parse_tail(*arguments)
    except CsvImportError:
        return BROKEN  # the importer reads the whole file again and reports the line
    target.write_bytes(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
