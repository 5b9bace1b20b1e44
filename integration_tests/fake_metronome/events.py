"""The usage events behind every number the fake serves.

Each hour of each (customer, metric, group cell) may hold one batch of events at a seeded minute,
and each revision may add backdated batches to the days just before it arrived. A batch counts
once its moment is before the dataset's "now", so the current day and hour are partial.
"""

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import List, Optional, Tuple

from integration_tests.fake_metronome.dataset import BillableMetric, Dataset, Revision
from integration_tests.fake_metronome.seeding import seeded_int
from integration_tests.fake_metronome.timestamps import ONE_DAY, floor_to_midnight

HOURS_PER_DAY = 24
# Share (in percent) of hours with a batch of events, and of hours a revision adds a batch to.
BASE_BATCH_PERCENT = 70
LATE_BATCH_PERCENT = 50
DISTINCT_USERS = 8

Cell = Tuple[Optional[str], ...]


@dataclass(frozen=True)
class Batch:
    moment: datetime
    # One value per group key of the metric, in the metric's key order; None: the events lack the key.
    cell: Cell
    quantity: int
    user: int


def batches(dataset: Dataset, customer_id: str, metric: BillableMetric, start: datetime, end: datetime) -> List[Batch]:
    """The batches of [start, end) that happened before now, in time order. Only metrics on the
    customer's plan, and archived ones it used before their archiving, have events; any other metric
    reads as no usage."""
    customer = dataset.customer(customer_id)
    if customer is None or metric.id not in customer.metric_ids + customer.retired_metric_ids:
        return []
    if metric.archived_at is not None:
        end = min(end, metric.archived_at)
    found: List[Batch] = []
    day = max(floor_to_midnight(start), dataset.history_start)
    while day < end and day < dataset.now:
        revisions = tuple(revision for revision in dataset.revisions if _earliest_late_day(dataset, revision) <= day)
        for batch in _day_batches(dataset.options.seed, customer_id, metric, tuple(_cells(dataset, metric)), day, revisions):
            if start <= batch.moment < end and batch.moment < dataset.now:
                found.append(batch)
        day += ONE_DAY
    return found


def _cells(dataset: Dataset, metric: BillableMetric) -> List[Cell]:
    return list(itertools.product(*(dataset.group_values(metric, key) for key in metric.group_keys)))


def _earliest_late_day(dataset: Dataset, revision: Revision) -> datetime:
    """A revision's events are dated from `late_days` days before the day it arrived up to its arrival."""
    return floor_to_midnight(revision.arrived_at) - dataset.options.late_days * ONE_DAY


@lru_cache(maxsize=100_000)
def _day_batches(
    seed: int, customer_id: str, metric: BillableMetric, cells: Tuple[Cell, ...], day: datetime, revisions: Tuple[Revision, ...]
) -> Tuple[Batch, ...]:
    day_batches: List[Batch] = []
    for hour, cell in itertools.product(range(HOURS_PER_DAY), cells):
        hour_start = day + timedelta(hours=hour)
        base = _batch(BASE_BATCH_PERCENT, hour_start, cell, seed, customer_id, metric.id, hour_start, cell)
        if base:
            day_batches.append(base)
        for revision in revisions:
            late = _batch(LATE_BATCH_PERCENT, hour_start, cell, seed, customer_id, metric.id, hour_start, cell, "revision", revision.number)
            if late and late.moment < revision.arrived_at:
                day_batches.append(late)
    day_batches.sort(key=lambda batch: batch.moment)
    return tuple(day_batches)


def _batch(percent: int, hour_start: datetime, cell: Cell, *seed_parts: object) -> Optional[Batch]:
    number = seeded_int(*seed_parts)
    if number % 100 >= percent:
        return None
    return Batch(
        moment=hour_start + timedelta(minutes=(number >> 8) % 60),
        cell=cell,
        quantity=1 + (number >> 16) % 9,
        user=(number >> 24) % DISTINCT_USERS,
    )
