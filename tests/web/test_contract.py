"""A contract fuzzer over the API's own OpenAPI document (schemathesis), bounded.

Every operation gets examples that follow its schema and examples that break it, sent to the
real app on PostgreSQL as the administrator: no answer may be a server error, and every answer
must be one the document declares. `HOTLINE_FUZZ_EXAMPLES` raises the bound (default 3 of
each kind per operation, so the run stays within seconds).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from tests.support.api import Api

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "3"))
# Not fuzzed: they would end the fuzzer's own session or take its account away.
SKIP = {("POST", "/api/v1/logout"), ("POST", "/api/v1/staff/{id}/password"),
        ("POST", "/api/v1/staff/{id}/disable"), ("PATCH", "/api/v1/staff/{id}"),
        ("GET", "/api/v1/ws")}
# The PBX is not part of this app: its refusals are declared 502/503, not server errors.
PBX_CODES = {"pbx_refused", "pbx_failed", "pbx_disabled", "pbx_unavailable"}


def _verdict(label: str, declared: set[str], response: Any) -> str | None:
    """What is wrong with one answer, or None."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:  # audio, CSV, a spreadsheet, or plain text (never for an error)
        body = None
    code = body.get("error", {}).get("code", "") if isinstance(body, dict) else ""
    if status >= 500 and code not in PBX_CODES:
        return f"{label} → {status} {response.text[:200]}"
    if str(status) not in declared:
        return f"{label} → {status}: not declared"
    return None


def _runner(operation: Any, mode: Any, declared: set[str], call: Any, failures: list[str]) -> Any:
    """A bounded hypothesis run of one operation in one generation mode."""
    from hypothesis import HealthCheck, Phase, given, settings

    label = f"{operation.method.upper()} {operation.path} [{mode.value}]"

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(case=operation.as_strategy(mode))
    def run(case: Any) -> None:
        problem = _verdict(label, declared, call(case))
        if problem is not None:
            failures.append(problem)

    return run


def _fuzz(doc: dict[str, Any], base: str, cookies: dict[str, str], csrf: str) -> list[str]:
    import requests
    from hypothesis.errors import Unsatisfiable
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_dict(doc)
    session = requests.Session()
    session.cookies.update(cookies)
    failures: list[str] = []
    sent = []

    def call(case: Any) -> Any:
        sent.append(1)
        return case.call(base_url=base, session=session, headers={"X-CSRF-Token": csrf},
                         timeout=30)

    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        declared = set(doc["paths"][operation.path][operation.method.lower()]["responses"])
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _runner(operation, mode, declared, call, failures)()
            except Unsatisfiable:  # nothing to break in an operation without inputs
                continue
    assert len(sent) > 100, len(sent)
    return failures


async def test_the_api_keeps_its_contract_under_a_fuzzer(api: Api) -> None:
    await api.written_card("fund-op")
    await api.login("admin")
    doc = await api.call("GET", "/api/v1/openapi.json")
    cookies = {c.key: c.value for c in api.client.session.cookie_jar}
    base = str(api.client.make_url("/")).rstrip("/")
    failures = await asyncio.to_thread(_fuzz, doc, base, cookies, api.csrf)
    assert failures == [], "\n".join(failures[:30])
