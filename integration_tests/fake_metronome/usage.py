"""What POST /v1/usage/groups answers, before pagination and timestamp formatting.

Shared by the server and the ground truth, so both agree on every window and value.
"""

import bisect
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Optional, Sequence, Tuple, Union

from integration_tests.fake_metronome.dataset import UNIQUE, BillableMetric, Dataset
from integration_tests.fake_metronome.events import Batch, batches
from integration_tests.fake_metronome.seeding import seeded_fraction
from integration_tests.fake_metronome.timestamps import ONE_DAY, ONE_HOUR, steps

WINDOW_STEPS = {"DAY": ONE_DAY, "HOUR": ONE_HOUR}

Number = Union[int, float]


@dataclass(frozen=True)
class GroupBy:
    key: str
    values: Optional[Tuple[str, ...]] = None


@dataclass(frozen=True)
class UsageWindow:
    starting_on: datetime
    ending_before: datetime
    group_key: Optional[str]
    group_value: Optional[str]
    value: Optional[Number]


def usage_windows(
    dataset: Dataset,
    customer_id: str,
    metric: BillableMetric,
    window_size: str,
    starting_on: datetime,
    ending_before: datetime,
    group_by: Optional[GroupBy],
) -> List[UsageWindow]:
    """One window per day or hour of the range that starts before now (NONE: the range itself),
    times each group value; grouped windows come group by group, each in time order."""
    window_size = window_size.upper()
    if window_size == "NONE":
        bounds = [(starting_on, ending_before)]
    else:
        step = WINDOW_STEPS[window_size]
        bounds = [(start, start + step) for start in steps(starting_on, ending_before, step, dataset.now)]
    groups: Sequence[Tuple[Optional[str], Optional[str]]] = [(None, None)]
    if group_by is not None:
        values = dataset.group_values(metric, group_by.key)
        if group_by.values is not None:
            values = [value for value in values if value in group_by.values]
        groups = [(group_by.key, value) for value in values]

    buckets: Dict[Tuple[Optional[str], int], List[Batch]] = {}
    key_index = metric.group_keys.index(group_by.key) if group_by else None
    window_starts = [start for start, _ in bounds]
    for batch in batches(dataset, customer_id, metric, starting_on, ending_before):
        group_value = batch.cell[key_index] if key_index is not None else None
        buckets.setdefault((group_value, _window_index(window_starts, batch.moment)), []).append(batch)

    windows = []
    for group_key, group_value in groups:
        for index, (start, end) in enumerate(bounds):
            value = _aggregate(metric, buckets.get((group_value, index), []))
            if seeded_fraction(dataset.options.seed, "null", customer_id, metric.id, window_size, start, group_value) < dataset.options.null_share:
                value = None
            windows.append(UsageWindow(start, end, group_key, group_value, value))
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
