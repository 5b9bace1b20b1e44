"""What GET /v1/customers/{id}/costs answers, before pagination and timestamp formatting.

A day's cost per metric is its events' quantity × the metric's price, so costs move with usage
(late events included). Line items break a metric down by its first group key, if it has one.
Amounts are counted in quarter cents and divided once, so every cost and sum is exact in binary.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List

from integration_tests.fake_metronome.dataset import Customer, Dataset
from integration_tests.fake_metronome.events import batches
from integration_tests.fake_metronome.timestamps import ONE_DAY, steps


@dataclass(frozen=True)
class CostDay:
    start_timestamp: datetime
    end_timestamp: datetime
    credit_types: Dict[str, Dict[str, Any]]


def cost_days(dataset: Dataset, customer: Customer, starting_on: datetime, ending_before: datetime) -> List[CostDay]:
    return [
        CostDay(day, day + ONE_DAY, _credit_types(dataset, customer, day))
        for day in steps(starting_on, ending_before, ONE_DAY, dataset.now)
    ]


def _credit_types(dataset: Dataset, customer: Customer, day: datetime) -> Dict[str, Dict[str, Any]]:
    quarters_by_type: Dict[str, int] = {}
    credit_types: Dict[str, Dict[str, Any]] = {}
    for metric in dataset.metrics_of(customer):
        day_batches = batches(dataset, customer.id, metric, day, day + ONE_DAY)
        key = metric.group_keys[0] if metric.group_keys else None
        entry = credit_types.setdefault(metric.credit_type.id, {"name": metric.credit_type.name, "cost": 0, "line_item_breakdown": []})
        for group_value in dataset.group_values(metric, key) if key else [None]:
            quantity = sum(batch.quantity for batch in day_batches if key is None or batch.cell[0] == group_value)
            quarters = quantity * metric.price_quarter_cents
            quarters_by_type[metric.credit_type.id] = quarters_by_type.get(metric.credit_type.id, 0) + quarters
            line_item: Dict[str, Any] = {"name": metric.name, "cost": quarters / 4}
            if key:
                line_item.update(group_key=key, group_value=group_value)
            entry["line_item_breakdown"].append(line_item)
    for credit_type_id, entry in credit_types.items():
        entry["cost"] = quarters_by_type[credit_type_id] / 4
    return credit_types
