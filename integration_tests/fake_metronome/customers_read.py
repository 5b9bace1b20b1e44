"""Which customers a sync reads, shared by every part of the ground truth: the configured ids, else
every customer for a stream synced as a full refresh, which overwrites its table (customers,
billable_metrics, invoices, invoice_line_items, contracts, balances, ..., and usage, costs and
invoice breakdowns when the catalog picks full refresh for them, or usage with window_size NONE or
current_period), and for an incremental sync (usage, costs, invoice breakdowns) every active
customer, and archived ones with include_archived_customers."""

from typing import Any, List, Mapping

from integration_tests.fake_metronome.dataset import Customer, Dataset


def customer_ids_read(dataset: Dataset, config: Mapping[str, Any], every_customer: bool = False) -> List[str]:
    """Active customers as listed, then archived ones (the connector reads them in creation order;
    the ground truth's records are compared whatever their order). `every_customer`: the stream is
    synced as a full refresh."""
    if config.get("customer_ids"):
        return list(dict.fromkeys(config["customer_ids"]))
    # Metronome lists active customers by default and archived ones only with only_archived=true.
    active = [customer.id for customer in dataset.customers if not customer.archived]
    archived = [customer.id for customer in dataset.customers if customer.archived]
    return active + (archived if every_customer or config.get("include_archived_customers") else [])


def customers_read(dataset: Dataset, config: Mapping[str, Any], every_customer: bool = False) -> List[Customer]:
    """The customers read that Metronome knows (configured ids it does not know are left out)."""
    return [customer for customer in map(dataset.customer, customer_ids_read(dataset, config, every_customer)) if customer is not None]
