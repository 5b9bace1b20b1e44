"""customers and billable_metrics: the lists read to find the partitions, emitted as streams; a
list is requested once per sync however many streams need it."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    CUSTOMER,
    METRIC,
    OTHER_METRIC,
    catalog,
    catalog_of,
    config,
    customer,
    customers_request,
    metric,
    metrics_request,
    page,
    read_catalog,
    records,
    usage_item,
    usage_request,
)


class TestDirectoryShared:
    @HttpMocker()
    def test_given_usage_customers_and_metrics_streams_when_read_then_each_list_is_requested_once(self, http_mocker: HttpMocker = None):
        customers, metrics = customers_request(), metrics_request()
        http_mocker.get(customers, page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([]))
        http_mocker.get(metrics, page([metric(), metric(OTHER_METRIC, "Storage")]))
        http_mocker.post(usage_request(), page([usage_item(1)]))
        http_mocker.post(usage_request(metric_id=OTHER_METRIC), page([usage_item(1)]))

        output = read_catalog(
            catalog_of(usage_with_groups=SyncMode.incremental, customers=SyncMode.full_refresh, billable_metrics=SyncMode.full_refresh), config()
        )

        http_mocker.assert_number_of_calls(customers, 1)
        http_mocker.assert_number_of_calls(metrics, 1)
        assert [record["id"] for record in records(output, "customers")] == [CUSTOMER]
        assert [(record["customer_id"], record["id"], record["name"]) for record in records(output, "billable_metrics")] == [
            (CUSTOMER, METRIC, "CPU hours"),
            (CUSTOMER, OTHER_METRIC, "Storage"),
        ]
        assert len(records(output, "usage_with_groups")) == 2


class TestCustomersConfigured:
    @HttpMocker()
    def test_given_configured_customers_when_read_then_they_are_listed_by_id_active_and_archived(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(customer_ids=[CUSTOMER]), page([]))
        http_mocker.get(customers_request(only_archived=True, customer_ids=[CUSTOMER]), page([{**customer(), "archived_at": "2024-02-01T00:00:00+00:00"}]))

        output = read_catalog(catalog("customers", sync_mode=SyncMode.full_refresh), config(customer_ids=[CUSTOMER]))

        assert [record["archived_at"] for record in records(output, "customers")] == ["2024-02-01T00:00:00+00:00"]
