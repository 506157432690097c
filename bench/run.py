"""Run every benchmark under bench/ in turn (``make bench``). Figures, not verdicts."""

import runpy
import sys
from pathlib import Path

here = Path(__file__).parent
chosen = sys.argv[1:] or sorted(p.stem for p in here.glob("bench_*.py"))
for name in chosen:
    print(f"== {name}", flush=True)
    runpy.run_path(str(here / f"{name}.py"), run_name="__main__")
