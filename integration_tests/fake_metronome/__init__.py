"""A fake Metronome API for end-to-end tests, and the ground truth of what a sync of it must emit.

See server.py (FakeMetronome, its knobs and request log), endpoints.py (every route, one table),
pagination.py, dataset.py (what the account holds) and ground_truth*.py (expected records and
cursors); integration_tests/README.md describes the layout. What other tests use is re-exported here.
"""

from integration_tests.fake_metronome.dataset import DEFAULT_NOW, Dataset, DatasetOptions
from integration_tests.fake_metronome.faults import FaultProbabilities
from integration_tests.fake_metronome.ground_truth import (
    BILLABLE_METRICS, COST_LINE_ITEMS, COSTS, CUSTOMERS, USAGE, cursors_of, expected_billable_metrics, expected_cost_line_items, expected_cursors,
    expected_customers, expected_line_item_cursors, expected_records, group_id, line_item_id, primary_key, read_plan, without_nulls,
)
from integration_tests.fake_metronome.ground_truth_billing import (
    AUDIT_LOGS, BALANCES, BILLABLE_METRIC_DEFINITIONS, BILLING_STREAMS, CONTRACTS, CREDIT_GRANTS, CREDIT_TYPES, INVOICE_LINE_ITEMS, INVOICES,
    PACKAGES, PLANS, PRODUCTS, RATE_CARDS, audit_log_window, expected_audit_log_cursor, expected_audit_logs, expected_billing_records,
    expected_contracts, invoice_line_item_ids,
)
from integration_tests.fake_metronome.ground_truth_contracts_era import (
    BILLING_PROVIDER_CONFIGURATIONS, CONTRACT_EDITS, CONTRACTS_ERA_STREAMS, CUSTOMER_ALERTS, CUSTOMER_PLANS, RATE_CARD_RATES,
    expected_contracts_era_records, rate_id,
)
from integration_tests.fake_metronome.server import DEFAULT_TOKEN, FakeMetronome, LoggedRequest
from integration_tests.fake_metronome.timestamps import OFFSET_STYLE, Z_MILLIS_STYLE

__all__ = [
    "AUDIT_LOGS", "BALANCES", "BILLABLE_METRICS", "BILLABLE_METRIC_DEFINITIONS", "BILLING_PROVIDER_CONFIGURATIONS", "BILLING_STREAMS", "CONTRACTS",
    "CONTRACTS_ERA_STREAMS", "CONTRACT_EDITS", "COSTS", "COST_LINE_ITEMS", "CREDIT_GRANTS", "CREDIT_TYPES", "CUSTOMERS", "CUSTOMER_ALERTS",
    "CUSTOMER_PLANS", "DEFAULT_NOW", "DEFAULT_TOKEN", "Dataset", "DatasetOptions", "FakeMetronome", "FaultProbabilities", "INVOICES",
    "INVOICE_LINE_ITEMS", "LoggedRequest", "OFFSET_STYLE", "PACKAGES", "PLANS", "PRODUCTS", "RATE_CARDS", "RATE_CARD_RATES", "USAGE",
    "Z_MILLIS_STYLE", "audit_log_window", "cursors_of", "expected_audit_log_cursor", "expected_audit_logs", "expected_billable_metrics",
    "expected_billing_records", "expected_contracts", "expected_contracts_era_records", "expected_cost_line_items", "expected_cursors",
    "expected_customers", "expected_line_item_cursors", "expected_records", "group_id", "invoice_line_item_ids", "line_item_id", "primary_key",
    "rate_id", "read_plan", "without_nulls",
]
