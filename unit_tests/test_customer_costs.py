import json
from pathlib import Path

import jsonschema
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker

from source_metronome import SourceMetronome
from unit_tests.builders import CUSTOMER, OTHER_CUSTOMER, catalog, config, cost_item, costs_request, customer, customers_request, page, state_of

STREAM = "customer_costs"
SCHEMA = json.loads((Path(__file__).parents[1] / "source_metronome" / "schemas" / f"{STREAM}.json").read_text())


@HttpMocker()
def test_given_customers_when_read_then_one_partition_each_with_aligned_range_and_customer_id_added(http_mocker: HttpMocker = None):
    http_mocker.get(customers_request(), page([customer(), customer(OTHER_CUSTOMER, "Other")]))
    http_mocker.get(costs_request(), page([cost_item(1), {**cost_item(2), "start_timestamp": "2024-03-02T00:00:00.000Z"}]))
    http_mocker.get(costs_request(OTHER_CUSTOMER), page([cost_item(3, cost=0.1)]))

    output = read(SourceMetronome(), config(), catalog(STREAM))

    records = [message.record.data for message in output.records]
    assert [(record["customer_id"], record["start_timestamp"]) for record in records] == [
        (CUSTOMER, "2024-03-01T00:00:00+00:00"),
        (CUSTOMER, "2024-03-02T00:00:00+00:00"),
        (OTHER_CUSTOMER, "2024-03-03T00:00:00+00:00"),
    ]
    assert records[2]["credit_types"]["2714e483-4ff1-48e4-9e25-ac732e8f24f2"]["cost"] == 0.1
    for record in records:
        jsonschema.validate(record, SCHEMA)


@HttpMocker()
def test_given_several_pages_when_read_then_starting_on_and_ending_before_stay_with_next_page(http_mocker: HttpMocker = None):
    http_mocker.get(costs_request(limit=1), page([cost_item(1)], next_page="p2"))
    http_mocker.get(costs_request(limit=1, next_page="p2"), page([cost_item(2)]))

    output = read(SourceMetronome(), config(customer_ids=[CUSTOMER], page_size=1), catalog(STREAM))

    assert len(output.records) == 2


@HttpMocker()
def test_given_saved_cursor_when_incremental_read_then_rereads_lookback_and_moves_cursor_to_start_of_today(http_mocker: HttpMocker = None):
    http_mocker.get(costs_request(starting_on="2024-03-03T00:00:00+00:00"), page([cost_item(14)]))
    state = state_of(STREAM, [{"partition": {"customer_id": CUSTOMER}, "cursor": {"end_timestamp": "2024-03-10T00:00:00+00:00"}}])

    output = read(SourceMetronome(), config(customer_ids=[CUSTOMER]), catalog(STREAM), state)

    assert output.most_recent_state.stream_state.__dict__ == {
        "states": [{"partition": {"customer_id": CUSTOMER}, "cursor": {"end_timestamp": "2024-03-15T00:00:00+00:00"}}]
    }
