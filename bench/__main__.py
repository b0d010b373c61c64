"""Run every benchmark module's `main()` (or only those named): `python -m bench [access …]`.

Each module writes its results under bench/results/ and prints them.
"""

import importlib
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def discover() -> list[str]:
    """Return the names of the benchmark modules next to this file."""
    return sorted(path.stem for path in BENCH_DIR.glob("*.py") if not path.stem.startswith("__"))


def main() -> None:
    names = sys.argv[1:] or discover()
    unknown = sorted(set(names) - set(discover()))
    if unknown:
        raise SystemExit(
            f"Unknown benchmarks: {', '.join(unknown)}. Known: {', '.join(discover())}"
        )
    for name in names:
        print(f"== bench/{name}.py", flush=True)
        module = importlib.import_module(f"bench.{name}")
        # Each module parses its own options; give it a clean argument list.
        sys.argv = [f"bench/{name}.py"]
        module.main()


if __name__ == "__main__":
    main()
