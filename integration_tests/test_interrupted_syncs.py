"""A sync killed at random points and restarted from the last committed state loses nothing."""

import random
import signal
from collections import Counter
from typing import Any, Dict, List, Set, Tuple

from integration_tests.conftest import BOTH_INCREMENTAL, connector_config
from integration_tests.connector_cli import configured_catalog, run_connector_killed_after, write_json
from integration_tests.fake_metronome import COSTS, USAGE, DatasetOptions, cursors_of, expected_records, primary_key, without_nulls
from integration_tests.fake_metronome.ground_truth import PARTITION_FIELDS

DATASET = DatasetOptions(customers=4, metrics_per_customer=3, days_of_history=12)
# An end_date in the past and no lookback: a partition finished before a kill has nothing left to
# read after it, so any record read twice must come from a partition a kill cut short.
SETTINGS = {"start_date": "2024-03-04", "end_date": "2024-03-14", "lookback_days": 0, "page_size": 3}
MAX_ATTEMPTS = 40


def partition_of(stream: str, record: Dict[str, Any]) -> Tuple[str, ...]:
    return tuple(record[field] for field in PARTITION_FIELDS[stream])


class TestKilledSyncs:
    def test_given_random_kills_when_restarted_from_committed_state_then_every_record_arrives(self, start_fake, tmp_path):
        fake = start_fake(DATASET)
        config_path = write_json(tmp_path / "config.json", connector_config(fake, SETTINGS))
        catalog_path = write_json(tmp_path / "catalog.json", configured_catalog(BOTH_INCREMENTAL))
        kill_points = random.Random(7)
        committed_states: Dict[str, Dict[str, Any]] = {}
        emitted: Dict[str, List[Dict[str, Any]]] = {USAGE: [], COSTS: []}
        cut_short: Set[Tuple[str, Tuple[str, ...]]] = set()
        kills = 0

        for attempt in range(MAX_ATTEMPTS):
            arguments = ["read", "--config", str(config_path), "--catalog", str(catalog_path)]
            if committed_states:
                arguments += ["--state", str(write_json(tmp_path / f"state-{attempt}.json", list(committed_states.values())))]
            run = run_connector_killed_after(arguments, fake.now, lines=kill_points.randint(5, 80), stderr_path=tmp_path / f"stderr-{attempt}.txt")
            assert fake.token not in run.stdout + run.stderr
            committed_states.update(run.last_states())
            for stream in (USAGE, COSTS):
                records = run.records(stream)
                emitted[stream] += records
                finished = set(cursors_of(committed_states.get(stream, {}).get("stream", {}).get("stream_state")))
                cut_short |= {(stream, partition_of(stream, record)) for record in records if partition_of(stream, record) not in finished}
            if run.returncode == 0:
                break
            assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
            kills += 1
        else:
            raise AssertionError(f"the sync did not finish in {MAX_ATTEMPTS} attempts")

        assert kills >= 3, "the kill points should interrupt the sync several times"
        expected = expected_records(fake.dataset, SETTINGS)
        for stream in (USAGE, COSTS):
            latest = {primary_key(stream, record): without_nulls(record) for record in emitted[stream]}
            assert latest == {primary_key(stream, record): without_nulls(record) for record in expected[stream]}
            repeated = {key for key, count in Counter(primary_key(stream, record) for record in emitted[stream]).items() if count > 1}
            repeated_partitions = {(stream, partition_of(stream, latest_record)) for key, latest_record in latest.items() if key in repeated}
            assert repeated_partitions <= cut_short, f"{stream}: records read twice from partitions no kill cut short"
