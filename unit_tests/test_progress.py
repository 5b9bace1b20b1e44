import logging

from source_metronome.pacing import SyncBudget
from source_metronome.progress import PROGRESS_LOG_SECONDS, StreamProgress
from unit_tests.fake_clock import FakeClock


def test_given_a_long_stream_when_partitions_are_read_then_the_log_shows_the_plan_progress_every_few_seconds_and_a_summary(caplog):
    caplog.set_level(logging.INFO)
    clock, budget = FakeClock(1000.0), SyncBudget(requests_per_second=6, logger=logging.getLogger("test"))
    budget.requests = 5  # made before the stream started: not the stream's
    progress = StreamProgress("customer_costs", budget, logging.getLogger("test"), clock=clock)
    progress.planned(3, "one per customer")

    budget.requests, budget.retries = 7, 1
    progress.partition_read(100)
    clock.now += PROGRESS_LOG_SECONDS
    budget.requests, budget.rate_limited = 9, 1
    progress.partition_read(50)
    progress.partition_read(0, skipped=True)
    progress.finished()

    assert [record.getMessage() for record in caplog.records] == [
        "customer_costs: reading 3 partitions (one per customer).",
        "customer_costs: 2 of 3 partitions read, 150 records, 4 requests (1 retries, 1 rate-limited) in 10.0 s, pacing at 6.00 requests/s.",
        "customer_costs: done: 3 partitions read (1 skipped), 150 records, 4 requests (1 retries, 1 rate-limited) in 10.0 s.",
    ]
