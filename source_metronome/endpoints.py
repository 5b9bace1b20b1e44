"""Every stream the connector emits, declared as data: its endpoint, family, pagination, keys and
record shape. Adding an endpoint of a known family is one entry here and a JSON schema in schemas/.

Families (source_metronome/streams/): AccountStream (an account-wide list), CustomerStream (one
partition per customer, with a date range when it has a cursor; synced as a full refresh, as one
without a cursor always is, it reads archived customers too), UsageStream (customer × billable metric), ContractStream and
RateCardStream (one partition per item of another list, declared as `partitions_from`), and the
streams emitted from the directory's lists.
"""

from dataclasses import replace
from datetime import timedelta
from typing import Tuple

import source_metronome.records as records
from source_metronome.directory import CUSTOMER_LISTING, CUSTOMER_METRIC_LISTING
from source_metronome.streams.account import AccountStream, AuditLogStream
from source_metronome.streams.endpoint import Endpoint, Windows
from source_metronome.streams.from_directory import BillableMetricsFromDirectory, CustomersFromDirectory
from source_metronome.streams.listed import ContractStream, RateCardStream
from source_metronome.streams.pagination import CURSOR_IN_BODY, NEXT_PAGE_IN_BODY, NEXT_PAGE_IN_QUERY_WITHOUT_LIMIT, UNPAGED
from source_metronome.streams.partitioned import CustomerStream
from source_metronome.streams.usage import UsageStream

COSTS_PATH = "/v1/customers/{customer_id}/costs"
INVOICES_PATH = "/v1/customers/{customer_id}/invoices"
# Metronome's docs give both date_asc and date_desc as the default order of invoices: pinned.
INVOICE_PARAMS = {"sort": "date_asc"}
# Archived items are read everywhere: finance joins old usage to archived products and metrics.
ALL_ARCHIVED = {"archive_filter": "ALL"}
INVOICE_BREAKDOWNS = Endpoint(
    name="invoice_breakdowns",
    path="/v1/customers/{customer_id}/invoices/breakdowns",
    family=CustomerStream,
    params=INVOICE_PARAMS,
    # A response covers at most 35 days of daily windows, or 24 hours of hourly ones
    # (metronome-sdk, invoices.list_breakdowns); no `status` is sent, so every status is listed.
    windows=Windows(setting="breakdown_window_size", longest={"DAY": timedelta(days=35), "HOUR": timedelta(hours=24)}),
    primary_key=["id", "breakdown_start_timestamp"],
    cursor="breakdown_end_timestamp",
    records=records.breakdown,
    feature="invoice breakdowns",
    docs="https://docs.metronome.com/api-reference/invoices/list-invoice-breakdowns",
)
CONTRACTS = "contracts (contract-based billing)"
CONTRACT_PRICING = "contract pricing (products and rate cards)"
PLANS = "plans (plan-based billing)"
# The endpoint's default is ENABLED only: every status is asked for, so none disappears from the table.
ALL_ALERT_STATUSES = {"alert_statuses": ["ENABLED", "DISABLED", "ARCHIVED"]}

# Declared apart: contract_edits and rate_card_rates are read once per item of these lists.
CONTRACTS_LIST = Endpoint(
    name="contracts",
    path="/v2/contracts/list",
    method="POST",
    family=CustomerStream,
    pagination=CURSOR_IN_BODY,
    # Metronome's limit for contracts is 20 a page.
    max_page_size=20,
    body={"include_archived": True},
    primary_key="id",
    records=records.with_customer,
    feature=CONTRACTS,
    docs="https://docs.metronome.com/api-reference/contracts/list-contracts",
)
RATE_CARDS_LIST = Endpoint(
    name="rate_cards",
    path="/v1/contract-pricing/rate-cards/list",
    method="POST",
    family=AccountStream,
    primary_key="id",
    feature=CONTRACT_PRICING,
    docs="https://docs.metronome.com/api-reference/contract-pricing/rate-cards/list-rate-cards",
)

