"""What POST /v1/usage/groups answers, before pagination and timestamp formatting.

Shared by the server and the ground truth, so both agree on every window and value.
"""

import bisect
import functools
import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from integration_tests.fake_metronome.dataset import UNIQUE, BillableMetric, Dataset
from integration_tests.fake_metronome.events import Batch, batches
from integration_tests.fake_metronome.seeding import seeded_fraction
from integration_tests.fake_metronome.timestamps import ONE_DAY, ONE_HOUR, steps

WINDOW_STEPS = {"DAY": ONE_DAY, "HOUR": ONE_HOUR}

Number = Union[int, float]


@dataclass(frozen=True)
class Grouping:
    """The groups asked for: by one key (`group_by`, or `group_key` of one key) or by a compound key
    (`group_key` of several). Each group is one combination of the keys' values, None standing
    for events without the key."""

    keys: Tuple[str, ...]
    # Key → the only values kept; a key not here keeps all its values (and events without it).
    filters: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    # Metronome's newer form (`group_key` and `group_filters`): items then carry `group`, a map of
    # each key to its value, and group_key/group_value only for a single key.
    newer_form: bool = False

    @classmethod
    def by(cls, key: str, values: Optional[Tuple[str, ...]] = None) -> "Grouping":
        """The older `group_by` {key, values?}: values narrow the groups to those values."""
        return cls((key,), () if values is None else ((key, tuple(values)),))

    @classmethod
    def compound(cls, keys: Tuple[str, ...], filters: Optional[Mapping[str, Tuple[str, ...]]] = None) -> "Grouping":
        """The newer `group_key` [keys] with `group_filters` {key: [values]}: an empty list keeps every value."""
        kept = tuple((key, tuple(values)) for key, values in (filters or {}).items() if values)
        return cls(tuple(keys), kept, newer_form=True)


@dataclass(frozen=True)
class UsageWindow:
    starting_on: datetime
    ending_before: datetime
    group_key: Optional[str]
    group_value: Optional[str]
    value: Optional[Number]
    # Each requested key's value, for the newer form (see Grouping); None otherwise.
    group: Optional[Dict[str, Optional[str]]] = None


# Every page of a request, and the ground truth, ask for the same windows: computed once, the fake
# answers at the speed of a real server and benchmarks measure the connector, not the fake.
_MEMO_SIZE = 20_000
_memo: "OrderedDict[Tuple[Any, ...], List[UsageWindow]]" = OrderedDict()
_memo_lock = threading.Lock()


def _memoised(compute: Callable[..., List[UsageWindow]]) -> Callable[..., List[UsageWindow]]:
    @functools.wraps(compute)
    def memoised(dataset: Dataset, *request: Any) -> List[UsageWindow]:
        key = (dataset.options, dataset.now, dataset.revisions, *request)
        with _memo_lock:
            if key in _memo:
                _memo.move_to_end(key)
                return _memo[key]
        windows = compute(dataset, *request)
        with _memo_lock:
            _memo[key] = windows
            if len(_memo) > _MEMO_SIZE:
                _memo.popitem(last=False)
        return windows

    return memoised


@_memoised
def usage_windows(
    dataset: Dataset,
    customer_id: str,
    metric: BillableMetric,
    window_size: str,
    starting_on: datetime,
    ending_before: datetime,
    grouping: Optional[Grouping],
) -> List[UsageWindow]:
    """One window per day or hour of the range that starts before now (NONE: the range itself),
    times each group; grouped windows come group by group, each in time order."""
    window_size = window_size.upper()
    if window_size == "NONE":
        bounds = [(starting_on, ending_before)]
    else:
        step = WINDOW_STEPS[window_size]
        bounds = [(start, start + step) for start in steps(starting_on, ending_before, step, dataset.now)]
    keys = grouping.keys if grouping else ()
    filters = dict(grouping.filters) if grouping else {}
    values_per_key = [[value for value in dataset.group_values(metric, key) if key not in filters or value in filters[key]] for key in keys]
    groups = list(itertools.product(*values_per_key))

    buckets: Dict[Tuple[Tuple[Optional[str], ...], int], List[Batch]] = {}
    key_indexes = [metric.group_keys.index(key) for key in keys]
    window_starts = [start for start, _ in bounds]
    for batch in batches(dataset, customer_id, metric, starting_on, ending_before):
        cell = tuple(batch.cell[index] for index in key_indexes)
        buckets.setdefault((cell, _window_index(window_starts, batch.moment)), []).append(batch)

    windows = []
    for cell in groups:
        single = len(keys) == 1
        group_key, group_value = (keys[0], cell[0]) if single else (None, None)
        # A single key's null draw is the same in either form (one value, or the whole cell).
        null_draw = cell[0] if single else (cell or None)
        group = dict(zip(keys, cell)) if grouping and grouping.newer_form else None
        for index, (start, end) in enumerate(bounds):
            value = _aggregate(metric, buckets.get((cell, index), []))
            if seeded_fraction(dataset.options.seed, "null", customer_id, metric.id, window_size, start, null_draw) < dataset.options.null_share:
                value = None
            windows.append(UsageWindow(start, end, group_key, group_value, value, group))
    return windows


def _window_index(window_starts: List[datetime], moment: datetime) -> int:
    # Windows are contiguous and batches come from the requested range, so the last window that
    # starts at or before the moment holds it.
    return bisect.bisect_right(window_starts, moment) - 1


def _aggregate(metric: BillableMetric, window_batches: List[Batch]) -> Optional[Number]:
    """COUNT and UNIQUE count (events, distinct users), SUM adds amounts, MAX and LATEST pick one;
    with no events the counts are 0 and the picks null."""
    amounts = [batch.quantity * metric.unit_quarters for batch in window_batches]
    kind = metric.aggregation_type
    if kind == "COUNT":
        return sum(batch.quantity for batch in window_batches)
    if kind == UNIQUE:
        return len({batch.user for batch in window_batches})
    if kind == "SUM":
        return sum(amounts) / 4
    if not amounts:
        return None
    if kind == "MAX":
        return max(amounts) / 4
    return amounts[-1] / 4
