"""A fake Metronome API for end-to-end tests, and the ground truth of what a sync of it must emit.

See server.py (FakeMetronome, its knobs and request log), dataset.py (what the account holds)
and ground_truth.py (expected records and cursors).
"""

from integration_tests.fake_metronome.dataset import DEFAULT_NOW, Dataset, DatasetOptions
from integration_tests.fake_metronome.faults import FaultProbabilities
from integration_tests.fake_metronome.ground_truth import (
    BILLABLE_METRICS,
    COST_LINE_ITEMS,
    COSTS,
    CUSTOMERS,
    USAGE,
    cursors_of,
    expected_billable_metrics,
    expected_cost_line_items,
    expected_cursors,
    expected_customers,
    expected_line_item_cursors,
    expected_records,
    group_id,
    line_item_id,
    primary_key,
    read_plan,
    without_nulls,
)
from integration_tests.fake_metronome.request_log import LoggedRequest
from integration_tests.fake_metronome.server import DEFAULT_TOKEN, FakeMetronome
from integration_tests.fake_metronome.timestamps import OFFSET_STYLE, Z_MILLIS_STYLE

__all__ = [
    "BILLABLE_METRICS",
    "COST_LINE_ITEMS",
    "COSTS",
    "CUSTOMERS",
    "DEFAULT_NOW",
    "DEFAULT_TOKEN",
    "Dataset",
    "DatasetOptions",
    "FakeMetronome",
    "FaultProbabilities",
    "LoggedRequest",
    "OFFSET_STYLE",
    "USAGE",
    "Z_MILLIS_STYLE",
    "cursors_of",
    "expected_billable_metrics",
    "expected_cost_line_items",
    "expected_cursors",
    "expected_customers",
    "expected_line_item_cursors",
    "expected_records",
    "group_id",
    "line_item_id",
    "primary_key",
    "read_plan",
    "without_nulls",
]
