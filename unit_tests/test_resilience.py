"""What a sync does when Metronome or the network misbehaves: retry, skip a partition, or stop."""

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse

from source_metronome import SourceMetronome
from unit_tests.builders import (
    CUSTOMER,
    METRIC,
    OTHER_CUSTOMER,
    TOKEN,
    catalog,
    config,
    cost_item,
    costs_request,
    customer,
    customers_request,
    error,
    metric,
    metrics_request,
    page,
    usage_item,
    usage_request,
)

COSTS = "customer_costs"
USAGE = "usage_with_groups"


@pytest.fixture(autouse=True)
def waits(monkeypatch):
    """Backoff waits are recorded instead of slept (with the request pacer's waits, all under a second)."""
    recorded = []
    monkeypatch.setattr("source_metronome.http_exchange.time.sleep", recorded.append)
    return recorded


def _cursors(output):
    return {tuple(entry["partition"].values()): entry["cursor"] for entry in output.most_recent_state.stream_state.__dict__["states"]}


@HttpMocker()
def test_given_costs_refused_for_one_customer_when_read_then_it_is_skipped_with_a_summary_and_others_are_read(http_mocker: HttpMocker = None):
    http_mocker.get(customers_request(), page([customer(), customer(OTHER_CUSTOMER, "Unique plan")]))
    http_mocker.get(costs_request(), page([cost_item(1)]))
    http_mocker.get(costs_request(OTHER_CUSTOMER), error(400, "Costs are not supported for customers with a UNIQUE billable metric"))

    output = read(SourceMetronome(), config(), catalog(COSTS))

    assert output.errors == []
    assert [message.record.data["customer_id"] for message in output.records] == [CUSTOMER]
    assert output.is_in_logs(f"skipping customer_id {OTHER_CUSTOMER}: Metronome answered 400")
    assert output.is_in_logs("skipped 1 partitions that Metronome refused")
    assert _cursors(output) == {(CUSTOMER,): {"end_timestamp": "2024-03-15T00:00:00+00:00"}}


@HttpMocker()
def test_given_customer_vanished_mid_sync_when_read_then_its_partition_is_skipped(http_mocker: HttpMocker = None):
    http_mocker.post(usage_request(), error(404, "Customer not found"))
    http_mocker.post(usage_request(OTHER_CUSTOMER), page([usage_item(2)]))

    output = read(SourceMetronome(), config(customer_ids=[CUSTOMER, OTHER_CUSTOMER], billable_metric_ids=[METRIC]), catalog(USAGE))

    assert output.errors == []
    assert len(output.records) == 1
    assert list(_cursors(output)) == [(OTHER_CUSTOMER, METRIC)]


@HttpMocker()
def test_given_server_errors_then_success_when_read_then_retried_with_backoff_and_records_returned(http_mocker: HttpMocker = None):
    http_mocker.get(costs_request(), [error(503, "unavailable"), error(429, "slow down", {"Retry-After": "2"}), page([cost_item(1)])])

    output = read(SourceMetronome(), config(customer_ids=[CUSTOMER]), catalog(COSTS))

    assert len(output.records) == 1
    assert output.errors == []


def test_given_rate_limited_with_retry_after_when_read_then_waits_as_told(waits):
    with HttpMocker() as http_mocker:
        http_mocker.get(costs_request(), [error(429, "slow down", {"Retry-After": "2"}), page([cost_item(1)])])
        output = read(SourceMetronome(), config(customer_ids=[CUSTOMER]), catalog(COSTS))

    assert len(output.records) == 1
    long_waits = [wait for wait in waits if wait >= 1]
    assert len(long_waits) == 1 and 1.9 < long_waits[0] <= 2, "the wait Metronome asked for, without the CDK's extra second"


@HttpMocker()
def test_given_truncated_body_once_when_read_then_page_is_fetched_again_and_nothing_partial_is_emitted(http_mocker: HttpMocker = None):
    http_mocker.get(costs_request(), [HttpResponse('{"data": [{"start_timestamp": "2024-03-01T00:00:00+00:00"', 200), page([cost_item(1), cost_item(2)])])

    output = read(SourceMetronome(), config(customer_ids=[CUSTOMER]), catalog(COSTS))

    assert [message.record.data["start_timestamp"][:10] for message in output.records] == ["2024-03-01", "2024-03-02"]


@HttpMocker()
def test_given_proxy_keeps_answering_html_when_read_then_stream_fails_naming_the_partition_and_state_does_not_move(http_mocker: HttpMocker = None):
    http_mocker.get(costs_request(), HttpResponse("<html>502 Bad Gateway</html>", 200))

    output = read(SourceMetronome(), config(customer_ids=[CUSTOMER]), catalog(COSTS), expecting_exception=True)

    messages = [error.trace.error.message for error in output.errors]
    assert any(f"customer_costs stopped at customer_id {CUSTOMER}" in message and "not a page of data" in message for message in messages), messages
    assert output.records == []
    assert not any(message.state.stream.stream_state.__dict__.get("states") for message in output.state_messages)


@HttpMocker()
def test_given_token_revoked_mid_sync_when_read_then_sync_stops_with_config_error_and_no_token_in_output(http_mocker: HttpMocker = None):
    http_mocker.get(costs_request(), page([cost_item(1)]))
    http_mocker.get(costs_request(OTHER_CUSTOMER), error(401, "Token revoked"))

    # One reader, so the first customer is read before the second: with more, a request waiting
    # for its turn is never sent once another was refused the token, and which one that is varies.
    sequential = config(customer_ids=[CUSTOMER, OTHER_CUSTOMER], max_concurrency=1)
    output = read(SourceMetronome(), sequential, catalog(COSTS), expecting_exception=True)

    first_error = output.errors[0].trace.error
    assert first_error.failure_type == FailureType.config_error
    assert first_error.message == "Metronome rejected the API token (401): Token revoked"
    assert _cursors(output) == {(CUSTOMER,): {"end_timestamp": "2024-03-15T00:00:00+00:00"}}
    assert all(TOKEN not in line for line in map(str, output._messages))


@HttpMocker()
def test_given_customer_vanished_before_its_metrics_were_listed_when_read_then_it_is_skipped(http_mocker: HttpMocker = None):
    http_mocker.get(customers_request(), page([customer(), customer(OTHER_CUSTOMER, "Deleted")]))
    http_mocker.get(metrics_request(), page([metric()]))
    http_mocker.get(metrics_request(OTHER_CUSTOMER), error(404, "Customer not found"))
    http_mocker.post(usage_request(), page([usage_item(1)]))

    output = read(SourceMetronome(), config(), catalog(USAGE))

    assert output.errors == []
    assert len(output.records) == 1
    assert output.is_in_logs(f"Skipping customer {OTHER_CUSTOMER}: Metronome answered 404")


@HttpMocker()
def test_given_server_errors_that_never_stop_when_read_then_retries_are_bounded_and_the_error_names_endpoint_partition_and_status(http_mocker: HttpMocker = None):
    request = costs_request()
    http_mocker.get(request, error(503, "Service unavailable"))

    output = read(SourceMetronome(), config(customer_ids=[CUSTOMER]), catalog(COSTS), expecting_exception=True)

    message = output.errors[0].trace.error.message
    assert f"customer_costs stopped at customer_id {CUSTOMER}" in message
    assert f"Metronome answered 503 to GET /v1/customers/{CUSTOMER}/costs: Service unavailable" in message
    http_mocker.assert_number_of_calls(request, 9)  # the first attempt and 8 retries
