"""GET /v2/token at 16 concurrent clients, against a bare Flask endpoint."""

from __future__ import annotations

import base64

from bench import wrk
from bench.report import Row
from bench.setup import ADMIN, bootstrap_admin, gunicorn_baseline
from tests.e2e.support.stack import RunningStack


def _basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def run(stack: RunningStack, app_token: str, seconds: int) -> list[Row]:
    """Three cases, each against the same baseline figure."""
    token_url = f"http://127.0.0.1:{stack.port_base + 1}/v2/token"
    service = f"service={stack.host}"
    cases = {
        "app token, push+pull": (
            f"{token_url}?{service}&scope=repository:{ADMIN[0]}/bench:push,pull",
            _basic(ADMIN[0], app_token)),
        "anonymous pull, public": (
            f"{token_url}?{service}&scope=repository:benchpublic:pull", {}),
        "password, steady state": (
            f"{token_url}?{service}&scope=repository:{ADMIN[0]}/bench:pull",
            _basic(*ADMIN)),
    }
    with gunicorn_baseline() as (base_url, base_pid):
        wrk.run(base_url + "/v2/token", seconds=1)  # warm up
        baseline, base_cpu = wrk.run_measured(base_url + "/v2/token",
                                              wrk.process_tree(base_pid), seconds=seconds)
    token_pids = wrk.process_tree(int(stack.supervisorctl("pid", "token").strip()))
    rows = []
    for case, (url, headers) in cases.items():
        wrk.run(url, seconds=1, headers=headers)  # warm caches and pools
        got, cpu = wrk.run_measured(url, token_pids, seconds=seconds, headers=headers)
        ratio = got.rps / baseline.rps if baseline.rps else None
        met = None
        if case.startswith("app token"):
            met = bool(ratio and ratio >= 0.5 and got.p99_ms <= 20 and not got.errors)
        rows.append(Row(
            benchmark="token", case=case,
            berth=f"{got.rps:.0f} req/s, p50 {got.p50_ms:.1f} ms, p99 {got.p99_ms:.1f} ms"
                  + f", {cpu:.2f} ms CPU/req"
                  + (f", {got.errors} errors" if got.errors else ""),
            baseline=f"{baseline.rps:.0f} req/s, p99 {baseline.p99_ms:.1f} ms"
                     f", {base_cpu:.2f} ms CPU/req",
            ratio=ratio, target="≥ 0.5 × req/s, p99 ≤ 20 ms" if met is not None else "—",
            met=met, raw={"berth": vars(got), "baseline": vars(baseline),
                          "berth_cpu_ms_per_request": cpu,
                          "baseline_cpu_ms_per_request": base_cpu}))
    return rows


__all__ = ["bootstrap_admin", "run"]
