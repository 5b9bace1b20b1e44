"""Every endpoint the fake serves, one row each: its family (what `FakeMetronome.disabled_endpoints`
switches off), method, path, paging (pagination.py) and handler (the whole list a request selects),
and the metronome-sdk 4.12 model its items parse with (test_fake_endpoints.py checks every row).
"""

import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Pattern, Sequence, Tuple

from integration_tests.fake_metronome import audit, breakdowns, catalog, contracts_era, finance, usage
from integration_tests.fake_metronome.pagination import BODY_PAGING, CURSOR_PAGING, NO_LIMIT, QUERY_PAGING, UNPAGED, Paging, serve_page, token_of
from integration_tests.fake_metronome.request import ApiError, Request

Handler = Callable[[Any, str, Request], List[Dict[str, Any]]]


@dataclass(frozen=True)
class Endpoint:
    family: str
    method: str
    # `{name}` stands for one path segment, handed to the handler as request.path_params[name].
    path: str
    handler: Handler
    # The SDK model of one served item, "module:Name" under metronome.types.
    sdk_model: str
    paging: Paging = QUERY_PAGING

    @property
    def pattern(self) -> Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path) + "$")


AUDIT_PAGING = Paging(
    carried=("starting_on", "ending_before"),
    rejects_carried_knob="audit_rejects_window_with_next_page",
    empty_last_page_knob="audit_empty_last_page_with_token",
)

ENDPOINTS: Tuple[Endpoint, ...] = (
    Endpoint("customers", "GET", "/v1/customers", catalog.serve_customers, "v1.customer_detail:CustomerDetail"),
    Endpoint("billable_metrics", "GET", "/v1/customers/{customer_id}/billable-metrics", catalog.serve_customer_metrics, "v1.customer_list_billable_metrics_response:CustomerListBillableMetricsResponse"),
    Endpoint("billable_metric_definitions", "GET", "/v1/billable-metrics", catalog.serve_account_metrics, "v1.billable_metric_list_response:BillableMetricListResponse"),
    Endpoint("usage", "POST", "/v1/usage/groups", usage.serve_usage, "v1.usage_list_with_groups_response:UsageListWithGroupsResponse"),
    Endpoint("costs", "GET", "/v1/customers/{customer_id}/costs", usage.serve_costs, "v1.customer_list_costs_response:CustomerListCostsResponse"),
    Endpoint("invoices", "GET", "/v1/customers/{customer_id}/invoices", finance.serve_invoices, "v1.customers.invoice:Invoice"),
    Endpoint("invoice_breakdowns", "GET", "/v1/customers/{customer_id}/invoices/breakdowns", breakdowns.serve_breakdowns, "v1.customers.invoice_list_breakdowns_response:InvoiceListBreakdownsResponse"),
    Endpoint("contracts", "POST", "/v2/contracts/list", finance.serve_contracts, "shared.contract_v2:ContractV2", CURSOR_PAGING),
    # The SDK: `limit` defaults to 25.
    Endpoint("balances", "POST", "/v1/contracts/customerBalances/list", finance.serve_balances, "v1.contract_list_balances_response:ContractListBalancesResponse", BODY_PAGING.with_default_limit(25)),
    Endpoint("credit_grants", "POST", "/v1/credits/listGrants", finance.serve_credit_grants, "v1.credit_grant_list_response:CreditGrantListResponse"),
    Endpoint("credit_types", "GET", "/v1/credit-types/list", catalog.serve_credit_types, "v1.pricing_unit_list_response:PricingUnitListResponse"),
    Endpoint("products", "POST", "/v1/contract-pricing/products/list", catalog.serve_products, "v1.contracts.product_list_response:ProductListResponse"),
    Endpoint("rate_cards", "POST", "/v1/contract-pricing/rate-cards/list", catalog.serve_rate_cards, "v1.contracts.rate_card_list_response:RateCardListResponse"),
    Endpoint("plans", "GET", "/v1/plans", catalog.serve_plans, "v1.plan_list_response:PlanListResponse"),
    # The SDK: "Max number of results that should be returned", default 10.
    Endpoint("packages", "POST", "/v1/packages/list", catalog.serve_packages, "v1.package_list_response:PackageListResponse", QUERY_PAGING.with_default_limit(10)),
    Endpoint("audit_logs", "GET", "/v1/auditLogs", audit.serve_audit_logs, "v1.audit_log_list_response:AuditLogListResponse", AUDIT_PAGING),
    Endpoint("contract_edits", "POST", "/v2/contracts/getEditHistory", contracts_era.serve_edits, "v2.contract_get_edit_history_response:Data", UNPAGED),
    Endpoint("rate_card_rates", "POST", "/v1/contract-pricing/rate-cards/getRateSchedule", contracts_era.serve_rate_schedule, "v1.contracts.rate_card_retrieve_rate_schedule_response:Data"),
    Endpoint("customer_plans", "GET", "/v1/customers/{customer_id}/plans", contracts_era.serve_customer_plans, "v1.customers.plan_list_response:PlanListResponse"),
    Endpoint("customer_alerts", "POST", "/v1/customer-alerts/list", contracts_era.serve_customer_alerts, "v1.customers.customer_alert:CustomerAlert", NO_LIMIT.with_default_limit(contracts_era.ALERTS_PAGE)),
    Endpoint("billing_provider_configurations", "POST", "/v1/getCustomerBillingProviderConfigurations", contracts_era.serve_billing_configurations, "v1.customer_retrieve_billing_configurations_response:Data", UNPAGED),
)
_PATTERNS = [(endpoint, endpoint.pattern) for endpoint in ENDPOINTS]

