"""Reading partitions concurrently while the CDK hands them out one at a time.

The CDK reads a stream slice by slice and checkpoints after each, which keeps per-partition state
exact. Each partition costs at least one request of Metronome's latency, so one partition at a time
uses a fraction of the account's allowance: the next partitions are read ahead by worker threads,
and the CDK's loop takes their records in order as they arrive.

Memory stays bounded whatever the number of partitions or records: at most `window` partitions are
in flight, and each holds at most `buffered_batches` batches until the CDK reaches it.
"""

import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable, Dict, Hashable, Iterable, Iterator, List, Mapping, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# A worker ahead of the CDK waits on a full buffer; it checks this often whether the read was abandoned.
CANCEL_CHECK_SECONDS = 0.5
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


class ReadAhead:
    """Reads up to `window` scheduled partitions ahead with `workers` threads.

    `schedule` yields the partitions in order, starting reads ahead of the one it yields; `records`
    then gives that partition's records, in the order they were read, and raises its error if the
    read failed. Workers start partitions in schedule order, so the partition the CDK waits for is
    never queued behind partitions waiting for room.
    """

    def __init__(
        self,
        read_partition: Callable[[Mapping[str, Any]], Iterable[Any]],
        key: Callable[[Mapping[str, Any]], Hashable],
        *,
        workers: int,
        batch_size: int,
        buffered_batches: int = 8,
    ):
        self._read_partition = read_partition
        self._key = key
        self._workers = workers
        self._window = 2 * workers
        self._batch_size = batch_size
        self._buffered_batches = buffered_batches
        self._buffers: Dict[Hashable, "queue.Queue[Any]"] = {}
        self._cancelled = threading.Event()

    def schedule(self, partitions: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        pending: List[Mapping[str, Any]] = []
        source = iter(partitions)
        pool = WorkerThreads(self._workers, "partition-reader")
        try:
            while True:
                while len(pending) < self._window:
                    partition = next(source, None)
                    if partition is None:
                        break
                    buffer: "queue.Queue[Any]" = queue.Queue(maxsize=self._buffered_batches)
                    self._buffers[self._key(partition)] = buffer
                    pool.submit(self._read_into, partition, buffer)
                    pending.append(partition)
                if not pending:
                    return
                yield pending.pop(0)
        finally:
            # Reached when the stream ends or the CDK stops early: workers ahead stop at their next batch.
            self._cancelled.set()
            pool.stop()
            self._buffers.clear()

    def records(self, partition: Mapping[str, Any]) -> Iterator[Any]:
        buffer = self._buffers.pop(self._key(partition))
        while True:
            batch = buffer.get()
            if batch is _DONE:
                return
            if isinstance(batch, _Failure):
                raise batch.error
            yield from batch

    def _read_into(self, partition: Mapping[str, Any], buffer: "queue.Queue[Any]") -> None:
        if self._cancelled.is_set():
            return
        batch: List[Any] = []
        try:
            for record in self._read_partition(partition):
                batch.append(record)
                if len(batch) >= self._batch_size:
                    if not self._put(buffer, batch):
                        return
                    batch = []
        except Exception as error:  # handed to the CDK's thread, which decides what it means
            if batch:
                self._put(buffer, batch)
            self._put(buffer, _Failure(error))
            return
        if batch:
            self._put(buffer, batch)
        self._put(buffer, _DONE)

    def _put(self, buffer: "queue.Queue[Any]", item: Any) -> bool:
        while not self._cancelled.is_set():
            try:
                buffer.put(item, timeout=CANCEL_CHECK_SECONDS)
                return True
            except queue.Full:
                continue
        return False


def map_in_order(function: Callable[[Item], Result], items: Sequence[Item], *, workers: int) -> List[Result]:
    """`[function(item) for item in items]`, `workers` at a time; the first error stops the rest."""
    pool = WorkerThreads(workers, "lister")
    futures: List["Future[Result]"] = []
    for item in items:
        future: "Future[Result]" = Future()
        futures.append(future)
        pool.submit(_settle, future, function, item)
    try:
        return [future.result() for future in futures]
    finally:
        for future in futures:
            future.cancel()
        pool.stop()


def _settle(future: "Future[Result]", function: Callable[[Item], Result], item: Item) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(function(item))
    except BaseException as error:
        future.set_exception(error)


class WorkerThreads:
    """A fixed set of daemon threads taking tasks first in, first out.

    Not the standard ThreadPoolExecutor: Python joins its threads at exit, so a sync that failed
    would wait for every request in flight to finish its retries before exiting.
    """

    def __init__(self, count: int, name: str):
        self._count = count
        self._tasks: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        for number in range(count):
            threading.Thread(target=self._work, name=f"{name}-{number}", daemon=True).start()

    def submit(self, function: Callable[..., Any], *args: Any) -> None:
        self._tasks.put((function, args))

    def stop(self) -> None:
        """Each thread ends after the tasks already submitted (which return at once if cancelled)."""
        for _ in range(self._count):
            self._tasks.put(None)

    def _work(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            function, args = task
            function(*args)
