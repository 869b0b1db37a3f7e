"""`make load`: a bounded load test against the `make run` stack on this machine (loopback only).

    make load                           # 1,000 requests, 32 at a time
    make load REQUESTS=3000 CONCURRENCY=64

It enrols test numbers in the running stack's registry (the embedded AWS) and signs each in
(code from /dev/sms) — one per 8 workers: the service allows 30 codes an hour per client
address, and this is one address. Each worker owns one (person, company) pair and repeats a
person's and a liaison's day until the request budget is spent: file a dispute against its
company, read it back, the company's liaison reads the queue and acknowledges the case, the
person withdraws it (so the next filing is not refused as a duplicate). Beside them one
worker calls `/v1/healthz` throughout: absolute times on a shared machine are noise, the ratio
of an operation's time to healthz's in the same run is the figure.

Prints, per operation: count, errors (any unexpected status, or no answer), throughput and
p50/p95/p99 in milliseconds, and p50 as a multiple of healthz's p50. Exits 1 on any error.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEMO_FILE = ROOT / ".local" / "demo.json"
COMPANIES = ("tencent", "alibaba", "alipay", "baidu", "kuaishou", "douyin", "jd", "meituan")
ID6 = "24680X"
CODE = re.compile(r"验证码(\d{6})")
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: dict[str, str] = {}

    def add(self, op: str, seconds: float, ok: bool, sample: str = "") -> None:
        with self.lock:
            self.times[op].append(seconds)
            if not ok:
                self.errors[op] += 1
                self.samples.setdefault(op, sample[:200])


class Budget:
    def __init__(self, total: int) -> None:
        self.left = total
        self.lock = threading.Lock()

    def take(self, n: int = 1) -> bool:
        with self.lock:
            if self.left < n:
                return False
            self.left -= n
            return True


def call(
    base: str, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, Any, float]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    started = time.perf_counter()
    try:
        with OPENER.open(request, timeout=30) as reply:
            raw, status = reply.read(), reply.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    except OSError as exc:  # no answer at all: refused, reset, timed out
        return 0, {"error": type(exc).__name__}, time.perf_counter() - started
    elapsed = time.perf_counter() - started
    try:
        return status, json.loads(raw) if raw else None, elapsed
    except ValueError:
        return status, raw[:200], elapsed


def timed(stats: Stats, op: str, expected: int, base: str, *args: Any, **kw: Any) -> Any:
    status, body, elapsed = call(base, *args, **kw)
    stats.add(op, elapsed, status == expected, f"{status} {body}")
    return body if status == expected else None


def enrol(count: int) -> list[str]:
    """Test numbers in the running stack's registry (the embedded AWS on loopback)."""
    sys.path.insert(0, str(ROOT))
    from scripts import local_run

    local_run.configure_environment(local_run.port_from_env("MOTO_PORT", 5001))
    from chalicelib import config
    from chalicelib.adapters.registry import registry

    numbers = registry(config.settings())
    phones = [f"1770{random.randrange(10**7):07d}" for _ in range(count)]
    for phone in phones:
        numbers.enrol("+86" + phone, ID6, "active", "China Mobile")
    return phones


def sign_in(base: str, stats: Stats, phone: str) -> str | None:
    if (
        timed(stats, "sign-in: code", 202, base, "POST", "/v1/verification-codes", {"phone": phone})
        is None
    ):
        return None
    _, sent, _ = call(base, "GET", f"/dev/sms?phone={phone}")
    codes = [m.group(1) for m in map(CODE.search, (x["body"] for x in sent["messages"])) if m]
    if not codes:
        stats.add("sign-in: session", 0.0, False, "no code arrived")
        return None
    session = {"phone": phone, "id_last6": ID6, "code": codes[-1]}
    answer = timed(stats, "sign-in: session", 201, base, "POST", "/v1/sessions", session)
    return answer["token"] if answer else None


