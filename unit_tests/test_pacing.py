"""The sync's request pace (pacing.py): one interval between requests, no burst after idling, a quarter
slower once per burst of 429s, never below the floor; and the same seen from a read."""

import pytest
from airbyte_cdk.sources.streams.call_rate import CallRateLimitHit
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker

from source_metronome import SourceMetronome
from source_metronome.pacing import EvenPacePolicy
from unit_tests.builders import catalog, config, cost_item, costs_request, customer, customers_request, error, page
from unit_tests.fake_clock import FakeClock

COSTS = "customer_costs"


def wait_before_next(policy: EvenPacePolicy) -> float:
    """0 if a request may start now (and takes the slot), else how long it must wait."""
    try:
        policy.try_acquire(request=None, weight=1)
        return 0.0
    except CallRateLimitHit as hit:
        return hit.time_to_wait.total_seconds()


def test_given_a_pace_when_requests_come_at_once_then_each_waits_one_interval_after_the_last():
    clock = FakeClock(100.0)
    policy = EvenPacePolicy(requests_per_second=4, clock=clock)

    assert wait_before_next(policy) == 0
    assert wait_before_next(policy) == pytest.approx(0.25)
    clock.now += 0.25
    assert wait_before_next(policy) == 0


def test_given_a_long_idle_time_when_requests_resume_then_no_burst_is_allowed():
    clock = FakeClock(100.0)
    policy = EvenPacePolicy(requests_per_second=4, clock=clock)
    wait_before_next(policy)

    clock.now += 60
    assert wait_before_next(policy) == 0
    assert wait_before_next(policy) == pytest.approx(0.25), "idle time is not saved up for a burst"


def test_given_429s_in_a_burst_when_slowing_down_then_the_pace_drops_once_per_burst_by_a_quarter():
    clock = FakeClock(100.0)
    policy = EvenPacePolicy(requests_per_second=8, clock=clock)
    sent = clock.now

    assert policy.rate_limited(sent_at=sent) is not None
    assert policy.rate_limited(sent_at=sent) is None, "a burst of 429s to requests sent before the drop counts once"
    assert policy.requests_per_second == pytest.approx(8 * 0.75)
    clock.now += 0.1
    before = policy.requests_per_second
    assert policy.rate_limited(sent_at=clock.now) is not None, "a 429 to a request sent after the drop is a new refusal"

    assert policy.requests_per_second == pytest.approx(before * 0.75)


def test_given_many_429s_when_slowing_down_then_the_pace_never_drops_below_the_floor():
    clock = FakeClock(100.0)
    policy = EvenPacePolicy(requests_per_second=1, clock=clock)
    for _ in range(20):
        clock.now += 0.1
        policy.rate_limited(sent_at=clock.now)

    assert policy.requests_per_second == pytest.approx(0.5)


@HttpMocker()
def test_given_rate_limited_when_read_then_retried_with_the_pace_dropped_by_a_quarter_and_counted(http_mocker: HttpMocker = None):
    http_mocker.get(customers_request(), page([customer()]))
    http_mocker.get(costs_request(), [error(429, "Too many requests", headers={"retry-after-ms": "0"}), page([cost_item(1)])])

    output = read(SourceMetronome(), config(requests_per_second=8), catalog(COSTS))

    assert len(output.records) == 1
    assert output.is_in_logs("pacing at 6.00 requests/s")
    assert output.is_in_logs(r"customer_costs: done: 1 partitions read, 1 records, 3 requests \(1 retries, 1 rate-limited\)")

