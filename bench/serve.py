"""Benchmark of the workbench (``qc serve``) on the demo store: dashboard and the queue's next item.

The demo store is both bundled demo days (2026-11-24 and 2026-11-25: 600 conversations,
about 5,000 messages, six agents) inspected with the full inspector into
bench/out/serve-demo.sqlite (built once), with a supervisor and a reviewer who can sign in.
The app runs in this process and is called through Starlette's test client (an in-process
HTTP round trip: routing, session and role checks, the handler, template rendering), so the
figures are the server's own time without a network.

Measured, each repeated and reported as min / median / max in milliseconds:

* ``dashboard cold``: ``GET /`` with the workbench's cache emptied before each request: the
  month scored from the store twice (monthly and weekly windows, review decisions applied),
  worst conversations, render. What the first visit after a new run or decision costs.
* ``dashboard warm``: ``GET /`` again, nothing changed in the store (cached scores, render).
* ``queue next item``: ``POST /queue/decide`` with ``skip`` as htmx sends it (a fragment):
  the next waiting finding, its conversation around it, render.
* ``queue decide``: the same with ``confirm``: the decision stored and audited (as
  ``qc review`` does), then the next item.
* ``queue first build``: ``GET /queue`` with an empty cache (scores the period, draws the
  spot-check sample), once per repetition.

Targets (issue 18): dashboard under 300 ms, the queue's next item under 100 ms.

Usage:
    python bench/serve.py                  # 15 repetitions
    python bench/serve.py --repeat 30 --json bench/out/serve.json
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
PASSWORD = "bench-password"


def build_store(db: Path) -> None:
    from qc.batch.run import run_inspection
    from qc.rules import RuleSettings
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import build_inspector
    from qc.store.database import open_store
    from qc.supervise.accounts import set_password
    from qc.supervise.people import add_person

    db.parent.mkdir(parents=True, exist_ok=True)
    executor = LocalExecutor(build_inspector(RuleSettings()))
    for day in ("day", "next_day"):
        run_inspection(
            [ROOT / "demo" / day], OUT / "serve-demo" / day, executor, store=str(db), keep_results=False
        )
    with open_store(db) as store:
        for name, role in (("演示主管", "supervisor"), ("质检小王", "reviewer")):
            add_person(store, name, role, by="bench")
            set_password(store, name, PASSWORD, by="bench")


def sign_in(client, name: str) -> str:
    page = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"csrf": token, "name": name, "password": PASSWORD, "next": "/"})
    assert r.status_code == 200, r.status_code
    return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def summary(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 1),
        "median": round(statistics.median(values), 1),
        "max": round(max(values), 1),
        "n": len(values),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--db", type=Path, default=OUT / "serve-demo.sqlite")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from starlette.testclient import TestClient

    from qc.scoring.card import load_scorecard
    from qc.serve import create_app
    from qc.store.database import open_store

    if not args.db.exists():
        print(f"building the demo store {args.db} …", file=sys.stderr)
        build_store(args.db)
    # A copy per run: the decide measurement writes decisions.
    work = args.db.with_name("serve-demo-run.sqlite")
    work.write_bytes(args.db.read_bytes())
    store = open_store(work)
    app = create_app(store, load_scorecard())
    wb = app.state.wb
    results: dict[str, dict[str, float]] = {}
    with TestClient(app) as boss, TestClient(app) as reviewer:
        sign_in(boss, "演示主管")
        token = sign_in(reviewer, "质检小王")
        assert boss.get("/").status_code == 200  # warm imports and templates once

        cold = []
        for _ in range(args.repeat):
            wb.cache.clear()
            cold.append(timed(lambda: boss.get("/")))
        results["dashboard cold"] = summary(cold)
        results["dashboard warm"] = summary([timed(lambda: boss.get("/")) for _ in range(args.repeat)])

        builds = []
        for _ in range(min(args.repeat, 5)):
            wb.cache.clear()
            builds.append(timed(lambda: reviewer.get("/queue")))
        results["queue first build"] = summary(builds)
        page = reviewer.get("/queue").text
        period = re.search(r'name="from" value="([^"]+)".*?name="to" value="([^"]+)"', page, re.S)
        assert period, "the queue is empty"

        nxt, decided = [], []
        current = re.search(r'data-finding="([0-9a-f]+)"', page).group(1)
        for n in range(args.repeat * 2):
            decision = "skip" if n % 2 == 0 else "confirm"
            data = {
                "csrf": token,
                "finding_id": current,
                "decision": decision,
                "from": period.group(1),
                "to": period.group(2),
                "seed": "0",
                "per_agent": "5",
            }
            start = time.perf_counter()
            r = reviewer.post("/queue/decide", data=data, headers={"HX-Request": "true"})
            ms = (time.perf_counter() - start) * 1000
            assert r.status_code == 200
            (nxt if decision == "skip" else decided).append(ms)
            found = re.search(r'data-finding="([0-9a-f]*)"', r.text).group(1)
            assert found and found != current, "the queue ran out"
            current = found
        results["queue next item"] = summary(nxt)
        results["queue decide"] = summary(decided)
    store.close()
    work.unlink(missing_ok=True)

    width = max(len(k) for k in results)
    head = f"{'':{width}}  {'min':>8} {'median':>8} {'max':>8}"
    print(f"{head}   (ms, {args.repeat} runs; demo store {args.db.name})")
    for name, s in results.items():
        print(f"{name:{width}}  {s['min']:8.1f} {s['median']:8.1f} {s['max']:8.1f}   n={s['n']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
