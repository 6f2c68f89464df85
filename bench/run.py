"""Run the benchmarks and print one markdown table: figure, ours, baseline, ratio, target.

    .venv/bin/python -m bench.run [--quick] [--runs 3] [--only report,board] [--keep]

Full runs use PostgreSQL (``BENCH_POSTGRES_URL``, default the test server), one schema per
data set (``bench_report``, ``bench_report_real``, ``bench_board``), generated once and
reused while the data plan is unchanged (``--keep``); without ``--keep`` the schemas are
dropped at the end. ``--quick`` uses throw-away SQLite files and smaller data sets and
finishes within a minute (a smoke check: no timing is asserted anywhere). ``burst`` (full runs
only) starts the deployed shape for 300 calls within 10 s, once per run at each pace (callers in
real time, then answering at once; ``bench/burst.py`` runs one with all its figures).
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import board, burst, memory, report, updates_report, webhooks
from bench.common import table


def main(argv: list[str] | None = None) -> int:
    """Parse the options, prepare the data sets, measure interleaved runs, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data sets on SQLite, within a minute")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs per figure (median shown)")
    parser.add_argument("--only", default="report,updates,board,webhooks,memory,burst",
                        help="comma-separated: report, updates, board, webhooks, memory, burst (300 calls at each pace; "
                             "not in --quick)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schemas for the next run")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    started = time.perf_counter()
    figures, stores = [], []
    try:
        if "report" in only:
            prepared = report.prepare(args.quick)
            stores += [store for store, _ in prepared.values()]
            figures += report.figures(prepared, args.runs, args.quick)
        if "updates" in only:
            store = updates_report.prepare(args.quick)
            stores.append(store)
            figures += updates_report.figures(store, args.runs, args.quick)
        if "board" in only:
            store, _ = board.prepare(args.quick)
            stores.append(store)
            figures += board.figures(store, args.runs)
        if "webhooks" in only:
            figures += webhooks.figures(args.runs, args.quick)
        if "memory" in only:
            figures += memory.figures(args.runs, args.quick)
        if "burst" in only:
            figures += burst.figures(args.runs, args.quick)
    finally:
        for store in stores:
            if args.quick or not args.keep:
                store.remove()
    print(table(figures, args.runs))
    print(f"\n({'quick, SQLite' if args.quick else 'PostgreSQL'}; {time.perf_counter() - started:.0f} s in all)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
