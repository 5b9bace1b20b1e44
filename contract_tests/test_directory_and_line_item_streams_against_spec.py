"""The directory and line-item streams, and the newer usage settings, against Metronome's 2023 spec: `customers`, `billable_metrics` and
`customer_cost_line_items` read the endpoints the spec already has (GET /v1/customers with
`customer_ids`, a customer's billable-metrics listing, costs), and `current_period` is a field of
its usage payload. The newer `group_key`/`group_filters` are not in it (README.md), so they are not
exercised here."""

from collections import Counter

import pytest

from contract_tests.conftest import NOW
from integration_tests.connector_cli import configured_catalog, run_with_files
from contract_tests.stream_schemas import schema_problems
from contract_tests.test_requests_against_spec import (
    BILLABLE_METRICS,
    COSTS,
    CUSTOMERS,
    LISTED_CUSTOMER,
    OTHER_CUSTOMER,
    PAGES_PER_LISTING,
    STREAMS,
    USAGE,
    assert_every_request_kept_to_the_spec,
    config,
)

# The streams made from answers the usage and cost streams read anyway: the customer and metric
# listings, and the costs pages.
DIRECTORY_AND_LINE_ITEM_STREAMS = ("customers", "billable_metrics", "customer_cost_line_items")
ALL_STREAMS = (*STREAMS, *DIRECTORY_AND_LINE_ITEM_STREAMS)
SINGLE_PAGE_PARENTS = {CUSTOMERS: 1, BILLABLE_METRICS: 1}


@pytest.fixture
def proxy(prism_servers, open_proxy):
    return open_proxy(prism_servers.examples(), max_pages=PAGES_PER_LISTING)


def read(proxy, tmp_path, streams, **overrides):
    return run_with_files("read", config(proxy, **overrides), tmp_path, NOW, configured_catalog(dict.fromkeys(streams, "full_refresh")))


def assert_records_fit_their_schemas(run, streams):
    problems = [problem for stream in streams for record in run.records(stream) for problem in schema_problems(stream, record)]
    assert not problems, "records that break the stream schemas:\n" + "\n".join(problems[:20])


def test_given_all_five_streams_when_reading_then_every_request_keeps_to_the_spec_and_none_is_sent_twice(proxy, tmp_path):
    run = read(proxy, tmp_path, ALL_STREAMS, include_archived_customers=True)

    assert_every_request_kept_to_the_spec(proxy, run)
    sent = Counter(exchange.describe() for exchange in proxy.exchanges)
    assert [request for request, count in sent.items() if count > 1] == []
    assert all(run.records(stream) for stream in DIRECTORY_AND_LINE_ITEM_STREAMS), {stream: len(run.records(stream)) for stream in DIRECTORY_AND_LINE_ITEM_STREAMS}
    assert_records_fit_their_schemas(run, ALL_STREAMS)


def test_given_customer_ids_when_reading_the_customers_stream_then_the_listings_by_id_keep_to_the_spec(proxy, tmp_path):
    run = read(proxy, tmp_path, ("customers", "billable_metrics"), customer_ids=[LISTED_CUSTOMER, OTHER_CUSTOMER])

    assert_every_request_kept_to_the_spec(proxy, run)
    first_pages = [exchange for exchange in proxy.to(CUSTOMERS) if not exchange.page_token]
    assert sorted(str(exchange.query.get("only_archived")) for exchange in first_pages) == ["None", "['true']"]
    for exchange in first_pages:
        asked = {customer_id for value in exchange.query["customer_ids"] for customer_id in value.split(",")}
        assert asked == {LISTED_CUSTOMER, OTHER_CUSTOMER}
    # The configured customers are the sync's partitions whichever stream runs first, so each one's
    # metrics are asked for, listed or not.
    assert {exchange.path for exchange in proxy.to(BILLABLE_METRICS)} == {f"/v1/customers/{customer}/billable-metrics" for customer in (LISTED_CUSTOMER, OTHER_CUSTOMER)}
    assert_records_fit_their_schemas(run, ("customers", "billable_metrics"))


@pytest.mark.parametrize("window_size", ["DAY", "NONE"])
def test_given_current_period_when_reading_usage_then_each_request_asks_for_it_without_dates_and_keeps_to_the_spec(proxy, tmp_path, window_size):
    run = read(proxy, tmp_path, ("usage_with_groups", "customer_costs"), current_period=True, window_size=window_size)

    assert_every_request_kept_to_the_spec(proxy, run)
    assert proxy.to(USAGE) and all(exchange.body["current_period"] is True for exchange in proxy.to(USAGE))
    assert not any({"starting_on", "ending_before"} & set(exchange.body) for exchange in proxy.to(USAGE))
    assert {exchange.query["starting_on"][0] for exchange in proxy.to(COSTS)} == {"2024-01-01T00:00:00+00:00"}


@pytest.mark.parametrize("omit_optional_fields", [False, True], ids=["as-generated", "optional-fields-omitted"])
@pytest.mark.parametrize("seed", [1, 2])
def test_given_generated_responses_when_reading_the_directory_and_line_item_streams_then_every_record_fits_its_schema(prism_servers, open_proxy, tmp_path, seed, omit_optional_fields):
    proxy = open_proxy(prism_servers.generated(seed), 2, omit_optional_fields=omit_optional_fields, max_pages_by_operation=SINGLE_PAGE_PARENTS)
    # Far above Metronome's pace: these tests judge requests and records, not pacing.
    settings = {"api_token": "contract-test-token", "start_date": "2024-01-01", "base_url": proxy.url, "requests_per_second": 1000}

    run = run_with_files("read", settings, tmp_path, NOW, configured_catalog(dict.fromkeys(DIRECTORY_AND_LINE_ITEM_STREAMS, "full_refresh")))

    assert not proxy.violations(), "requests that break Metronome's spec:\n" + "\n".join(proxy.violations())
    assert run.returncode == 0 and not run.error_messages(), run.describe()
    assert run.records("customers") and run.records("billable_metrics")
    assert_records_fit_their_schemas(run, DIRECTORY_AND_LINE_ITEM_STREAMS)
