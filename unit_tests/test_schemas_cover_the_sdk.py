"""Schemas cover the SDK: every stream's schema, as discover declares it, names every top-level field
of the metronome-sdk model its records come from. Records keep undeclared fields (the schemas allow
additional properties), but a destination that types its columns from the declared schema (most
warehouses) drops or buries them, so a field Metronome serves would be lost without a word.

SOURCES is the one table of where each stream's records come from: a new stream names its model here.
"""

import copy
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Tuple, Union, get_args, get_origin

import pytest
from metronome.types.shared.contract_v2 import ContractV2
from metronome.types.v1.audit_log_list_response import AuditLogListResponse
from metronome.types.v1.billable_metric_list_response import BillableMetricListResponse
from metronome.types.v1.contract_list_balances_response import ContractListBalancesResponse
from metronome.types.v1.contracts.product_list_response import ProductListResponse
from metronome.types.v1.contracts.rate_card_list_response import RateCardListResponse
from metronome.types.v1.contracts.rate_card_retrieve_rate_schedule_response import Data as RateScheduleEntry
from metronome.types.v1.credit_grant_list_response import CreditGrantListResponse
from metronome.types.v1.customer_detail import CustomerDetail
from metronome.types.v1.customer_list_billable_metrics_response import CustomerListBillableMetricsResponse
from metronome.types.v1.customer_list_costs_response import CreditTypes, CreditTypesLineItemBreakdown, CustomerListCostsResponse
from metronome.types.v1.customer_retrieve_billing_configurations_response import Data as BillingProviderConfiguration
from metronome.types.v1.customers.customer_alert import CustomerAlert
from metronome.types.v1.customers.invoice import Invoice, LineItem
from metronome.types.v1.customers.invoice_list_breakdowns_response import InvoiceListBreakdownsResponse
from metronome.types.v1.customers.plan_list_response import PlanListResponse as CustomerPlanListResponse
from metronome.types.v1.package_list_response import PackageListResponse
from metronome.types.v1.plan_list_response import PlanListResponse
from metronome.types.v1.pricing_unit_list_response import PricingUnitListResponse
from metronome.types.v1.usage_list_with_groups_response import UsageListWithGroupsResponse
from metronome.types.v2.contract_get_edit_history_response import Data as ContractEdit

from source_metronome.endpoints import STREAMS
from unit_tests.builders import config, discovered


@dataclass(frozen=True)
class Source:
    """One SDK model a stream's records are made from, and how (source_metronome/records.py)."""

    # A pydantic model, or a Union of them (an item is one of the members: each member's fields count).
    model: Any
    how: str
    # SDK field -> the column a record carries it in.
    renamed: Mapping[str, str] = field(default_factory=dict)
    # SDK field -> why no column of this stream carries it.
    left_out: Mapping[str, str] = field(default_factory=dict)


AS_SERVED = "one record per item, as served"
WITH_CUSTOMER = "one record per item, as served, with the customer_id it was read for"
LINE_ITEM = "one record per line item, as served, with its invoice's id, customer and period and a line_item_id"

SOURCES: Dict[str, Tuple[Source, ...]] = {
    "usage_with_groups": (Source(UsageListWithGroupsResponse, "one record per usage window, with its customer, metric, window size and group_id"),),
    "customer_costs": (Source(CustomerListCostsResponse, "one record per customer and day, as served, with the customer_id"),),
    "customer_cost_line_items": (
        Source(
            CustomerListCostsResponse,
            "one record per day × credit type × line item: the day's bounds on each",
            left_out={"credit_types": "flattened: its keys are credit_type_id, its entries the records"},
        ),
        Source(
            CreditTypes,
            "the credit type of the line item",
            renamed={"name": "credit_type_name"},
            left_out={"cost": "the credit type's total for the day: customer_costs carries it", "line_item_breakdown": "flattened: one record per entry"},
        ),
        Source(CreditTypesLineItemBreakdown, "the line item's own fields", renamed={"name": "line_item_name"}),
    ),
    "invoices": (Source(Invoice, WITH_CUSTOMER),),
    "invoice_line_items": (Source(LineItem, LINE_ITEM),),
    "invoice_breakdowns": (Source(InvoiceListBreakdownsResponse, WITH_CUSTOMER),),
    "invoice_breakdown_line_items": (Source(LineItem, f"{LINE_ITEM}, and the breakdown's window"),),
    "contracts": (Source(ContractV2, WITH_CUSTOMER),),
    "balances": (Source(ContractListBalancesResponse, f"{WITH_CUSTOMER} (a commit or a credit)"),),
    "credit_grants": (Source(CreditGrantListResponse, AS_SERVED),),
    "products": (Source(ProductListResponse, AS_SERVED),),
    "rate_cards": (Source(RateCardListResponse, AS_SERVED),),
    "credit_types": (Source(PricingUnitListResponse, AS_SERVED),),
    "plans": (Source(PlanListResponse, AS_SERVED),),
    "packages": (Source(PackageListResponse, AS_SERVED),),
    "billable_metric_definitions": (Source(BillableMetricListResponse, AS_SERVED),),
    "audit_logs": (Source(AuditLogListResponse, AS_SERVED),),
    "contract_edits": (Source(ContractEdit, "one record per edit, as served, with its customer and contract"),),
    "rate_card_rates": (Source(RateScheduleEntry, "one record per schedule entry, as served, with its rate card and a rate_id"),),
    "customer_plans": (Source(CustomerPlanListResponse, WITH_CUSTOMER),),
    "customer_alerts": (Source(CustomerAlert, f"{WITH_CUSTOMER} and the alert's id as alert_id"),),
    "billing_provider_configurations": (Source(BillingProviderConfiguration, WITH_CUSTOMER),),
    "customers": (Source(CustomerDetail, "one record per customer, as GET /v1/customers lists it"),),
    "billable_metrics": (Source(CustomerListBillableMetricsResponse, WITH_CUSTOMER),),
}


