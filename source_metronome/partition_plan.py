"""Which partitions a partitioned stream reads this sync, and in what order.

Each partition comes with the dates it reads; partitions with nothing left to read are left out,
and so are the customers an earlier attempt of the same full refresh finished (refresh_progress.py)
for every view that reads them (a stream, and the one it leads in step: shared_pages.py).
The partitions are counted first, then made again one at a time as the read-ahead gets to them: a
list of every partition's slice would grow memory with the account.
"""

from typing import Callable, Iterator, Sequence

from airbyte_cdk.sources.types import StreamSlice

from source_metronome.refresh_progress import RefreshProgress


class PartitionPlan:
    def __init__(self, make_slices: Callable[[], Iterator[StreamSlice]], customer_field: str, refreshes: Sequence[RefreshProgress] = ()):
        self._make_slices = make_slices
        self._refreshes = refreshes
        if refreshes:
            customers = [stream_slice.partition[customer_field] for stream_slice in make_slices()]
            for refresh in refreshes:
                refresh.plan(customers)
        self.count = sum(1 for _ in self)

    def __iter__(self) -> Iterator[StreamSlice]:
        for stream_slice in self._make_slices():
            if not self._refreshes or not all(refresh.is_finished(stream_slice.partition) for refresh in self._refreshes):
                yield stream_slice
