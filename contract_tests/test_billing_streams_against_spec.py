"""The finance, catalog and audit streams whose endpoints Metronome's 2023 spec has: invoices (and
their line items, from the same pages), credit grants, credit types, plans and audit logs. Every
request they send, first pages and follow-ups, is judged by Prism against the spec.

The 2023 spec lacks POST /v2/contracts/list, POST /v1/contracts/customerBalances/list,
POST /v1/contract-pricing/products/list and rate-cards/list, POST /v1/packages/list and the
account-wide GET /v1/billable-metrics: those streams are checked against the SDK's models through
the fake (integration_tests/test_fake_finance_catalog.py) instead."""

import re

import pytest

from contract_tests.conftest import NOW
from contract_tests.test_directory_and_line_item_streams_against_spec import DIRECTORY_AND_LINE_ITEM_STREAMS
from contract_tests.test_requests_against_spec import DECLARED, PAGES_PER_LISTING, STREAMS, config
from contract_tests.vendor_spec import VendorSpec, load_rebased_spec
from integration_tests.connector_cli import configured_catalog, run_with_files

# The declared streams whose endpoint the 2023 spec has, but those the other files read.
READ_ELSEWHERE = (*STREAMS, *DIRECTORY_AND_LINE_ITEM_STREAMS)
SPEC = VendorSpec(load_rebased_spec())
IN_THE_2023_SPEC = tuple(name for name, endpoint in DECLARED.items() if name not in READ_ELSEWHERE and SPEC.declares(endpoint.method, endpoint.path))
# Where the newer API (metronome-sdk 4.12, resources/v1/) differs from the 2023 spec, the SDK is
# followed: it sends `sort` to invoices and audit logs and pages credit grants with query
# `limit`/`next_page`; and audit logs refuse their window together with `next_page`, so follow-up
# pages leave it out. Any other violation fails the test.
NEWER_THAN_THE_SPEC = (
    ("/invoices?", "query parameter 'sort' is not declared"),
    ("/v1/auditLogs?", "query parameter 'sort' is not declared"),
    ("/v1/credits/listGrants?", "query parameter 'limit' is not declared"),
    ("/v1/credits/listGrants?", "query parameter 'next_page' is not declared"),
    ("/v1/auditLogs?", "changed parameters or body from the request that earned its next_page token"),
)


@pytest.fixture
def proxy(prism_servers, open_proxy):
    return open_proxy(prism_servers.examples(), max_pages=PAGES_PER_LISTING)


def test_given_the_streams_the_spec_has_when_reading_then_every_request_keeps_to_the_spec(proxy, tmp_path):
    run = run_with_files("read", config(proxy), tmp_path, NOW, configured_catalog({stream: "full_refresh" for stream in IN_THE_2023_SPEC}))

    assert run.returncode == 0 and not run.error_messages(), run.describe()
    violations = [line for violation in proxy.violations() for line in _unexpected(violation)]
    assert not violations, "requests that break Metronome's spec:\n" + "\n".join(violations)
    asked = {exchange.path for exchange in proxy.exchanges}
    assert IN_THE_2023_SPEC
    for stream in IN_THE_2023_SPEC:
        path = re.compile(re.escape(DECLARED[stream].path).replace(re.escape("{customer_id}"), "[^/]+"))
        assert any(path.fullmatch(request) for request in asked), f"{stream}'s {DECLARED[stream].path} was not requested: {sorted(asked)}"


def _unexpected(violation: str):
    """The lines of one request's verdict that NEWER_THAN_THE_SPEC does not explain."""
    request, *problems = violation.splitlines()
    unexplained = [problem for problem in problems if not any(path in request and text in problem for path, text in NEWER_THAN_THE_SPEC)]
    return [request, *unexplained] if unexplained else []
