"""bench/run.py end to end, tiny: gunicorn over a throw-away PostgreSQL database.

Runs only against the PostgreSQL named by TESSERA_TEST_DATABASE_URL (the benchmark creates
and drops its own database there); Redis only when TESSERA_TEST_REDIS_URL names one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("TESSERA_TEST_DATABASE_URL", "")
SCENARIOS = ("discovery", "jwks", "client_credentials", "refresh_token", "userinfo")


@pytest.mark.skipif(not DATABASE_URL.startswith("postgresql"),
                    reason="the benchmark needs PostgreSQL: set TESSERA_TEST_DATABASE_URL")
def test_benchmark_runs_every_scenario_without_errors():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--requests", "20", "--duration", "5",
         "--concurrency", "2", "--warmup", "5", "--database-url", DATABASE_URL,
         "--redis-url", os.environ.get("TESSERA_TEST_REDIS_URL", "")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=90,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for scenario in SCENARIOS:
        row = re.search(rf"^{scenario}\s+(\d+)\s+(\d+)\s", result.stdout, re.MULTILINE)
        if row is None and scenario == "userinfo":
            # Until /oauth2/userinfo is served, the benchmark says so instead of failing.
            row = re.search(r"^userinfo\s+not available", result.stdout, re.MULTILINE)
            assert row is not None, result.stdout
            continue
        assert row is not None, f"no {scenario} row:\n{result.stdout}"
        requests, errors = int(row.group(1)), int(row.group(2))
        assert requests > 0 and errors == 0, row.group(0)


def test_the_enumeration_benchmark_times_every_signed_out_mail_request():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    result = subprocess.run([sys.executable, "bench/enumeration.py", "--requests", "3",
                             "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = json.loads(result.stdout)
    assert {row["endpoint"] for row in rows} >= {"/api/v1/auth/forgot-password",
                                                 "/v1/auth/magic-link/send"}
    for row in rows:
        assert row["known_p50_ms"] > 0 and row["unknown_p50_ms"] > 0
