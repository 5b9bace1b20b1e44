"""End to end against the fake Metronome under production conditions (conditions.py): a rejected
token, long periods of 429s, a stalled request, and a state saved by an older version."""

from collections import Counter

import pytest

from integration_tests import connector_cli
from integration_tests.conftest import BOTH_INCREMENTAL
from integration_tests.fake_metronome import COSTS, USAGE, DatasetOptions, expected_records, primary_key
from integration_tests.fake_metronome.conditions import NO_HEADER, Bursts, Stalls
from integration_tests.fake_metronome.timestamps import format_timestamp

SMALL = DatasetOptions(customers=4, metrics_per_customer=2, days_of_history=10)


def settings_for(fake, **extra):
    return {"start_date": format_timestamp(fake.dataset.history_start), **extra}


def assert_exact(fake, run, settings, state=None):
    expected = expected_records(fake.dataset, settings, state=state)
    for stream in (USAGE, COSTS):
        emitted = [primary_key(stream, record) for record in run.records(stream)]
        assert len(emitted) == len(set(emitted)), f"{stream}: a record was emitted twice"
        assert set(emitted) == {primary_key(stream, record) for record in expected[stream]}, f"{stream}: records missing or unexpected"


class RejectTokenAfter:
    """Rotates the account's token after `requests` requests: every later request is answered 401."""

    def __init__(self, fake, requests):
        self.fake, self.left = fake, requests

    def before_answer(self, method, path):
        self.left -= 1
        if self.left == 0:
            self.fake.token = "rotated-" + self.fake.token
        return None


class TestRejectedToken:
    def test_given_the_token_rejected_mid_read_when_syncing_then_one_config_error_and_no_request_from_any_stream_after_it(self, start_fake, sync):
        fake = start_fake(SMALL)
        fake.conditions.append(RejectTokenAfter(fake, requests=8))
        settings = settings_for(fake, max_concurrency=1, requests_per_second=50)

        run = sync(fake, settings, expect_success=False)

        errors = [message.trace.error for message in run.of_type(connector_cli.Type.TRACE) if message.trace.error]
        assert run.returncode == 1
        assert [error.failure_type.value for error in errors] == ["config_error"]
        assert errors[0].message.startswith("Metronome rejected the API token (401)")
        logged = run.stderr + "".join(message.log.message for message in run.of_type(connector_cli.Type.LOG))
        assert logged.count("Traceback") <= 1
        statuses = [request.status for request in fake.requests]
        assert statuses.count(401) == 1 and statuses[-1] == 401, "no request of any stream after the token was rejected"
        assert not any("/costs" in request.path for request in fake.requests), "the next stream did not start"


class TestLongRateLimiting:
    def test_given_90_seconds_of_intermittent_429s_when_syncing_then_nothing_is_lost(self, start_fake, sync, monkeypatch):
        monkeypatch.setattr(connector_cli, "TIMEOUT_SECONDS", 300)
        fake = start_fake(DatasetOptions(customers=4, metrics_per_customer=2, days_of_history=30))
        # 1.5 s of refusals every 4 s for 90 s, without Retry-After, as another integration's bursts make them: far more
        # refusals per request than the 8 retries a failure gets. A slow pace and few requests keep
        # the sync inside those 90 s for most of its requests.
        fake.conditions.append(Bursts(period=4, duration=1.5, retry_after=NO_HEADER, phase=0.5, until=90))
        settings = settings_for(fake, page_size=10, requests_per_second=1)

        run = sync(fake, settings)

        assert_exact(fake, run, settings)
        refused = Counter(request.status for request in fake.requests)[429]
        assert refused >= 15, "the sync ran through the refusals"
        assert not any(message.log.level.value == "ERROR" for message in run.of_type(connector_cli.Type.LOG))


class TestStalledRequest:
    def test_given_a_stalled_request_when_syncing_then_the_other_workers_keep_reading_and_nothing_is_lost(self, start_fake, sync):
        fake = start_fake(DatasetOptions(customers=12, metrics_per_customer=3, days_of_history=10))
        stalls = Stalls([3], seconds=8)
        fake.conditions.append(stalls)
        settings = settings_for(fake, requests_per_second=20)

        run = sync(fake, settings)

        assert_exact(fake, run, settings)
        assert stalls.stalled == 1
        assert stalls.arrivals_during[0] >= 20, "requests went on while one waited for its answer"


class TestOldState:
    def test_given_a_state_with_one_entry_per_partition_when_resuming_then_each_partition_reads_from_its_cursor_and_new_ones_from_start_date(self, start_fake, sync):
        fake = start_fake(SMALL)
        settings = settings_for(fake, lookback_days=2)
        first = sync(fake, settings)
        known = first.stream_states()[COSTS]["states"][:2]  # as 0.2.0 wrote it: one entry per partition
        old_cursor = "2024-03-10T00:00:00+00:00"
        old = [{"partition": entry["partition"], "cursor": {"end_timestamp": old_cursor}} for entry in known]
        state_messages = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": COSTS}, "stream_state": {"states": old}}}]
        fake.reset_requests()

        resumed = sync(fake, settings, sync_modes={COSTS: "incremental"}, state_messages=state_messages)

        starts = {request.path.split("/")[3]: request.param("starting_on") for request in fake.requests if request.path.endswith("/costs")}
        known_ids = {entry["partition"]["customer_id"] for entry in known}
        assert {starts[customer_id] for customer_id in known_ids} == {"2024-03-08T00:00:00+00:00"}, "cursor minus the lookback"
        assert {start for customer_id, start in starts.items() if customer_id not in known_ids} == {settings["start_date"]}
        expected = expected_records(fake.dataset, settings, state={COSTS: {"states": old}})
        assert {primary_key(COSTS, record) for record in resumed.records(COSTS)} == {primary_key(COSTS, record) for record in expected[COSTS]}
