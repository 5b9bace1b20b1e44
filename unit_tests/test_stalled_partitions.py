"""A partition whose request stalls does not hold the others back (read_ahead.py)."""

import threading

from source_metronome.read_ahead import MAX_PENDING_WINDOWS, STALL_SECONDS, ReadAhead
from unit_tests.fake_clock import FakeClock

DEADLOCK_GUARD_SECONDS = 10


class TestStalledPartition:
    def test_given_a_stalled_partition_when_others_are_ready_then_they_are_handed_out_first_and_it_comes_last_complete(self):
        clock, release = FakeClock(), threading.Event()

        def read_partition(partition):
            if partition["id"] == 0:
                clock.now += STALL_SECONDS  # its request shows no progress for this long
                assert release.wait(DEADLOCK_GUARD_SECONDS)
            return [f"{partition['id']}-a", f"{partition['id']}-b"]

        reader = ReadAhead(read_partition, key=lambda partition: partition["id"], workers=2, batch_size=1, clock=clock)
        scheduled = reader.schedule([{"id": number} for number in range(6)])

        handed = []
        for partition in scheduled:
            handed.append((partition["id"], list(reader.records(partition))))
            if len(handed) == 5:
                release.set()

        assert [number for number, _ in handed] == [1, 2, 3, 4, 5, 0]
        assert dict(handed) == {number: [f"{number}-a", f"{number}-b"] for number in range(6)}

    def test_given_every_worker_but_one_stalled_when_reading_then_the_window_grows_only_up_to_the_memory_bound(self):
        clock, release = FakeClock(), threading.Event()
        started = []

        def read_partition(partition):
            started.append(partition["id"])
            if partition["id"] < 3:
                clock.now += STALL_SECONDS
                assert release.wait(DEADLOCK_GUARD_SECONDS)
            return [partition["id"]]

        reader = ReadAhead(read_partition, key=lambda partition: partition["id"], workers=4, batch_size=1, clock=clock)
        scheduled = reader.schedule([{"id": number} for number in range(200)])
        first = next(scheduled)
        assert list(reader.records(first)) == [first["id"]]

        assert len(started) <= MAX_PENDING_WINDOWS * 2 * 4 + 1, "partitions held at once stay bounded"
        release.set()
        scheduled.close()
