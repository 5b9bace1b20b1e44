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
import time
from concurrent.futures import Future
from typing import Any, Callable, Dict, Hashable, Iterable, Iterator, List, Mapping, Optional, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# A worker ahead of the CDK waits on a full buffer; it checks this often whether the read was abandoned.
CANCEL_CHECK_SECONDS = 0.5
# A partition whose worker showed no progress for this long (a request waiting for its 60 s read
# timeout, far beyond Metronome's 150-300 ms) no longer holds the others back.
STALL_SECONDS = 5.0
# Partitions held at once while some stall, in windows: the memory bound.
MAX_PENDING_WINDOWS = 4
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


class _Slot:
    """One scheduled partition: its buffer, and when its worker last showed progress."""

    def __init__(self, partition: Mapping[str, Any], buffered_batches: int, now: float):
        self.partition = partition
        self.buffer: "queue.Queue[Any]" = queue.Queue(maxsize=buffered_batches)
        self.last_progress = now
        self.done = False

    def ready(self) -> bool:
        # Read to its end (or failed), or holding as much as it may: the CDK can take it without waiting.
        return self.done or self.buffer.full()


class ReadAhead:
    """Reads up to `window` scheduled partitions ahead with `workers` threads.

    `schedule` yields the partitions, starting reads ahead of the one it yields; `records` then
    gives that partition's records, in the order they were read, and raises its error if the read
    failed. A partition is handed to the CDK once it is read to its end or its buffer is full, in
    schedule order, except that a partition whose worker showed no progress for `STALL_SECONDS` (a
    request waiting for its read timeout) is passed over: the partitions after it are handed out,
    and the window grows past it, up to `MAX_PENDING_WINDOWS` windows of partitions held at once (the
    memory bound). The CDK takes the stalled partition once it is ready; its cursor, like every
    partition's, moves only once all its pages are read.
    """

    def __init__(
        self,
        read_partition: Callable[[Mapping[str, Any]], Iterable[Any]],
        key: Callable[[Mapping[str, Any]], Hashable],
        *,
        workers: int,
        batch_size: int,
        buffered_batches: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._read_partition = read_partition
        self._key = key
        self._workers = workers
        self._window = 2 * workers
        self._batch_size = batch_size
        self._buffered_batches = buffered_batches
        self._clock = clock
        self._slots: Dict[Hashable, _Slot] = {}
        self._cancelled = threading.Event()
        self._changed = threading.Condition()

    def schedule(self, partitions: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        pending: List[_Slot] = []
        source = iter(partitions)
        exhausted = False
        pool = WorkerThreads(self._workers, "partition-reader")
        try:
            while True:
                with self._changed:
                    now = self._clock()
                    while not exhausted and len(pending) < MAX_PENDING_WINDOWS * self._window and self._active(pending, now) < self._window:
                        partition = next(source, None)
                        if partition is None:
                            exhausted = True
                            break
                        slot = _Slot(partition, self._buffered_batches, now)
                        self._slots[self._key(partition)] = slot
                        pool.submit(self._read_into, slot)
                        pending.append(slot)
                    if not pending:
                        return
                    chosen = self._next_ready(pending, now)
                    if chosen is None:
                        self._changed.wait(CANCEL_CHECK_SECONDS)
                        continue
                    pending.remove(chosen)
                yield chosen.partition
        finally:
            # Reached when the stream ends or the CDK stops early: workers ahead stop at their next batch.
            self._cancelled.set()
            pool.stop()
            self._slots.clear()

    def _stalled(self, slot: _Slot, now: float) -> bool:
        return not slot.ready() and now - slot.last_progress >= STALL_SECONDS

    def _active(self, pending: List[_Slot], now: float) -> int:
        """Partitions in flight that count towards the window: not finished, not stalled."""
        return sum(1 for slot in pending if not slot.done and not self._stalled(slot, now))

    def _next_ready(self, pending: List[_Slot], now: float) -> Optional[_Slot]:
        for slot in pending:
            if slot.ready():
                return slot
            if not self._stalled(slot, now):
                # Schedule order, unless a partition stalls.
                return None
        return None

    def records(self, partition: Mapping[str, Any]) -> Iterator[Any]:
        buffer = self._slots.pop(self._key(partition)).buffer
        while True:
            batch = buffer.get()
            if batch is _DONE:
                return
            if isinstance(batch, _Failure):
                raise batch.error
            yield from batch

    def _read_into(self, slot: _Slot) -> None:
        if self._cancelled.is_set():
            return
        self._progress(slot)
        batch: List[Any] = []
        try:
            for record in self._read_partition(slot.partition):
                batch.append(record)
                if len(batch) >= self._batch_size:
                    if not self._put(slot, batch):
                        return
                    batch = []
        except Exception as error:  # handed to the CDK's thread, which decides what it means
            if batch:
                self._put(slot, batch)
            self._put(slot, _Failure(error), last=True)
            return
        if batch:
            self._put(slot, batch)
        self._put(slot, _DONE, last=True)

    def _progress(self, slot: _Slot, done: bool = False) -> None:
        with self._changed:
            slot.last_progress = self._clock()
            slot.done = slot.done or done
            self._changed.notify_all()

    def _put(self, slot: _Slot, item: Any, last: bool = False) -> bool:
        while not self._cancelled.is_set():
            try:
                if last:
                    # Marked done before the last item goes in: a full buffer must still count as ready.
                    self._progress(slot, done=True)
                slot.buffer.put(item, timeout=CANCEL_CHECK_SECONDS)
                self._progress(slot)
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
