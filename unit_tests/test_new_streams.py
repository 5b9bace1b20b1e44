from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import discover, read
from airbyte_cdk.test.mock_http import HttpMocker

from source_metronome import SourceMetronome
from unit_tests.builders import (
    CUSTOMER,
    METRIC,
    OTHER_CUSTOMER,
    OTHER_METRIC,
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

USAGE = "usage_with_groups"
COSTS = "customer_costs"
LINE_ITEMS = "customer_cost_line_items"
USD = "2714e483-4ff1-48e4-9e25-ac732e8f24f2"


def _catalog(**sync_modes: SyncMode):
    builder = CatalogBuilder()
    for stream, sync_mode in sync_modes.items():
        builder.with_stream(stream, sync_mode)
    return builder.build()


def _records(output, stream):
    return [message.record.data for message in output.records if message.record.stream == stream]


def _cost_day_with_two_line_items(day: int):
    item = cost_item(day, cost=10.0)
    item["credit_types"][USD]["line_item_breakdown"] = [
        {"name": "CPU hours", "cost": 7.5, "group_key": "region", "group_value": "US-East"},
        {"name": "Platform fee", "cost": 2.5},
    ]
    return item


@HttpMocker()
def test_given_both_cost_streams_when_read_then_each_costs_page_is_requested_once_and_line_items_add_up(http_mocker: HttpMocker = None):
    costs = costs_request()
    http_mocker.get(costs, page([_cost_day_with_two_line_items(1)]))

    output = read(SourceMetronome(), config(customer_ids=[CUSTOMER]), _catalog(customer_costs=SyncMode.incremental, customer_cost_line_items=SyncMode.incremental))

    http_mocker.assert_number_of_calls(costs, 1)
    [day] = _records(output, COSTS)
    line_items = _records(output, LINE_ITEMS)
    assert [(item["line_item_name"], item["line_item_id"]) for item in line_items] == [
        ("CPU hours", '["CPU hours","region","US-East"]'),
        ("Platform fee", '["Platform fee",null,null]'),
    ]
    assert sum(item["cost"] for item in line_items) == day["credit_types"][USD]["cost"]
    assert {item["start_timestamp"] for item in line_items} == {day["start_timestamp"]}
    assert line_items[0]["credit_type_name"] == "USD (cents)" and line_items[0]["customer_id"] == CUSTOMER


@HttpMocker()
def test_given_line_items_alone_when_incremental_read_then_they_have_their_own_per_customer_state(http_mocker: HttpMocker = None):
    http_mocker.get(costs_request(), page([_cost_day_with_two_line_items(1)]))

    output = read(SourceMetronome(), config(customer_ids=[CUSTOMER]), catalog(LINE_ITEMS))

    assert len(output.records) == 2
    assert output.most_recent_state.stream_state.__dict__ == {
        "states": [{"partition": {"customer_id": CUSTOMER}, "cursor": {"end_timestamp": "2024-03-15T00:00:00+00:00"}}]
    }


@HttpMocker()
def test_given_usage_customers_and_metrics_streams_when_read_then_each_list_is_requested_once(http_mocker: HttpMocker = None):
    customers, metrics = customers_request(), metrics_request()
    http_mocker.get(customers, page([customer()]))
    http_mocker.get(metrics, page([metric(), metric(OTHER_METRIC, "Storage")]))
    http_mocker.post(usage_request(), page([usage_item(1)]))
    http_mocker.post(usage_request(metric_id=OTHER_METRIC), page([usage_item(1)]))

    output = read(
        SourceMetronome(), config(), _catalog(usage_with_groups=SyncMode.incremental, customers=SyncMode.full_refresh, billable_metrics=SyncMode.full_refresh)
    )

    http_mocker.assert_number_of_calls(customers, 1)
    http_mocker.assert_number_of_calls(metrics, 1)
    assert [record["id"] for record in _records(output, "customers")] == [CUSTOMER]
    assert [(record["customer_id"], record["id"], record["name"]) for record in _records(output, "billable_metrics")] == [
        (CUSTOMER, METRIC, "CPU hours"),
        (CUSTOMER, OTHER_METRIC, "Storage"),
    ]
    assert len(_records(output, USAGE)) == 2


@HttpMocker()
def test_given_configured_customers_when_customers_stream_read_then_they_are_listed_by_id_active_and_archived(http_mocker: HttpMocker = None):
    http_mocker.get(customers_request(customer_ids=[CUSTOMER]), page([]))
    http_mocker.get(customers_request(only_archived=True, customer_ids=[CUSTOMER]), page([{**customer(), "archived_at": "2024-02-01T00:00:00+00:00"}]))

    output = read(SourceMetronome(), config(customer_ids=[CUSTOMER]), catalog("customers", sync_mode=SyncMode.full_refresh))

    assert [record["archived_at"] for record in _records(output, "customers")] == ["2024-02-01T00:00:00+00:00"]


@HttpMocker()
def test_given_configured_customers_when_the_customers_stream_reads_first_then_costs_still_read_every_configured_customer(http_mocker: HttpMocker = None):
    both = [CUSTOMER, OTHER_CUSTOMER]
    # Metronome lists only one of them (the other is unknown to it): costs are still asked for both.
    http_mocker.get(customers_request(customer_ids=both), page([customer()]))
    http_mocker.get(customers_request(only_archived=True, customer_ids=both), page([]))
    http_mocker.get(costs_request(), page([cost_item(1)]))
    http_mocker.get(costs_request(OTHER_CUSTOMER), page([cost_item(1)]))

    output = read(SourceMetronome(), config(customer_ids=both), _catalog(customers=SyncMode.full_refresh, customer_costs=SyncMode.incremental))

    assert [record["id"] for record in _records(output, "customers")] == [CUSTOMER]
    assert sorted(record["customer_id"] for record in _records(output, COSTS)) == sorted(both)


@HttpMocker()
def test_given_group_keys_when_read_then_newer_grouping_is_sent_and_metrics_without_that_key_set_are_read_ungrouped(http_mocker: HttpMocker = None):
    http_mocker.get(customers_request(), page([customer()]))
    http_mocker.get(
        metrics_request(),
        page([metric(group_keys=[["region"], ["tier"], ["region", "tier"]]), metric(OTHER_METRIC, "Storage", group_keys=[["region"], ["tier"]])]),
    )
    grouped_item = {**usage_item(1), "group_key": None, "group_value": None, "group": {"tier": "pro", "region": "US-East"}}
    http_mocker.post(usage_request(group_key=["tier", "region"], group_filters={"region": ["US-East"]}), page([grouped_item]))
    http_mocker.post(usage_request(metric_id=OTHER_METRIC), page([usage_item(1)]))

    output = read(SourceMetronome(), config(group_keys=["tier", "region"], group_filters={"region": ["US-East"]}), catalog(USAGE))

    assert [record["group_id"] for record in _records(output, USAGE)] == ['{"region":"US-East","tier":"pro"}', "{}"]
    assert output.is_in_logs(r"Storage \(13117714-3f05-48e5-a6e9-a66093f13b4d\) has no group key \['tier', 'region'\]; reading it ungrouped")


def test_given_group_by_and_group_keys_when_read_then_config_error_names_both():
    output = read(SourceMetronome(), config(group_by={"key": "region"}, group_keys=["region"]), catalog(USAGE), expecting_exception=True)

    [trace] = output.errors
    assert trace.trace.error.failure_type.value == "config_error"
    assert "group_by and group_keys/group_filters cannot be set together" in trace.trace.error.message


@HttpMocker()
def test_given_current_period_when_read_then_no_dates_are_sent_and_customers_without_a_plan_are_skipped(http_mocker: HttpMocker = None):
    http_mocker.get(customers_request(), page([customer()]))
    http_mocker.get(metrics_request(), page([metric(), metric(OTHER_METRIC, "Storage")]))
    http_mocker.post(usage_request(current_period=True), page([usage_item(1)]))
    http_mocker.post(usage_request(metric_id=OTHER_METRIC, current_period=True), error(400, "Customer has no active plan or contract"))

    output = read(SourceMetronome(), config(current_period=True), catalog(USAGE, sync_mode=SyncMode.full_refresh))

    assert len(_records(output, USAGE)) == 1
    assert output.is_in_logs("Customer has no active plan or contract")


def test_given_current_period_when_discover_then_usage_is_full_refresh_only():
    output = discover(SourceMetronome(), config(current_period=True))

    usage = next(stream for stream in output.catalog.catalog.streams if stream.name == USAGE)
    assert [mode.value for mode in usage.supported_sync_modes] == ["full_refresh"]
    assert "current billing period" in usage.json_schema["description"]


def test_when_discover_then_new_streams_have_their_keys_and_modes():
    output = discover(SourceMetronome(), config())

    streams = {stream.name: stream for stream in output.catalog.catalog.streams}
    assert streams["customers"].source_defined_primary_key == [["id"]]
    assert streams["billable_metrics"].source_defined_primary_key == [["customer_id"], ["id"]]
    assert [mode.value for mode in streams["customers"].supported_sync_modes] == ["full_refresh"]
    line_items = streams[LINE_ITEMS]
    assert line_items.source_defined_primary_key == [["customer_id"], ["start_timestamp"], ["credit_type_id"], ["line_item_id"]]
    assert line_items.default_cursor_field == ["end_timestamp"]
