"""How long signed-out mail requests take for an address with an account and one without.

    python bench/enumeration.py [--requests N] [--database-url URL] [--json]

Forgot-password, sign-in links and signed-out resends must not tell, by their answer or its
timing, whether an address has an account. This drives each such endpoint in-process
(Flask's test client, no network) on a throw-away SQLite file (or the database named by
--database-url, which must be empty and is left with the run's rows), alternating a known
and an unknown address N times each, and prints the median and 90th percentile of both and
their ratio. Rate limits are off (TESSERA_RATELIMIT_ENABLED=false); every request names a
fresh address, so per-address throttles never differ between the two.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENDPOINTS = [
    "/api/auth/forgot-password",
    "/api/v1/auth/forgot-password",
    "/api/v1/auth/resend-verification",
    "/eventchain/v1/auth/password/reset/request",
    "/eventchain/v1/auth/verify/send",
    "/v1/auth/forgot-password",
    "/v1/auth/magic-link/send",
]


def make_app(database_url: str):
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "b" * 48,
                      "ISSUER": "http://localhost", "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
    return app


def make_users(app, count: int) -> list[str]:
    from app.core import accounts
    from app.core.context import ClientInfo
    from app.extensions import db

    emails = [f"known-{n}@example.com" for n in range(count)]
    with app.app_context():
        for email in emails:
            accounts.create_user(email=email, password="a long bench passphrase",
                                 client=ClientInfo())
        db.session.commit()
    return emails


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(requests: int, database_url: str) -> list[dict]:
    app = make_app(database_url)
    known = make_users(app, requests)
    client = app.test_client()
    rows = []
    for path in ENDPOINTS:
        timings: dict[str, list[float]] = {"known": [], "unknown": []}
        for n in range(requests):
            for kind, email in (("known", known[n]), ("unknown", f"nobody-{n}@example.com")):
                started = time.perf_counter()
                response = client.post(path, json={"email": email})
                timings[kind].append((time.perf_counter() - started) * 1000)
                if response.status_code not in (200, 202):
                    raise SystemExit(f"{path}: {response.status_code} {response.get_data()}")
        row = {"endpoint": path}
        for kind, values in timings.items():
            row[f"{kind}_p50_ms"] = round(statistics.median(values), 3)
            row[f"{kind}_p90_ms"] = round(percentile(values, 0.9), 3)
        row["p50_ratio"] = round(row["known_p50_ms"] / row["unknown_p50_ms"], 3)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = options.database_url or f"sqlite:///{folder}/bench.db"
        rows = run(options.requests, url)
    if options.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{options.requests} requests per address kind, in-process, {url.split(':')[0]}")
    print(f"{'endpoint':44} {'known p50':>9} {'unknown p50':>11} {'known p90':>9} "
          f"{'unknown p90':>11} {'p50 ratio':>9}")
    for row in rows:
        print(f"{row['endpoint']:44} {row['known_p50_ms']:9.2f} {row['unknown_p50_ms']:11.2f} "
              f"{row['known_p90_ms']:9.2f} {row['unknown_p90_ms']:11.2f} "
              f"{row['p50_ratio']:9.3f}")


if __name__ == "__main__":
    main()