def day(base: str, stats: Stats, budget: Budget, token: str, company: str, key: str) -> None:
    """One worker's loop: a filing's whole round, five requests, while the budget lasts."""
    while budget.take(5):
        item = {"company": company, "reported_count": 3, "expected_count": 1, "reason": "not_mine"}
        filed = timed(
            stats,
            "file a dispute",
            201,
            base,
            "POST",
            "/v1/disputes",
            {"items": [item]},
            token=token,
        )
        if filed is None:
            continue
        case_id = filed["cases"][0]["case_id"]
        timed(
            stats,
            "read the dispute",
            200,
            base,
            "GET",
            f"/v1/disputes/{filed['dispute_id']}",
            token=token,
        )
        timed(stats, "liaison: queue", 200, base, "GET", "/v1/liaison/cases?limit=25", token=key)
        path = f"/v1/liaison/cases/{case_id}/transitions"
        timed(
            stats,
            "liaison: acknowledge",
            200,
            base,
            "POST",
            path,
            {"action": "acknowledge"},
            token=key,
        )
        path = f"/v1/cases/{case_id}/actions"
        timed(
            stats, "person: withdraw", 200, base, "POST", path, {"action": "withdraw"}, token=token
        )


def healthz(base: str, stats: Stats, done: threading.Event) -> None:
    while not done.is_set():
        timed(stats, "healthz (baseline)", 200, base, "GET", "/v1/healthz")
        time.sleep(0.05)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(stats: Stats, wall: float) -> int:
    base = stats.times.get("healthz (baseline)", [0.0])
    base_p50 = percentile(base, 0.5) or 1.0
    heads = ("count", 6), ("errors", 6), ("req/s", 7), ("p50", 7), ("p95", 7), ("p99", 7)
    print(f"{'operation':<22} " + " ".join(f"{h:>{w}}" for h, w in heads) + " p50/healthz")
    errors = 0
    for op in sorted(stats.times, key=lambda o: (o.startswith("healthz"), o)):
        times = stats.times[op]
        errors += stats.errors[op]
        print(
            f"{op:<22} {len(times):>6} {stats.errors[op]:>6} {len(times) / wall:>7.1f} "
            f"{percentile(times, 0.5):>7.1f} {percentile(times, 0.95):>7.1f} "
            f"{percentile(times, 0.99):>7.1f} {percentile(times, 0.5) / base_p50:>10.1f}x"
        )
    for op, sample in stats.samples.items():
        print(f"  first error in {op}: {sample}")
    print(
        f"\n{sum(len(t) for t in stats.times.values())} requests in {wall:.1f} s; {errors} errors"
    )
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="the budget of requests (≥ 10)")
    parser.add_argument("--concurrency", type=int, default=32, help="parallel users (1–240)")
    args = parser.parse_args(argv)
    # At most 30 people (the per-client code limit an hour) × 8 companies.
    if not 10 <= args.requests <= 100_000 or not 1 <= args.concurrency <= 240:
        parser.error("requests must be 10–100,000 and concurrency 1–240")
    try:
        demo = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print("no .local/demo.json: start the stack with `make run` first", file=sys.stderr)
        return 2
    base = demo["base_url"]
    host = urllib.parse.urlsplit(base).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"refusing {base}: the load test runs against loopback only", file=sys.stderr)
        return 2
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    stats, budget = Stats(), Budget(args.requests)
    people = -(-args.concurrency // len(COMPANIES))
    print(f"enrolling and signing in {people} test numbers …", flush=True)
    phones = enrol(people)
    with ThreadPoolExecutor(people) as pool:
        tokens = [t for t in pool.map(lambda p: sign_in(base, stats, p), phones) if t]
    pairs = [(t, c) for t in tokens for c in COMPANIES][: args.concurrency]
    print(f"{len(tokens)} signed in; {args.requests} requests by {len(pairs)} users …", flush=True)
    done = threading.Event()
    beat = threading.Thread(target=healthz, args=(base, stats, done), daemon=True)
    started = time.perf_counter()
    beat.start()
    with ThreadPoolExecutor(args.concurrency) as pool:
        keys = demo["liaison_keys"]
        workers = [
            pool.submit(day, base, stats, budget, token, company, keys[company])
            for token, company in pairs
        ]
        for worker in workers:
            worker.result()  # a bug in this script shows, rather than a quiet worker
    done.set()
    beat.join()
    return report(stats, time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
