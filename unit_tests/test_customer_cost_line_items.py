"""customer_cost_line_items: each line item of each day of GET /v1/customers/{id}/costs, from the
pages the customer_costs stream reads (test_customer_costs.py has the requests), with a cursor per
customer of its own. How a line item gets its line_item_id: test_records.py."""

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
    last_state,
    mock_every_customer,
    page,
    read_catalog,
    read_stream,
    records,
)

COSTS = "customer_costs"
LINE_ITEMS = "customer_cost_line_items"
USD = "2714e483-4ff1-48e4-9e25-ac732e8f24f2"


def _cost_day_with_two_line_items(day: int):
    item = cost_item(day, cost=10.0)
    item["credit_types"][USD]["line_item_breakdown"] = [
        {"name": "CPU hours", "cost": 7.5, "group_key": "region", "group_value": "US-East"},
        {"name": "Platform fee", "cost": 2.5},
    ]
    return item


class TestIncremental:
    @HttpMocker()
    def test_given_line_items_alone_when_read_then_they_keep_their_own_per_customer_state(self, http_mocker: HttpMocker = None):
        http_mocker.get(costs_request(), page([_cost_day_with_two_line_items(1)]))

        output = read_stream(LINE_ITEMS, config(customer_ids=[CUSTOMER]))

        assert len(output.records) == 2
        assert last_state(output) == {
            "states": [{"partition": {"customer_id": CUSTOMER}, "cursor": {"end_timestamp": "2024-03-15T00:00:00+00:00"}}]
        }


class TestFullRefresh:
    @HttpMocker()
    def test_given_two_customers_when_read_alone_then_each_line_item_names_its_customer_day_and_credit_type(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer(), customer(OTHER_CUSTOMER, "Other")])
        http_mocker.get(costs_request(), page([_cost_day_with_two_line_items(1)]))
        http_mocker.get(costs_request(OTHER_CUSTOMER), page([cost_item(2, cost=9.5)]))

        output = read_stream(LINE_ITEMS, config(max_concurrency=1), sync_mode=SyncMode.full_refresh)

        assert [(item["customer_id"], item["start_timestamp"], item["line_item_name"], item["cost"]) for item in records(output)] == [
            (CUSTOMER, "2024-03-01T00:00:00+00:00", "CPU hours", 7.5),
            (CUSTOMER, "2024-03-01T00:00:00+00:00", "Platform fee", 2.5),
            (OTHER_CUSTOMER, "2024-03-02T00:00:00+00:00", "CPU hours", 9.5),
        ]
        assert {item["credit_type_id"] for item in records(output)} == {USD}
        assert last_state(output) == {"states": []}, "a full refresh saves no cursors"


class TestSharedPagesWithCustomerCosts:
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
