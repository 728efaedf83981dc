"""Check an engine's results against the conformance vectors (docs/CONFORMANCE.md).

`python3 -m tools.check_conformance --results RESULTS.json [SUITE.json ...]` compares what
another engine did — a JSON object from vector id to an object shaped like the vector's
`expect` — with the expected steps, and lists the differences. Without `--results` it checks
the reference interpreter itself. Suites default to every file in resources/conformance/.
Exit code 0 when every vector passes, 1 otherwise, 2 for unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.engine.conformance import ConformanceError, differences, load_suite, run_vector
from app.engine.runtime import Runtime
from app.resources import RESOURCES

SHOWN = 5  # differences printed per failing vector


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check_conformance", description=__doc__.split("\n")[0])
    parser.add_argument("suites", nargs="*", type=Path, help="suite files (default: all)")
    parser.add_argument("--results", type=Path, help="your engine's results: {vector id: ...}")
    args = parser.parse_args(argv)
    paths = args.suites or sorted((RESOURCES / "conformance").glob("*.json"))
    try:
        results = None
        if args.results:
            results = json.loads(args.results.read_text(encoding="utf-8"))
            if not isinstance(results, dict):
                raise ConformanceError(f"{args.results}: expected an object from vector id")
        suites = [load_suite(path) for path in paths]
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failed = total = 0
    for path, suite in zip(paths, suites, strict=True):
        runtime = None if results is not None else Runtime.from_document(suite["scenario"])
        passed = 0
        for vector in suite["vectors"]:
            total += 1
            if runtime is not None:
                got = run_vector(runtime, vector)
            elif vector["id"] in results:
                got = results[vector["id"]]
            else:
                print(f"FAIL {vector['id']}: no result")
                failed += 1
                continue
            found = differences(vector["expect"], got)
            if found:
                failed += 1
                print(f"FAIL {vector['id']} ({vector['description']})")
                for line in found[:SHOWN]:
                    print(f"     {line}")
            else:
                passed += 1
        print(f"{path.name}: {passed}/{len(suite['vectors'])} passed")
    print(f"{total - failed}/{total} vectors passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
