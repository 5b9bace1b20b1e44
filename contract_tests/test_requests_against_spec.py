"""Every request the connector's command line sends, judged by Prism against Metronome's 2023 spec
while Prism answers with the spec's own examples, and every listing followed to later pages."""

import pytest

from contract_tests.conftest import NOW
from integration_tests.connector_cli import configured_catalog, run_with_files

# The ids in the spec's examples: the one customer GET /v1/customers lists, and the two billable
# metrics GET /v1/customers/{customer_id}/billable-metrics lists, one of them with a `region` group key.
LISTED_CUSTOMER = "d7abd0cd-4ae9-4db7-8676-e986a4ebd8dc"
METRIC_WITH_REGION = "9570e4f3-d1da-4b95-ba81-bd40ee002727"
METRIC_WITHOUT_GROUPS = "13117714-3f05-48e5-a6e9-a66093f13b4d"
OTHER_CUSTOMER = "04ca7e72-4229-4a6e-ab11-9f7376fccbcb"

CUSTOMERS = "GET /v1/customers"
BILLABLE_METRICS = "GET /v1/customers/{customer_id}/billable-metrics"
USAGE = "POST /v1/usage/groups"
COSTS = "GET /v1/customers/{customer_id}/costs"
STREAMS = ("usage_with_groups", "customer_costs")
# Issue 8's streams, read in test_new_streams_against_spec.py.
NEW_STREAMS = ("customers", "billable_metrics", "customer_cost_line_items")
# The finance, catalog and audit streams (test_billing_streams_against_spec.py).
BILLING_STREAMS = (
    "invoices",
    "invoice_line_items",
    "contracts",
    "balances",
    "credit_grants",
    "products",
    "rate_cards",
    "credit_types",
    "plans",
    "packages",
    "billable_metric_definitions",
    "audit_logs",
)
# The contracts-era streams, whose endpoints the 2023 spec lacks (checked against the fake and the SDK).
CONTRACTS_ERA_STREAMS = ("contract_edits", "rate_card_rates", "customer_plans", "customer_alerts", "billing_provider_configurations")
# Enough pages to send at least two follow-up requests on every listing.
PAGES_PER_LISTING = 3


@pytest.fixture
def proxy(prism_servers, open_proxy):
    return open_proxy(prism_servers.examples(), max_pages=PAGES_PER_LISTING)


def config(proxy, **overrides):
    # Far above Metronome's pace: these tests judge requests, not pacing.
    return {"api_token": "contract-test-token", "start_date": "2024-01-01", "base_url": proxy.url, "requests_per_second": 1000, **overrides}


def read(proxy, tmp_path, sync_mode="full_refresh", state=None, **overrides):
    return run_with_files("read", config(proxy, **overrides), tmp_path, NOW, configured_catalog(dict.fromkeys(STREAMS, sync_mode)), state)


def assert_every_request_kept_to_the_spec(proxy, run):
    violations = proxy.violations()
    assert not violations, "requests that break Metronome's spec:\n" + "\n".join(violations)
    assert proxy.exchanges or run.command == "discover", "the connector sent no request at all"
    assert run.returncode == 0 and not run.error_messages(), run.describe()


def follow_up_pages(proxy, operation):
    return [exchange for exchange in proxy.to(operation) if exchange.page_token]


def test_given_a_valid_config_when_checking_the_connection_then_its_one_request_keeps_to_the_spec(proxy, tmp_path):
    run = run_with_files("check", config(proxy), tmp_path, NOW)

    assert_every_request_kept_to_the_spec(proxy, run)
    assert [message["connectionStatus"]["status"] for message in run.raw_of_type("CONNECTION_STATUS")] == ["SUCCEEDED"]
    assert [exchange.describe() for exchange in proxy.exchanges] == ["GET /v1/customers?limit=1 -> 200"]


def test_given_a_valid_config_when_discovering_then_every_stream_is_listed_and_no_request_breaks_the_spec(proxy, tmp_path):
    run = run_with_files("discover", config(proxy), tmp_path, NOW)

    assert_every_request_kept_to_the_spec(proxy, run)
    [catalog] = run.raw_of_type("CATALOG")
    assert sorted(stream["name"] for stream in catalog["catalog"]["streams"]) == sorted(STREAMS + NEW_STREAMS + BILLING_STREAMS + CONTRACTS_ERA_STREAMS)


@pytest.mark.parametrize("window_size", ["HOUR", "DAY", "NONE"])
def test_given_no_customer_or_metric_ids_when_reading_by_window_size_then_every_listing_and_its_follow_up_pages_keep_to_the_spec(proxy, tmp_path, window_size):
    run = read(proxy, tmp_path, window_size=window_size)

    assert_every_request_kept_to_the_spec(proxy, run)
    assert all(follow_up_pages(proxy, operation) for operation in (CUSTOMERS, BILLABLE_METRICS, USAGE, COSTS))
    assert {exchange.body["window_size"] for exchange in proxy.to(USAGE)} == {window_size}
    assert len(run.records("usage_with_groups")) == proxy.items_served(USAGE) > 0
    assert len(run.records("customer_costs")) == proxy.items_served(COSTS) > 0