# Families switched off together, for an account on only one of Metronome's two billing models
# (a plans account may have no contracts or contract pricing, a contracts account may
# refuse the older Plans endpoints).
FAMILY_GROUPS: Dict[str, Tuple[str, ...]] = {
    "contracts_api": ("contracts", "balances", "products", "rate_cards", "packages", "contract_edits", "rate_card_rates"),
    "plans_api": ("plans", "credit_grants", "costs", "customer_plans"),
}


def find_endpoint(method: str, path: str) -> Optional[Tuple[Endpoint, Dict[str, str]]]:
    """The row serving this request, with the path's parameters."""
    for endpoint, pattern in _PATTERNS:
        match = pattern.match(path)
        if endpoint.method == method and match:
            return endpoint, match.groupdict()
    return None


def check_disabled(disabled: Mapping[str, int]) -> None:
    known = {endpoint.family for endpoint in ENDPOINTS} | set(FAMILY_GROUPS)
    unknown = sorted(set(disabled) - known)
    if unknown:
        raise ValueError(f"unknown endpoint families {unknown}; known: {sorted(known)}")
    for name, status in disabled.items():
        if status not in (403, 404):
            raise ValueError(f"{name}: a disabled family answers 403 or 404, not {status}")


def disabled_error(disabled: Mapping[str, int], family: str) -> Optional[ApiError]:
    """The error a switched-off family answers (its own setting first, then its group's)."""
    status = disabled.get(family) or next((status for group, status in disabled.items() if family in FAMILY_GROUPS.get(group, ())), None)
    if status == 403:
        return ApiError(403, f"This feature is not enabled for your account ({family}); contact Metronome to enable it")
    return ApiError(404, "Not found") if status == 404 else None


def sends_token(endpoint: Endpoint, query: Mapping[str, Sequence[str]], body: Any) -> bool:
    try:
        return token_of(endpoint.paging, query, body if isinstance(body, dict) else {}) is not None
    except ApiError:
        # A malformed token: serve() answers 400 for it.
        return False


def serve(endpoint: Endpoint, path_params: Mapping[str, str], dataset: Any, style: str, knobs: Any, method: str, path: str, query: Mapping[str, Sequence[str]], body: Any, fault: Optional[str]) -> Dict[str, Any]:
    """The page a request asks for; ApiError for a 4xx."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")

    def items_of(carried: Mapping[str, str]) -> List[Dict[str, Any]]:
        return endpoint.handler(dataset, style, Request(method, path, query, body, path_params, carried))

    return serve_page(endpoint.paging, items_of, method, path, query, body, knobs, fault)
