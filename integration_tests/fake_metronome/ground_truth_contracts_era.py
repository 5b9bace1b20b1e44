"""What a correct sync must emit for contract_edits, rate_card_rates, customer_plans,
customer_alerts and billing_provider_configurations, computed from the dataset (contracts_era.py
builds the objects; the API is not asked).

Written from the streams' specification, independently of any connector code (all full refresh):
- `contract_edits` (id): every edit of every contract of each customer read, archived contracts
  included, as served, with customer_id and contract_id.
- `rate_card_rates` (rate_card_id, rate_id): every rate card's schedule from config's start_date
  (floored to midnight UTC) to its end_date (ceiled to midnight UTC) when set, as served, with
  rate_card_id and rate_id (see rate_id).
- `customer_plans` (customer_id, id): each customer read's plans as served, with customer_id.
- `customer_alerts` (customer_id, alert_id): each customer read's notifications in all three
  statuses (ENABLED, DISABLED, ARCHIVED), as served, with customer_id and alert_id = alert.id.
- `billing_provider_configurations` (id): each customer read's configurations, archived ones
  included, as served, with customer_id.

Records keep the served nulls (compare after ground_truth.without_nulls, as for the other streams).
"""

import hashlib
import json
from typing import Any, Dict, Iterable, List, Mapping, Optional

from integration_tests.fake_metronome import catalog, contracts_era, finance
from integration_tests.fake_metronome.customers_read import per_customer_read
from integration_tests.fake_metronome.dataset import Customer, Dataset
from integration_tests.fake_metronome.timestamps import ceil_to_midnight, floor_to_midnight, format_timestamp, parse_timestamp

CONTRACT_EDITS = "contract_edits"
RATE_CARD_RATES = "rate_card_rates"
CUSTOMER_PLANS = "customer_plans"
CUSTOMER_ALERTS = "customer_alerts"
BILLING_PROVIDER_CONFIGURATIONS = "billing_provider_configurations"
CONTRACTS_ERA_STREAMS = (CONTRACT_EDITS, RATE_CARD_RATES, CUSTOMER_PLANS, CUSTOMER_ALERTS, BILLING_PROVIDER_CONFIGURATIONS)
CONTRACTS_ERA_PRIMARY_KEYS = {
    CONTRACT_EDITS: ("id",),
    RATE_CARD_RATES: ("rate_card_id", "rate_id"),
    CUSTOMER_PLANS: ("customer_id", "id"),
    CUSTOMER_ALERTS: ("customer_id", "alert_id"),
    BILLING_PROVIDER_CONFIGURATIONS: ("id",),
}


def rate_id(entry: Mapping[str, Any]) -> str:
    """The first 16 hex digits of SHA-256 of the compact JSON (sorted keys) of [product_id,
    pricing_group_values (null when absent or empty), billing_frequency, starting_at, ending_before],
    the timestamps in the `+00:00` form."""

    def moment(name: str) -> Optional[str]:
        return format_timestamp(parse_timestamp(entry[name])) if entry.get(name) else None

    identity = [entry.get("product_id"), entry.get("pricing_group_values") or None, entry.get("billing_frequency"), moment("starting_at"), moment("ending_before")]
    text = json.dumps(identity, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def expected_rate_card_rates(dataset: Dataset, config: Mapping[str, Any]) -> List[Dict[str, Any]]:
    starting_at = floor_to_midnight(parse_timestamp(config["start_date"]))
    ending_before = ceil_to_midnight(parse_timestamp(config["end_date"])) if config.get("end_date") else None
    return [
        {**entry, "rate_card_id": card["id"], "rate_id": rate_id(entry)}
        for card in catalog.rate_card_items(dataset)
        for entry in contracts_era.rate_schedule_items(dataset, card["id"], starting_at=starting_at, ending_before=ending_before)
    ]


def expected_contracts_era_records(dataset: Dataset, config: Mapping[str, Any]) -> Dict[str, List[Dict[str, Any]]]:
    """The five streams' records (also part of ground_truth.expected_records), each as the module
    docstring says."""

    def edits(customer: Customer) -> Iterable[Dict[str, Any]]:
        for contract in finance.contracts_of(dataset, customer):
            yield from ({**edit, "contract_id": contract.id} for edit in contracts_era.edit_items(dataset, contract.id, customer))

    def alerts(customer: Customer) -> Iterable[Dict[str, Any]]:
        return ({**alert, "alert_id": alert["alert"]["id"]} for alert in contracts_era.customer_alert_items(dataset, customer))

    return {
        CONTRACT_EDITS: per_customer_read(dataset, config, edits),
        RATE_CARD_RATES: expected_rate_card_rates(dataset, config),
        CUSTOMER_PLANS: per_customer_read(dataset, config, lambda customer: contracts_era.customer_plan_items(dataset, customer)),
        CUSTOMER_ALERTS: per_customer_read(dataset, config, alerts),
        BILLING_PROVIDER_CONFIGURATIONS: per_customer_read(
            dataset, config, lambda customer: contracts_era.billing_configuration_items(dataset, customer, include_archived=True)
        ),
    }
