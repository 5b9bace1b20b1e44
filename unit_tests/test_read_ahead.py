import threading

import pytest

from source_metronome.read_ahead import ReadAhead, map_in_order

# Long enough never to fire on a working implementation, short enough to fail a broken one quickly.
DEADLOCK_GUARD_SECONDS = 10


def partitions(count):
    return [{"id": number} for number in range(count)]


def read_ahead(read_partition, workers=2, batch_size=2, buffered_batches=2):
    return ReadAhead(read_partition, key=lambda partition: partition["id"], workers=workers, batch_size=batch_size, buffered_batches=buffered_batches)


def test_given_later_partitions_finish_first_when_read_then_records_come_partition_by_partition_in_schedule_order():
    first_may_finish = threading.Event()

    def read_partition(partition):
        if partition["id"] == 0:
            assert first_may_finish.wait(DEADLOCK_GUARD_SECONDS)
        if partition["id"] == 2:
            first_may_finish.set()  # partition 2 was started while partition 0 was still being read
        return [f"{partition['id']}-{number}" for number in range(3)]

    reader = read_ahead(read_partition, workers=3)

    read = [(partition["id"], list(reader.records(partition))) for partition in reader.schedule(partitions(4))]

    assert read == [(number, [f"{number}-0", f"{number}-1", f"{number}-2"]) for number in range(4)]


def test_given_a_slow_consumer_when_read_then_at_most_the_window_of_partitions_is_started():
    started = []
    reader = read_ahead(lambda partition: started.append(partition["id"]) or [partition["id"]], workers=2)
    scheduled = reader.schedule(partitions(20))

    first = next(scheduled)
    assert list(reader.records(first)) == [0]

    assert len(started) <= 4, "two workers read at most two partitions each ahead of the consumer"
    scheduled.close()


def test_given_a_partition_fails_after_some_records_when_read_then_those_records_come_first_and_the_error_at_its_turn():
    def read_partition(partition):
        yield from ["a", "b", "c"]
        if partition["id"] == 1:
            raise RuntimeError("Metronome answered 500")

    reader = read_ahead(read_partition)
    scheduled = reader.schedule(partitions(3))

    assert list(reader.records(next(scheduled))) == ["a", "b", "c"]
    failing = reader.records(next(scheduled))
    assert [next(failing), next(failing), next(failing)] == ["a", "b", "c"]
    with pytest.raises(RuntimeError, match="500"):
        next(failing)
    assert list(reader.records(next(scheduled))) == ["a", "b", "c"], "a failure leaves the next partitions readable"


def test_given_the_consumer_stops_early_when_closed_then_workers_stop_reading_more_pages():
    pages_read = []
    may_read = threading.Event()

    def endless_partition(partition):
        for number in range(1000):
            may_read.wait(DEADLOCK_GUARD_SECONDS)
            pages_read.append(number)
            yield number

    threads_before = set(threading.enumerate())
    reader = read_ahead(endless_partition, workers=1, batch_size=1, buffered_batches=1)
    scheduled = reader.schedule(partitions(2))
    may_read.set()  # a partition is handed out once its buffer is full or it is read to its end
    records = reader.records(next(scheduled))
    assert next(records) == 0

    scheduled.close()
    for worker in set(threading.enumerate()) - threads_before:
        worker.join(DEADLOCK_GUARD_SECONDS)
        assert not worker.is_alive(), "a worker kept reading after the consumer stopped"

    assert len(pages_read) < 10, "the worker stopped at its next page instead of reading the whole partition"


def test_given_items_when_mapped_in_order_then_results_keep_the_item_order():
    assert map_in_order(lambda number: number * number, list(range(50)), workers=4) == [number * number for number in range(50)]


def test_given_an_item_fails_when_mapped_in_order_then_the_error_is_raised():
    def square_but_not_seven(number):
        if number == 7:
            raise ValueError("seven")
        return number * number

    with pytest.raises(ValueError, match="seven"):
        map_in_order(square_but_not_seven, list(range(50)), workers=4)
