"""customer_costs: one partition per customer, GET /v1/customers/{id}/costs over whole UTC days, a
cursor per customer; archived customers read in a full refresh, and in an incremental sync when
include_archived_customers says so. customer_cost_line_items are another view of the same pages
(test_customer_cost_line_items.py)."""

import jsonschema
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    CUSTOMER,
    OTHER_CUSTOMER,
    archived_customer,
    catalog_of,
    config,
    cost_item,
    costs_request,
    customer,
    customers_request,
    error,
    last_state,
    mock_every_customer,
    page,
    read_catalog,
    read_stream,
    records,
    schema,
    state_of,
)

COSTS = "customer_costs"
SCHEMA = schema(COSTS)



class TestRecords:
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


class TestIncremental:
    @HttpMocker()
    def test_given_a_saved_cursor_when_read_then_lookback_is_reread_and_cursor_moves_to_the_start_of_today(self, http_mocker: HttpMocker = None):
        http_mocker.get(costs_request(starting_on="2024-03-03T00:00:00+00:00"), page([cost_item(14)]))
        state = state_of(COSTS, [{"partition": {"customer_id": CUSTOMER}, "cursor": {"end_timestamp": "2024-03-10T00:00:00+00:00"}}])

        output = read_stream(COSTS, config(customer_ids=[CUSTOMER]), state)

        assert last_state(output) == {
            "states": [{"partition": {"customer_id": CUSTOMER}, "cursor": {"end_timestamp": "2024-03-15T00:00:00+00:00"}}]
        }


class TestFullRefresh:
    @HttpMocker()
    def test_given_include_archived_off_when_synced_as_full_refresh_then_the_archived_customer_is_read(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer()], [archived_customer(OTHER_CUSTOMER)])
        http_mocker.get(costs_request(CUSTOMER), page([cost_item(1)]))
        http_mocker.get(costs_request(OTHER_CUSTOMER), page([cost_item(2, cost=9.5)]))

        output = read_catalog(
            catalog_of(customer_costs=SyncMode.full_refresh, customer_cost_line_items=SyncMode.full_refresh),
            config(include_archived_customers=False, max_concurrency=1),
        )

        assert [(record["customer_id"], record["start_timestamp"]) for record in records(output, COSTS)] == [
            (CUSTOMER, "2024-03-01T00:00:00+00:00"),
            (OTHER_CUSTOMER, "2024-03-02T00:00:00+00:00"),
        ]
        assert [(record["customer_id"], record["cost"]) for record in records(output, "customer_cost_line_items")] == [(CUSTOMER, 123.45), (OTHER_CUSTOMER, 9.5)]
        assert not output.errors


class TestArchivedCustomersInIncrementalSyncs:
    @HttpMocker()
    def test_given_include_archived_off_when_synced_incrementally_then_the_archived_customer_is_not_read(self, http_mocker: HttpMocker = None):
        # Mocked as for the full refresh above: the mocker fails the test on any request not made, so
        # neither the archived list nor the archived customer's costs may be asked for.
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(costs_request(CUSTOMER), page([cost_item(1)]))

        output = read_catalog(catalog_of(customer_costs=SyncMode.incremental), config(include_archived_customers=False, max_concurrency=1))

        assert [record["customer_id"] for record in records(output, COSTS)] == [CUSTOMER]
        assert not output.errors

    @HttpMocker()
    def test_given_the_default_config_when_read_then_archived_customers_are_not_even_listed(self, http_mocker: HttpMocker = None):
        # The mocker fails the sync on any request not set up here: the archived list is not asked for.
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(costs_request(), page([cost_item(1)]))

        output = read_catalog(catalog_of(customer_costs=SyncMode.incremental), config())

        assert [record["customer_id"] for record in records(output, COSTS)] == [CUSTOMER]
        assert not output.errors

    @HttpMocker()
    def test_given_a_config_saved_with_include_archived_when_read_then_archived_customers_are_read(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([archived_customer(OTHER_CUSTOMER)]))
        for customer_id in (CUSTOMER, OTHER_CUSTOMER):
            http_mocker.get(costs_request(customer_id), page([cost_item(1)]))

        output = read_catalog(catalog_of(customer_costs=SyncMode.incremental), {**config(max_concurrency=1), "include_archived_customers": True})

        assert [record["customer_id"] for record in records(output, COSTS)] == [CUSTOMER, OTHER_CUSTOMER]


class TestRefusedPartitions:
    @HttpMocker()
    def test_given_costs_refused_for_one_customer_when_read_then_it_is_skipped_with_a_summary_and_others_are_read(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer(), customer(OTHER_CUSTOMER, "Unique plan")]))
        http_mocker.get(costs_request(), page([cost_item(1)]))
        http_mocker.get(costs_request(OTHER_CUSTOMER), error(400, "Costs are not supported for customers with a UNIQUE billable metric"))

        output = read_stream(COSTS, config())

        assert output.errors == []
        assert [message.record.data["customer_id"] for message in output.records] == [CUSTOMER]
        assert output.is_in_logs(f"skipping customer_id {OTHER_CUSTOMER}: Metronome answered 400")
        assert output.is_in_logs("skipped 1 partitions that Metronome refused")
        assert last_state(output) == {"states": [{"partition": {"customer_id": CUSTOMER}, "cursor": {"end_timestamp": "2024-03-15T00:00:00+00:00"}}]}
