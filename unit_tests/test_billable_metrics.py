"""billable_metrics: each customer's billable metrics, the list the usage stream reads to find its
partitions, emitted as it was listed. GET /v1/customers/{customer_id}/billable-metrics with
include_archived=true (without it Metronome leaves archived metrics out), read whole every sync."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    ARCHIVED_AT,
    CUSTOMER,
    METRIC,
    OTHER_CUSTOMER,
    OTHER_METRIC,
    catalog_of,
    config,
    customer,
    customers_request,
    metric,
    metrics_request,
    mock_every_customer,
    page,
    read_catalog,
    read_stream,
    records,
    usage_item,
    usage_request,
)

class TestFullRefresh:
    @HttpMocker()
    def test_given_two_customers_and_two_pages_when_read_then_each_metric_is_emitted_with_its_customer(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer(), customer(OTHER_CUSTOMER, "Other")])
        http_mocker.get(metrics_request(), page([metric(group_keys=[["region"]])], next_page="m2"))
        http_mocker.get(metrics_request(next_page="m2"), page([metric(OTHER_METRIC, "Storage")]))
        http_mocker.get(metrics_request(OTHER_CUSTOMER), page([metric()]))

        output = read_stream("billable_metrics", config(max_concurrency=1), sync_mode=SyncMode.full_refresh)

        assert [(record["customer_id"], record["id"], record["name"]) for record in records(output)] == [
            (CUSTOMER, METRIC, "CPU hours"),
            (CUSTOMER, OTHER_METRIC, "Storage"),
            (OTHER_CUSTOMER, METRIC, "CPU hours"),
        ]
        assert records(output)[0]["group_keys"] == [["region"]]
        assert not output.errors


class TestArchivedMetrics:
    @HttpMocker()
    def test_given_an_archived_metric_when_read_then_it_is_listed_with_archived_at_and_its_usage_is_read(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([]))
        # metrics_request asks with include_archived=true: without it Metronome leaves archived metrics out.
        http_mocker.get(metrics_request(), page([metric(), {**metric(OTHER_METRIC, "Retired"), "archived_at": ARCHIVED_AT}]))
        http_mocker.post(usage_request(), page([usage_item(1)]))
        http_mocker.post(usage_request(metric_id=OTHER_METRIC), page([usage_item(1, value=7.0), usage_item(2, value=3.0)]))

        output = read_catalog(catalog_of(billable_metrics=SyncMode.full_refresh, usage_with_groups=SyncMode.incremental), config())

        assert [(record["id"], record.get("archived_at")) for record in records(output, "billable_metrics")] == [(METRIC, None), (OTHER_METRIC, ARCHIVED_AT)]
        retired = [record["value"] for record in records(output, "usage_with_groups") if record["billable_metric_id"] == OTHER_METRIC]
        assert retired == [7.0, 3.0]