def sdk_fields(model: Any) -> Dict[str, str]:
    """Each top-level field an item of the model may carry, as named in JSON -> the model it is of."""
    if get_origin(model) is Union:
        return {name: of for member in get_args(model) for name, of in sdk_fields(member).items()}
    return {info.alias or name: model.__name__ for name, info in model.model_fields.items()}


def undeclared(schema: Mapping[str, Any], sources: Tuple[Source, ...]) -> List[str]:
    """The SDK fields the schema declares no column for, as `Model.field` (`(as column)` when renamed)."""
    declared = schema["properties"]
    missing = []
    for source in sources:
        for name, model in sdk_fields(source.model).items():
            column = source.renamed.get(name, name)
            if name not in source.left_out and column not in declared:
                missing.append(f"{model}.{name}" + (f" (as {column})" if column != name else ""))
    return missing


def stale(sources: Tuple[Source, ...]) -> List[str]:
    """Renamed or left-out fields that are no field of their model (a table gone out of date)."""
    return [name for source in sources for name in (*source.renamed, *source.left_out) if name not in sdk_fields(source.model)]


STREAM_NAMES = [endpoint.name for endpoint in STREAMS]


@pytest.fixture(scope="module")
def catalog():
    return discovered(config())


class TestEveryStreamsSchemaDeclaresTheFieldsOfItsSdkModel:
    @pytest.mark.parametrize("stream", STREAM_NAMES)
    def test_the_discovered_schema_declares_every_top_level_field_of_the_sdk_model_its_records_come_from(self, catalog, stream):
        assert undeclared(catalog[stream].json_schema, SOURCES[stream]) == []

    def test_given_a_schema_without_a_field_of_its_model_then_that_field_is_reported(self, catalog):
        schema = copy.deepcopy(catalog["customers"].json_schema)
        del schema["properties"]["updated_at"]

        assert undeclared(schema, SOURCES["customers"]) == ["CustomerDetail.updated_at"]

    def test_given_a_renamed_field_missing_under_its_column_then_it_is_reported_with_the_column(self, catalog):
        schema = copy.deepcopy(catalog["customer_cost_line_items"].json_schema)
        del schema["properties"]["line_item_name"]
        # Declared under its SDK name does not count: records carry it as line_item_name.
        schema["properties"]["name"] = {"type": ["null", "string"]}

        assert undeclared(schema, SOURCES["customer_cost_line_items"]) == ["CreditTypesLineItemBreakdown.name (as line_item_name)"]

    def test_given_a_union_model_then_a_field_of_only_one_member_is_required_too(self, catalog):
        schema = copy.deepcopy(catalog["balances"].json_schema)
        # A commit has a rollover_fraction, a credit has a recurring_credit_id.
        del schema["properties"]["rollover_fraction"]
        del schema["properties"]["recurring_credit_id"]

        assert undeclared(schema, SOURCES["balances"]) == ["Commit.rollover_fraction", "Credit.recurring_credit_id"]


class TestEveryStreamNamesItsSdkModel:
    def test_every_declared_stream_has_an_entry_in_the_table_and_the_table_no_other(self):
        assert sorted(set(STREAM_NAMES) - set(SOURCES)) == []
        assert sorted(set(SOURCES) - set(STREAM_NAMES)) == []

    @pytest.mark.parametrize("stream", STREAM_NAMES)
    def test_every_renamed_or_left_out_field_is_a_field_of_its_model(self, stream):
        assert stale(SOURCES[stream]) == []

    def test_given_a_renamed_field_its_model_does_not_have_then_it_is_reported(self):
        assert stale((Source(CreditTypes, "", renamed={"name": "credit_type_name", "label": "credit_type_label"}, left_out={"cost": "", "total": ""}),)) == ["label", "total"]
