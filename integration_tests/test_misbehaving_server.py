"""The connector against a misbehaving fake Metronome: faults, rate limits and broken pagination."""

import pytest

from integration_tests.fake_metronome import COSTS, USAGE, DatasetOptions, FaultProbabilities, expected_cursors, expected_records
from integration_tests.record_checks import assert_cursors_match, assert_records_match, assert_records_within

SMALL = DatasetOptions(customers=3, metrics_per_customer=3, days_of_history=10)
SETTINGS = {"start_date": "2024-03-10", "page_size": 3}


def assert_matches_ground_truth(fake, run, settings=SETTINGS):
    expected = expected_records(fake.dataset, settings)
    for stream in (USAGE, COSTS):
        assert_records_match(stream, run.records(stream), expected[stream])


def test_given_5xx_dropped_connections_and_truncated_bodies_when_syncing_then_retries_recover_every_record(start_fake, sync):
    # fault_seed 14 spreads one or two of each fault over the sync's first few dozen requests.
    fake = start_fake(SMALL, faults=FaultProbabilities(server_error=0.06, dropped_connection=0.06, truncated_json=0.06), fault_seed=14)

    run = sync(fake, SETTINGS)

    assert {request.fault for request in fake.requests} >= {"server_error", "dropped_connection", "truncated_json"}, (
        "the faults should all have happened; pick another fault_seed if the connector's requests changed"
    )
    assert_matches_ground_truth(fake, run)


@pytest.mark.parametrize("retry_after", [None, 0.1], ids=["without_retry_after", "with_retry_after"])
def test_given_a_rate_limit_when_syncing_then_429s_are_waited_out_and_every_record_arrives(start_fake, sync, retry_after):
    fake = start_fake(SMALL, rate_limit=12, retry_after=retry_after)

    run = sync(fake, SETTINGS)

    assert any(request.status == 429 for request in fake.requests)
    assert_matches_ground_truth(fake, run)


PARTITION_PATHS = r"^/v1/usage/groups$|/costs$"


def cut_short_partitions(fake):
    """The partitions whose pagination the fake broke, as (stream, partition key)."""
    cut = set()
    for request in fake.requests:
        if request.fault in ("repeated_token", "empty_page_with_token"):
            if request.path == "/v1/usage/groups":
                cut.add((USAGE, (request.body["customer_id"], request.body["billable_metric_id"])))
            else:
                cut.add((COSTS, (request.path.split("/")[3],)))
    return cut


@pytest.mark.parametrize("fault", ["repeated_token", "empty_page_with_token"])
def test_given_partitions_that_paginate_forever_when_syncing_then_they_are_skipped_without_duplicates_and_keep_their_state(
    start_fake, sync, fault
):
    fake = start_fake(SMALL, faults=FaultProbabilities(**{fault: 0.3}), fault_seed=1, fault_paths=PARTITION_PATHS)

    run = sync(fake, SETTINGS)

    cut = cut_short_partitions(fake)
    assert cut, f"the fake should have cut some partitions short with {fault}"
    expected = expected_records(fake.dataset, SETTINGS)
    for stream in (USAGE, COSTS):
        assert_records_within(stream, run.records(stream), expected[stream])
    cursors = expected_cursors(fake.dataset, SETTINGS)
    assert_cursors_match(
        run.stream_states(),
        {stream: {key: cursor for key, cursor in by_key.items() if (stream, key) not in cut} for stream, by_key in cursors.items()},
    )


def test_given_a_partition_cut_short_by_a_repeated_token_when_the_next_sync_resumes_then_no_record_is_lost_for_good(start_fake, sync):
    fake = start_fake(SMALL, faults=FaultProbabilities(repeated_token=1.0), fault_paths=PARTITION_PATHS)
    settings = {"start_date": "2024-03-05", "page_size": 2, "lookback_days": 0}
    first = sync(fake, settings, sync_modes={USAGE: "incremental"})
    fake.faults = FaultProbabilities()

    second = sync(fake, settings, sync_modes={USAGE: "incremental"}, state_messages=list(first.last_states().values()))

    emitted = {}
    for record in first.records(USAGE) + second.records(USAGE):
        emitted[(record["customer_id"], record["billable_metric_id"], record["group_id"], record["starting_on"])] = record
    assert len(emitted) == len(expected_records(fake.dataset, settings)[USAGE])


def test_given_the_customer_list_repeating_its_token_when_syncing_then_pagination_stops_with_a_warning_and_every_customer_is_read(
    start_fake, sync
):
    fake = start_fake(SMALL, faults=FaultProbabilities(repeated_token=1.0), fault_paths=r"^/v1/customers$")
    settings = {"start_date": "2024-03-12", "page_size": 2}

    run = sync(fake, settings)

    assert any(request.fault == "repeated_token" for request in fake.requests)
    assert_matches_ground_truth(fake, run, settings)
