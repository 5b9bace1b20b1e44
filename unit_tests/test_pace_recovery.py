"""The sync's pace on a fake clock: how it drops on 429s, climbs back, and holds every worker while
Metronome asked to wait."""

import logging

import pytest

from source_metronome.pacing import (
    DECREASE_FACTOR,
    FAST_RECOVERY_SHARE_PER_SECOND,
    PROBE_SHARE_PER_SECOND,
    QUIET_SECONDS,
    UNSAID_WAIT_SECONDS,
    EvenPacePolicy,
    SyncBudget,
)
from unit_tests.fake_clock import FakeClock


def fake_clock():
    return FakeClock(1000.0)


class Request:
    """Hashable and weakly referenceable, as the prepared requests the exchange sends."""


class TestPaceDecrease:
    def test_given_a_429_when_it_is_the_first_of_a_burst_then_the_pace_drops_by_a_quarter(self):
        clock = fake_clock()
        policy = EvenPacePolicy(6, clock=clock)

        policy.rate_limited(sent_at=clock.now - 0.1)

        assert policy.requests_per_second == pytest.approx(6 * DECREASE_FACTOR)

    def test_given_429s_to_requests_sent_before_the_drop_when_they_arrive_then_the_pace_drops_once(self):
        clock = fake_clock()
        policy = EvenPacePolicy(6, clock=clock)
        in_flight = [clock.now - 0.3, clock.now - 0.2, clock.now - 0.1]

        results = [policy.rate_limited(sent_at=sent) for sent in in_flight]

        assert results[1:] == [None, None]
        assert policy.requests_per_second == pytest.approx(6 * DECREASE_FACTOR)


class TestPaceRecovery:
    def test_given_429_burst_when_quiet_then_pace_recovers_to_the_proven_pace_within_a_second(self):
        clock = fake_clock()
        policy = EvenPacePolicy(6, clock=clock)
        clock.now += 10  # six per second ran quietly: that pace is proven

        policy.rate_limited(sent_at=clock.now - 0.1)
        dropped = policy.requests_per_second
        clock.now += 0.25
        halfway = policy.requests_per_second
        clock.now += (6 - dropped) / (FAST_RECOVERY_SHARE_PER_SECOND * 6)

        assert dropped < halfway < 6
        assert policy.requests_per_second == pytest.approx(6)

    def test_given_bursts_with_long_waits_when_each_comes_at_the_proven_pace_then_the_proven_pace_stands(self):
        clock = fake_clock()
        policy = EvenPacePolicy(6, clock=clock)
        clock.now += 10
        for _ in range(5):  # a burst every 4 s, each asking to wait 1.9 s
            policy.rate_limited(sent_at=clock.now - 0.01)
            policy.start_recovery_after(clock.now + 1.9)
            clock.now += 4

        assert policy.requests_per_second == pytest.approx(6), "each burst costs its wait, not a lower pace for good"

    def test_given_a_long_quiet_spell_when_recovered_then_pace_never_exceeds_requests_per_second(self):
        clock = fake_clock()
        policy = EvenPacePolicy(6, clock=clock)
        policy.rate_limited(sent_at=clock.now - 0.1)

        clock.now += 3600

        assert policy.requests_per_second == pytest.approx(6)

    def test_given_refusals_that_keep_coming_when_quiet_then_the_pace_probes_upwards_slowly_after_a_quiet_spell(self):
        clock = fake_clock()
        policy = EvenPacePolicy(6, clock=clock)
        for _ in range(3):  # a server limit below the pace: refusals less than a quiet spell apart
            clock.now += 0.5
            policy.rate_limited(sent_at=clock.now - 0.01)
        low = policy.requests_per_second

        clock.now += QUIET_SECONDS
        assert policy.requests_per_second == pytest.approx(low), "the pace stays where the refusals stopped for a quiet spell"
        clock.now += 3
        assert policy.requests_per_second == pytest.approx(low + 3 * PROBE_SHARE_PER_SECOND * 6), "then it climbs additively"

    def test_given_a_refusal_while_probing_when_quiet_again_then_pace_returns_fast_to_what_ran_quietly_before(self):
        clock = fake_clock()
        policy = EvenPacePolicy(6, clock=clock)
        for _ in range(3):
            clock.now += 0.5
            policy.rate_limited(sent_at=clock.now - 0.01)
        clock.now += QUIET_SECONDS + 6  # probing: climbed for 6 s
        proven = policy.requests_per_second - QUIET_SECONDS * PROBE_SHARE_PER_SECOND * 6  # the pace QUIET_SECONDS ago

        policy.rate_limited(sent_at=clock.now - 0.01)
        clock.now += 1

        assert policy.requests_per_second == pytest.approx(proven)


class TestSharedWait:
    def test_given_retry_after_seconds_when_one_worker_is_refused_then_every_worker_holds_until_then(self):
        clock = fake_clock()
        budget = SyncBudget(6, logging.getLogger("test"), clock=clock, sleep=clock.sleep)
        refused = Request()
        budget.acquire_call(refused)

        budget.refused(refused, asked=1.0)
        budget.acquire_call(Request())

        assert clock.slept[0] == pytest.approx(1.0), "Retry-After: 1 costs one second, not two"

    def test_given_retry_after_ms_when_refused_then_the_hold_is_what_was_asked(self):
        clock = fake_clock()
        budget = SyncBudget(6, logging.getLogger("test"), clock=clock, sleep=clock.sleep)
        refused = Request()
        budget.acquire_call(refused)

        budget.refused(refused, asked=0.35)
        budget.acquire_call(refused)

        assert clock.slept[0] == pytest.approx(0.35)

    def test_given_a_429_without_a_wait_at_the_proven_pace_when_workers_continue_then_they_hold_a_second(self):
        clock = fake_clock()
        budget = SyncBudget(6, logging.getLogger("test"), clock=clock, sleep=clock.sleep)
        refused = Request()
        budget.acquire_call(refused)
        clock.now += 10

        budget.refused(refused, asked=None)
        budget.acquire_call(Request())

        assert clock.slept[0] == pytest.approx(UNSAID_WAIT_SECONDS)

    def test_given_a_hold_when_it_ends_then_requests_restart_one_pace_interval_apart(self, monkeypatch):
        clock = fake_clock()
        # The CDK's budget sleeps out the pace with time.sleep: on the fake clock too.
        monkeypatch.setattr("airbyte_cdk.sources.streams.call_rate.time.sleep", clock.sleep)
        budget = SyncBudget(4, logging.getLogger("test"), clock=clock, sleep=clock.sleep)
        budget.hold_until(clock.now + 2)

        budget.acquire_call(Request())
        started = clock.now
        budget.acquire_call(Request())

        assert started == pytest.approx(1002)
        assert clock.now - started == pytest.approx(1 / 4, rel=0.2), "no burst after a hold"


class TestRejectedToken:
    def test_given_a_rejected_token_when_any_worker_asks_for_its_next_request_then_it_is_refused_with_a_config_error(self):
        clock = fake_clock()
        budget = SyncBudget(6, logging.getLogger("test"), clock=clock, sleep=clock.sleep)
        rejected = Request()
        budget.acquire_call(rejected)

        budget.reject_token("Metronome rejected the API token (401): Unauthorized")

        with pytest.raises(Exception) as error:
            budget.acquire_call(Request())
        assert "Metronome rejected the API token (401)" in str(error.value)
        assert budget.counts()[0] == 1, "no request after the rejection"

