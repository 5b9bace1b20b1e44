"""Airbyte's conventional state files, read incrementally with configured_catalog.json against the
account they name: the sample state resumes where it says, the abnormal (future) state is clamped."""

import json
from pathlib import Path

import pytest
import yaml

from integration_tests.conftest import HERE, SAMPLE_CONFIG, STANDARD_DATASET
from integration_tests.fake_metronome import COSTS, USAGE, cursors_of, expected_cursors, expected_records, read_plan
from integration_tests.record_checks import assert_cursors_match, assert_records_match

CATALOG = json.loads((HERE / "configured_catalog.json").read_text())
ACCEPTANCE_CONFIG = yaml.safe_load((HERE.parent / "acceptance-test-config.yml").read_text())


@pytest.fixture
def standard_fake(start_fake):
    """The account the state files name, on a port of its own (only the standard tests need
    sample_config.json's fixed port), so this file and those tests can run at the same time."""
    return start_fake(STANDARD_DATASET)


def load_state(path: Path):
    messages = json.loads(path.read_text())
    return messages, {message["stream"]["stream_descriptor"]["name"]: message["stream"]["stream_state"] for message in messages}


def settings():
    return {key: value for key, value in SAMPLE_CONFIG.items() if key not in ("api_token", "base_url")}


def assert_matches_ground_truth(fake, run, state):
    expected = expected_records(fake.dataset, SAMPLE_CONFIG, state=state)
    for stream in (USAGE, COSTS):
        assert_records_match(stream, run.records(stream), expected[stream])
    assert_cursors_match(run.stream_states(), expected_cursors(fake.dataset, SAMPLE_CONFIG, state=state))


class TestConventionalStateFiles:
    def test_given_the_sample_state_when_read_then_each_partition_resumes_at_its_cursor_less_lookback(self, standard_fake, sync):
        messages, state = load_state(HERE / "sample_state.json")
        planned = {(partition.stream, partition.key): partition for partition in read_plan(standard_fake.dataset, SAMPLE_CONFIG)}
        saved = {(stream, key) for stream, stream_state in state.items() for key in cursors_of(stream_state)}
        assert saved <= planned.keys(), "sample_state.json must name partitions of conftest.STANDARD_DATASET"
        assert saved != planned.keys(), "sample_state.json should leave some partitions without state"

        run = sync(standard_fake, settings(), state_messages=messages, catalog=CATALOG)

        assert_matches_ground_truth(standard_fake, run, state)
        starts = {record["starting_on"][:10] for record in run.records(USAGE)}
        assert min(starts) == "2024-03-08" and "2024-03-11" in starts

    def test_given_the_future_state_when_read_then_cursors_are_clamped_and_only_lookback_is_reread(self, standard_fake, sync):
        future_state_path = ACCEPTANCE_CONFIG["acceptance_tests"]["incremental"]["tests"][0]["future_state"]["future_state_path"]
        messages, state = load_state(HERE.parent / future_state_path)

        run = sync(standard_fake, settings(), state_messages=messages, catalog=CATALOG)

        assert_matches_ground_truth(standard_fake, run, state)
        assert {record["starting_on"][:10] for record in run.records(USAGE)} == {"2024-03-13", "2024-03-14", "2024-03-15"}
        final_cursors = {cursor for stream_state in run.stream_states().values() for entry in stream_state.get("states", []) for cursor in entry["cursor"].values()}
        assert final_cursors == {"2024-03-15T00:00:00+00:00"}
