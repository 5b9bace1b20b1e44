"""Prism's generated responses (dynamic mode, one seed per server): whatever the spec lets Metronome
send (nulls where nullable, keys it never names, optional fields present or left out) must reach
the destination as records that fit the connector's schemas, one record per item served."""

import pytest

from contract_tests.conftest import NOW
from integration_tests.connector_cli import configured_catalog, run_with_files
from contract_tests.stream_schemas import schema_problems

ITEMS_BY_STREAM = {"usage_with_groups": "POST /v1/usage/groups", "customer_costs": "GET /v1/customers/{customer_id}/costs"}
# Two pages of each stream's items; the parents' follow-up pages are the request tests' business,
# and here each would multiply the partitions (a seeded Prism repeats the same page).
PAGES_PER_LISTING = 2
SINGLE_PAGE_PARENTS = {"GET /v1/customers": 1, "GET /v1/customers/{customer_id}/billable-metrics": 1}
SEEDED_READS = [(1, "DAY"), (2, "HOUR"), (3, "NONE")]


@pytest.mark.parametrize("omit_optional_fields", [False, True], ids=["as-generated", "optional-fields-omitted"])
@pytest.mark.parametrize("seed, window_size", SEEDED_READS, ids=[f"seed-{seed}-{window}" for seed, window in SEEDED_READS])
def test_given_generated_responses_when_reading_then_every_item_served_becomes_one_record_that_fits_its_schema(
    prism_servers, open_proxy, tmp_path, seed, window_size, omit_optional_fields
):
    proxy = open_proxy(
        prism_servers.generated(seed), PAGES_PER_LISTING, omit_optional_fields=omit_optional_fields, max_pages_by_operation=SINGLE_PAGE_PARENTS
    )
    # Far above Metronome's pace: these tests judge requests and records, not pacing.
    config = {"api_token": "contract-test-token", "start_date": "2024-01-01", "window_size": window_size, "base_url": proxy.url, "requests_per_second": 1000}

    run = run_with_files("read", config, tmp_path, NOW, configured_catalog(dict.fromkeys(ITEMS_BY_STREAM, "full_refresh")))

    assert not proxy.violations(), "requests that break Metronome's spec:\n" + "\n".join(proxy.violations())
    assert run.returncode == 0 and not run.error_messages(), run.describe()
    emitted = {stream: len(run.records(stream)) for stream in ITEMS_BY_STREAM}
    served = {stream: proxy.items_served(operation) for stream, operation in ITEMS_BY_STREAM.items()}
    assert emitted == served and all(served.values()), f"records emitted {emitted} vs items served {served}"
    problems = [problem for stream in ITEMS_BY_STREAM for record in run.records(stream) for problem in schema_problems(stream, record)]
    assert not problems, "records that break the stream schemas:\n" + "\n".join(problems[:20])