def test_given_archived_customers_included_when_reading_then_both_customer_listings_keep_to_the_spec(proxy, tmp_path):
    run = read(proxy, tmp_path, include_archived_customers=True)

    assert_every_request_kept_to_the_spec(proxy, run)
    first_pages = [exchange for exchange in proxy.to(CUSTOMERS) if not exchange.page_token]
    assert [exchange.query.get("only_archived") for exchange in first_pages] == [None, ["true"]]
    assert any(exchange.query.get("only_archived") == ["true"] for exchange in follow_up_pages(proxy, CUSTOMERS))


def test_given_customer_and_metric_ids_when_reading_then_only_usage_and_costs_are_requested_and_keep_to_the_spec(proxy, tmp_path):
    run = read(proxy, tmp_path, customer_ids=[LISTED_CUSTOMER, OTHER_CUSTOMER], billable_metric_ids=[METRIC_WITHOUT_GROUPS], page_size=1, end_date="2024-01-05")

    assert_every_request_kept_to_the_spec(proxy, run)
    assert {exchange.operation for exchange in proxy.exchanges} == {USAGE, COSTS}
    assert {(exchange.body["customer_id"], exchange.body["billable_metric_id"]) for exchange in proxy.to(USAGE)} == {
        (LISTED_CUSTOMER, METRIC_WITHOUT_GROUPS),
        (OTHER_CUSTOMER, METRIC_WITHOUT_GROUPS),
    }
    assert {exchange.query["limit"][0] for exchange in proxy.exchanges} == {"1"}
    assert {exchange.body["ending_before"] for exchange in proxy.to(USAGE)} == {"2024-01-05T00:00:00+00:00"}


@pytest.mark.parametrize("values", [None, ["US-East", "US-West"]], ids=["all-values", "some-values"])
def test_given_group_by_when_reading_then_metrics_with_the_key_are_read_grouped_and_every_request_keeps_to_the_spec(proxy, tmp_path, values):
    group_by = {"key": "region", **({"values": values} if values else {})}

    run = read(proxy, tmp_path, group_by=group_by)

    assert_every_request_kept_to_the_spec(proxy, run)
    sent = {(exchange.body["billable_metric_id"], str(exchange.body.get("group_by"))) for exchange in proxy.to(USAGE)}
    assert sent == {(METRIC_WITH_REGION, str(group_by)), (METRIC_WITHOUT_GROUPS, "None")}


def test_given_metric_ids_and_group_by_when_reading_then_metrics_are_listed_for_their_group_keys_and_every_request_keeps_to_the_spec(proxy, tmp_path):
    run = read(proxy, tmp_path, customer_ids=[LISTED_CUSTOMER], billable_metric_ids=[METRIC_WITH_REGION], group_by={"key": "region"})

    assert_every_request_kept_to_the_spec(proxy, run)
    assert follow_up_pages(proxy, BILLABLE_METRICS)
    assert {str(exchange.body.get("group_by")) for exchange in proxy.to(USAGE)} == {str({"key": "region"})}


def test_given_saved_cursors_when_reading_incrementally_then_the_resumed_ranges_keep_to_the_spec(proxy, tmp_path):
    state = [
        {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": "customer_costs"},
                "stream_state": {"states": [{"partition": {"customer_id": LISTED_CUSTOMER}, "cursor": {"end_timestamp": "2024-01-08T00:00:00+00:00"}}]},
            },
        }
    ]

    run = read(proxy, tmp_path, sync_mode="incremental", state=state, customer_ids=[LISTED_CUSTOMER], billable_metric_ids=[METRIC_WITHOUT_GROUPS], lookback_days=2)

    assert_every_request_kept_to_the_spec(proxy, run)
    assert {exchange.query["starting_on"][0] for exchange in proxy.to(COSTS)} == {"2024-01-06T00:00:00+00:00"}
    assert {exchange.body["starting_on"] for exchange in proxy.to(USAGE)} == {"2024-01-01T00:00:00+00:00"}
    assert run.raw_of_type("STATE")


def test_given_an_empty_group_value_in_the_config_when_reading_then_no_request_breaks_the_spec(proxy, tmp_path):
    read(proxy, tmp_path, group_by={"key": "region", "values": ["US-East", ""]})

    violations = proxy.violations()
    # The spec's group_by.values items have minLength 1: the connector may refuse the config or
    # drop the value, but must not send it (it did until 8241d4e).
    assert not violations, "requests that break Metronome's spec:\n" + "\n".join(violations)