STREAMS: Tuple[Endpoint, ...] = (
    Endpoint(
        name="usage_with_groups",
        path="/v1/usage/groups",
        method="POST",
        family=UsageStream,
        # group_key/group_value are null for ungrouped usage, and destinations cannot deduplicate on
        # null keys: group_id stands in for them (records.group_id).
        primary_key=["customer_id", "billable_metric_id", "window_size", "group_id", "starting_on"],
        cursor="ending_before",
        records=records.usage,
        docs="https://docs.metronome.com/api-reference/usage/get-usage-with-paginated-groups",
    ),
    # Two views of the same daily pending costs: with both in a sync, each page is requested once.
    Endpoint(
        name="customer_costs",
        path=COSTS_PATH,
        family=CustomerStream,
        primary_key=["customer_id", "start_timestamp"],
        cursor="end_timestamp",
        records=records.cost_day,
        docs="https://docs.metronome.com/api-reference/customers/get-costs",
    ),
    Endpoint(
        name="customer_cost_line_items",
        path=COSTS_PATH,
        family=CustomerStream,
        # line_item_id stands in for the line item, whose group fields may be null.
        primary_key=["customer_id", "start_timestamp", "credit_type_id", "line_item_id"],
        cursor="end_timestamp",
        records=records.cost_line_items,
        docs="https://docs.metronome.com/api-reference/customers/get-costs",
    ),
    # Invoices change until finalized and may be voided later, and reading them all costs what an
    # incremental read would (one request per customer): both views are full refresh, and share pages.
    Endpoint(
        name="invoices",
        path=INVOICES_PATH,
        family=CustomerStream,
        params=INVOICE_PARAMS,
        primary_key="id",
        records=records.with_customer,
        docs="https://docs.metronome.com/api-reference/invoices/list-invoices",
    ),
    Endpoint(
        name="invoice_line_items",
        path=INVOICES_PATH,
        family=CustomerStream,
        params=INVOICE_PARAMS,
        primary_key=["invoice_id", "line_item_id"],
        records=records.invoice_line_items,
        docs="https://docs.metronome.com/api-reference/invoices/list-invoices",
    ),
    # Daily (or hourly) windows of invoices, incremental like usage: backdated usage changes past
    # windows, which the lookback re-reads. Both views share pages, as invoices do.
    INVOICE_BREAKDOWNS,
    replace(
        INVOICE_BREAKDOWNS,
        name="invoice_breakdown_line_items",
        primary_key=["invoice_id", "breakdown_start_timestamp", "line_item_id"],
        records=records.breakdown_line_items,
    ),
    CONTRACTS_LIST,
    Endpoint(
        name="balances",
        path="/v1/contracts/customerBalances/list",
        method="POST",
        family=CustomerStream,
        pagination=NEXT_PAGE_IN_BODY,
        # The documented default page; Metronome documents no larger limit for this endpoint.
        max_page_size=25,
        # Without include_contract_balances only customer-level commits and credits come.
        body={"include_archived": True, "include_ledgers": True, "include_balance": True, "include_contract_balances": True},
        primary_key="id",
        records=records.with_customer,
        feature=CONTRACTS,
        docs="https://docs.metronome.com/api-reference/credits-and-commits/list-balances",
    ),
    Endpoint(
        name="credit_grants",
        path="/v1/credits/listGrants",
        method="POST",
        family=AccountStream,
        primary_key="id",
        feature="credit grants (plan-based billing)",
        docs="https://docs.metronome.com/api-reference/credits/list-grants",
    ),
    Endpoint(
        name="products",
        path="/v1/contract-pricing/products/list",
        method="POST",
        family=AccountStream,
        body=ALL_ARCHIVED,
        primary_key="id",
        feature=CONTRACT_PRICING,
        docs="https://docs.metronome.com/api-reference/contract-pricing/products/list-products",
    ),
    RATE_CARDS_LIST,
    Endpoint(
        name="credit_types",
        path="/v1/credit-types/list",
        family=AccountStream,
        primary_key="id",
        docs="https://docs.metronome.com/api-reference/credits/list-pricing-units",
    ),
    Endpoint(
        name="plans",
        path="/v1/plans",
        family=AccountStream,
        primary_key="id",
        feature=PLANS,
        docs="https://docs.metronome.com/api-reference/plans/list-plans",
    ),
    Endpoint(
        name="packages",
        path="/v1/packages/list",
        method="POST",
        family=AccountStream,
        body=ALL_ARCHIVED,
        # The documented default page; no larger limit is documented for packages.
        max_page_size=10,
        primary_key="id",
        feature="packages",
        docs="https://docs.metronome.com/api-reference/packages/list-packages",
    ),
    Endpoint(
        name="billable_metric_definitions",
        path="/v1/billable-metrics",
        family=AccountStream,
        params={"include_archived": "true"},
        primary_key="id",
        docs="https://docs.metronome.com/api-reference/billable-metrics/list-billable-metrics",
    ),
    Endpoint(
        name="audit_logs",
        path="/v1/auditLogs",
        family=AuditLogStream,
        params={"sort": "date_asc"},
        primary_key="id",
        cursor="timestamp",
        empty_page_ends_list=True,
        docs="https://docs.metronome.com/api-reference/audit-logs/get-audit-logs",
    ),
    # Each contract's edits, archived contracts too (the contracts list reads them with include_archived).
    Endpoint(
        name="contract_edits",
        path="/v2/contracts/getEditHistory",
        method="POST",
        family=ContractStream,
        partitions_from=CONTRACTS_LIST,
        pagination=UNPAGED,
        primary_key="id",
        records=records.with_contract,
        feature=CONTRACTS,
        docs="https://docs.metronome.com/api-reference/contracts/get-contract-edit-history",
    ),
    Endpoint(
        name="rate_card_rates",
        path="/v1/contract-pricing/rate-cards/getRateSchedule",
        method="POST",
        family=RateCardStream,
        partitions_from=RATE_CARDS_LIST,
        # Entries have no id: rate_id stands in for product, pricing group values and segment.
        primary_key=["rate_card_id", "rate_id"],
        records=records.rate_schedule_entry,
        feature=CONTRACT_PRICING,
        docs="https://docs.metronome.com/api-reference/contract-pricing/rate-cards/get-rate-schedule",
    ),
    Endpoint(
        name="customer_plans",
        path="/v1/customers/{customer_id}/plans",
        family=CustomerStream,
        primary_key=["customer_id", "id"],
        records=records.with_customer,
        feature=PLANS,
        docs="https://docs.metronome.com/api-reference/plans/list-customer-plans",
    ),
    Endpoint(
        name="customer_alerts",
        path="/v1/customer-alerts/list",
        method="POST",
        family=CustomerStream,
        pagination=NEXT_PAGE_IN_QUERY_WITHOUT_LIMIT,
        body=ALL_ALERT_STATUSES,
        primary_key=["customer_id", "alert_id"],
        records=records.customer_alert,
        feature="threshold notifications (customer alerts)",
        docs="https://docs.metronome.com/api-reference/alerts/list-customer-alerts",
    ),
    Endpoint(
        name="billing_provider_configurations",
        path="/v1/getCustomerBillingProviderConfigurations",
        method="POST",
        family=CustomerStream,
        pagination=UNPAGED,
        # Without include_archived, configurations the customer no longer uses would leave the table.
        body={"include_archived": True},
        primary_key="id",
        records=records.with_customer,
        feature="billing provider configurations",
        docs="https://docs.metronome.com/api-reference/customers/get-customer-billing-configurations",
    ),
    # The lists the sync reads to find its partitions, emitted as they were listed.
    replace(CUSTOMER_LISTING, family=CustomersFromDirectory),
    replace(CUSTOMER_METRIC_LISTING, family=BillableMetricsFromDirectory),
)
