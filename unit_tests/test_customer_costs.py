"""customer_costs and customer_cost_line_items: one partition per customer, GET
/v1/customers/{id}/costs over whole UTC days, a cursor per customer; the two streams are two
views of the same pages."""

import jsonschema
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    CUSTOMER,
    OTHER_CUSTOMER,
    catalog_of,
    config,
    cost_item,
    costs_request,
    customer,
    customers_request,
    last_state,
    page,
    read_catalog,
    read_stream,
    records,
    schema,
    state_of,
)

COSTS = "customer_costs"
LINE_ITEMS = "customer_cost_line_items"
USD = "2714e483-4ff1-48e4-9e25-ac732e8f24f2"
SCHEMA = schema(COSTS)


def _cost_day_with_two_line_items(day: int):
    item = cost_item(day, cost=10.0)
    item["credit_types"][USD]["line_item_breakdown"] = [
        {"name": "CPU hours", "cost": 7.5, "group_key": "region", "group_value": "US-East"},
        {"name": "Platform fee", "cost": 2.5},
    ]
    return item


class TestCostsRecords:
    @staticmethod
    def _read_two_customers(http_mocker: HttpMocker):
        http_mocker.get(customers_request(), page([customer(), customer(OTHER_CUSTOMER, "Other")]))
        http_mocker.get(costs_request(), page([cost_item(1), {**cost_item(2), "start_timestamp": "2024-03-02T00:00:00.000Z"}]))
        http_mocker.get(costs_request(OTHER_CUSTOMER), page([cost_item(3, cost=0.1)]))
        return records(read_stream(COSTS, config()))

    @HttpMocker()
    def test_given_two_customers_when_read_then_one_partition_each_with_customer_id_added(self, http_mocker: HttpMocker = None):
        found = self._read_two_customers(http_mocker)

        assert [(record["customer_id"], record["start_timestamp"]) for record in found] == [
            (CUSTOMER, "2024-03-01T00:00:00+00:00"),
            (CUSTOMER, "2024-03-02T00:00:00+00:00"),
            (OTHER_CUSTOMER, "2024-03-03T00:00:00+00:00"),
        ]
        assert found[2]["credit_types"]["2714e483-4ff1-48e4-9e25-ac732e8f24f2"]["cost"] == 0.1

    @HttpMocker()
    def test_when_read_then_records_fit_the_schema(self, http_mocker: HttpMocker = None):
        found = self._read_two_customers(http_mocker)

        for record in found:
            jsonschema.validate(record, SCHEMA)

    @HttpMocker()
    def test_given_several_pages_when_read_then_the_dates_stay_in_the_query_with_next_page(self, http_mocker: HttpMocker = None):
        http_mocker.get(costs_request(limit=1), page([cost_item(1)], next_page="p2"))
        http_mocker.get(costs_request(limit=1, next_page="p2"), page([cost_item(2)]))

        output = read_stream(COSTS, config(customer_ids=[CUSTOMER], page_size=1))

        assert len(output.records) == 2

    @HttpMocker()
    def test_given_the_customers_stream_reads_first_when_read_then_costs_still_cover_every_configured_customer(self, http_mocker: HttpMocker = None):
        both = [CUSTOMER, OTHER_CUSTOMER]
        # Metronome lists only one of them (the other is unknown to it): costs are still asked for both.
        http_mocker.get(customers_request(customer_ids=both), page([customer()]))
        http_mocker.get(customers_request(only_archived=True, customer_ids=both), page([]))
        http_mocker.get(costs_request(), page([cost_item(1)]))
        http_mocker.get(costs_request(OTHER_CUSTOMER), page([cost_item(1)]))

        output = read_catalog(catalog_of(customers=SyncMode.full_refresh, customer_costs=SyncMode.incremental), config(customer_ids=both))

        assert [record["id"] for record in records(output, "customers")] == [CUSTOMER]
        assert sorted(record["customer_id"] for record in records(output, COSTS)) == sorted(both)


class TestCostsIncremental:
    @HttpMocker()
    def test_given_a_saved_cursor_when_read_then_lookback_is_reread_and_cursor_moves_to_the_start_of_today(self, http_mocker: HttpMocker = None):
        http_mocker.get(costs_request(starting_on="2024-03-03T00:00:00+00:00"), page([cost_item(14)]))
        state = state_of(COSTS, [{"partition": {"customer_id": CUSTOMER}, "cursor": {"end_timestamp": "2024-03-10T00:00:00+00:00"}}])

        output = read_stream(COSTS, config(customer_ids=[CUSTOMER]), state)

        assert last_state(output) == {
            "states": [{"partition": {"customer_id": CUSTOMER}, "cursor": {"end_timestamp": "2024-03-15T00:00:00+00:00"}}]
        }


class TestCostsSharedPages:
    @HttpMocker()
    def test_given_both_cost_streams_when_read_then_each_page_is_requested_once_and_line_items_add_up(self, http_mocker: HttpMocker = None):
        costs = costs_request()
        http_mocker.get(costs, page([_cost_day_with_two_line_items(1)]))

        output = read_catalog(catalog_of(customer_costs=SyncMode.incremental, customer_cost_line_items=SyncMode.incremental), config(customer_ids=[CUSTOMER]))

        http_mocker.assert_number_of_calls(costs, 1)
        [day] = records(output, COSTS)
        line_items = records(output, LINE_ITEMS)
        assert [(item["line_item_name"], item["line_item_id"]) for item in line_items] == [
            ("CPU hours", '["CPU hours","region","US-East"]'),
            ("Platform fee", '["Platform fee",null,null]'),
        ]
        assert sum(item["cost"] for item in line_items) == day["credit_types"][USD]["cost"]
        assert {item["start_timestamp"] for item in line_items} == {day["start_timestamp"]}
        assert line_items[0]["credit_type_name"] == "USD (cents)" and line_items[0]["customer_id"] == CUSTOMER


class TestLineItemsIncremental:
    @HttpMocker()
    def test_given_line_items_alone_when_read_then_they_keep_their_own_per_customer_state(self, http_mocker: HttpMocker = None):
        http_mocker.get(costs_request(), page([_cost_day_with_two_line_items(1)]))

        output = read_stream(LINE_ITEMS, config(customer_ids=[CUSTOMER]))

        assert len(output.records) == 2
        assert last_state(output) == {
            "states": [{"partition": {"customer_id": CUSTOMER}, "cursor": {"end_timestamp": "2024-03-15T00:00:00+00:00"}}]
        }
