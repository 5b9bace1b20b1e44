"""The fake's finance, catalog and audit endpoints, their rules, knobs and ground truth; the billing and
contracts-era streams' records checked against their JSON schemas (test_fake_endpoints.py checks the
items served against metronome-sdk 4.12's models)."""

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Tuple

import jsonschema
import pytest

from integration_tests.fake_metronome import (
    AUDIT_LOGS,
    BALANCES,
    BILLABLE_METRIC_DEFINITIONS,
    BILLING_STREAMS,
    CONTRACTS_ERA_STREAMS,
    CONTRACTS,
    CREDIT_GRANTS,
    CREDIT_TYPES,
    INVOICE_LINE_ITEMS,
    INVOICES,
    PACKAGES,
    PLANS,
    PRODUCTS,
    RATE_CARDS,
    Dataset,
    DatasetOptions,
    FakeMetronome,
    FaultProbabilities,
    audit_log_window,
    expected_audit_log_cursor,
    expected_audit_logs,
    expected_contracts,
    expected_records,
    invoice_line_item_ids,
    primary_key,
    without_nulls,
)
from integration_tests.fake_metronome.ground_truth import PRIMARY_KEYS
from integration_tests.test_fake_endpoints import BODIES, BY_NAME, Client

SCHEMAS = Path(__file__).parent.parent / "source_metronome" / "schemas"
OPTIONS = DatasetOptions(customers=3, metrics_per_customer=2, days_of_history=4)
CONFIG = {"start_date": "2024-03-01T00:00:00Z"}


@pytest.fixture
def fake(start_fake) -> FakeMetronome:
    return start_fake(OPTIONS)


@pytest.fixture
def client(fake) -> Client:
    return Client(fake)


def busiest(fake: FakeMetronome) -> str:
    """The customer with the most contracts and balances (the first)."""
    return fake.dataset.customers[0].id


# jsonschema checks `date-time` only with an optional package: timestamps must parse and carry an offset.
DATE_TIMES = jsonschema.FormatChecker(formats=())


@DATE_TIMES.checks("date-time", raises=ValueError)
def _date_time_with_offset(value: Any) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


def schema_of(stream: str) -> Dict[str, Any]:
    return json.loads((SCHEMAS / f"{stream}.json").read_text())


def _charge(line_item: Dict[str, Any]) -> Dict[str, Any]:
    """A line item without its tier and amounts."""
    return {name: value for name, value in line_item.items() if name not in ("tier", "quantity", "unit_price", "total")}


def assert_fit_schema_with_and_without_nulls(stream: str, records: List[Dict[str, Any]]) -> None:
    assert records
    validator = jsonschema.Draft7Validator(schema_of(stream), format_checker=DATE_TIMES)
    for record in records:
        assert list(validator.iter_errors(record)) == []
        assert list(validator.iter_errors(without_nulls(record))) == []


def spec_line_item_id(line_item: Dict[str, Any]) -> str:
    """The specification's digest, written out again here independently of the ground truth's code."""
    names = ["type", "name", "product_id", "product_type", "commit_id", "commit_type", "commit_segment_id"]
    nested = [("applied_commit_or_credit", "id"), ("applied_commit_or_credit", "type"), ("postpaid_commit", "id")]
    later = ["scheduled_charge_id", "subscription_id", "is_prorated", "professional_service_id", "discount_id", "reseller_type"]
    later += ["group_key", "group_value", "presentation_group_values", "pricing_group_values"]
    tier_and_origin = [("tier", "level"), ("tier", "starting_at")] + [("origin", name) for name in ("customer_id", "contract_id", "invoice_id", "line_item_id")]
    values = [line_item.get(name) for name in names] + [(line_item.get(outer) or {}).get(inner) for outer, inner in nested]
    values += [line_item.get(name) for name in later] + [(line_item.get(outer) or {}).get(inner) for outer, inner in tier_and_origin]
    values += [line_item.get("starting_at"), line_item.get("ending_before")]
    values.insert(1, (line_item.get("credit_type") or {}).get("id"))
    text = json.dumps(values, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class TestEveryServedItemFitsTheSdkAndTheSchemas:
    @pytest.mark.parametrize("stream", BILLING_STREAMS + CONTRACTS_ERA_STREAMS)
    @pytest.mark.parametrize("revision", [0, 1])
    def test_every_ground_truth_record_fits_its_streams_json_schema_with_and_without_nulls(self, start_fake, stream, revision):
        fake = start_fake(OPTIONS.with_changes(archived_share=0.34))
        fake.revision = revision

        records = expected_records(fake.dataset, {**CONFIG, "include_archived_customers": True})[stream]

        assert_fit_schema_with_and_without_nulls(stream, records)

    @pytest.mark.parametrize("stream", BILLING_STREAMS + CONTRACTS_ERA_STREAMS)
    def test_every_schema_is_draft_07_types_its_primary_key_and_describes_its_amounts(self, stream):
        schema = schema_of(stream)

        jsonschema.Draft7Validator.check_schema(schema)
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        assert schema["additionalProperties"] is True
        for field in PRIMARY_KEYS[stream]:
            assert field in schema["required"] and schema["properties"][field]["type"] == "string"
        for path, node in numbers(schema):
            if path.rsplit(".", 1)[-1] in ("amount", "total", "balance", "unit_price", "subtotal", "running_balance", "price", "amount_remaining"):
                assert node.get("description", "").startswith("An amount, in the credit type"), path


def numbers(node: Dict[str, Any], path: str = "$") -> List[Tuple[str, Dict[str, Any]]]:
    found = []
    kinds = node.get("type") if isinstance(node.get("type"), list) else [node.get("type")]
    if "number" in kinds:
        found.append((path, node))
    for name, child in (node.get("properties") or {}).items():
        found += numbers(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        found += numbers(node["items"], path)
    return found


class TestPagination:
    def test_given_the_busiest_customer_when_listing_contracts_at_the_largest_limit_then_more_than_one_page_comes_with_a_cursor(self, fake, client):
        contracts = BY_NAME["contracts"]

        first = client.page(contracts, busiest(fake), body={"include_archived": True}).json()
        second = client.page(contracts, busiest(fake), token=first["cursor"], body={"include_archived": True}).json()

        assert len(first["data"]) == 20 and first["cursor"]
        assert len(second["data"]) == fake.dataset.options.busiest_customer_contracts - 20 and second["cursor"] is None
        assert "next_page" not in first

    def test_given_balances_without_a_limit_then_pages_hold_25_and_the_token_goes_back_in_the_body(self, fake, client):
        balances = BY_NAME["balances"]

        first = client.page(balances, busiest(fake)).json()
        second = client.page(balances, busiest(fake), token=first["next_page"]).json()
        in_query = client.request("POST", balances.path, {**BODIES["balances"], "customer_id": busiest(fake)}, next_page=first["next_page"]).json()

        assert len(first["data"]) == 25 and second["data"] and second["next_page"] is None
        assert in_query["data"] == first["data"], "a token in the query is not this endpoint's: the first page comes again"

    def test_given_packages_without_a_limit_then_pages_hold_10(self, start_fake):
        fake = start_fake(OPTIONS.with_changes(packages=12))

        first = Client(fake).page(BY_NAME["packages"]).json()

        assert len(first["data"]) == 10 and first["next_page"]

    @pytest.mark.parametrize("token", [5, "garbage"])
    def test_given_a_malformed_cursor_in_the_body_then_400_with_a_message(self, fake, client, token):
        response = client.request("POST", "/v2/contracts/list", {"customer_id": busiest(fake), "cursor": token})

        assert response.status_code == 400 and "cursor" in response.json()["message"]

    @pytest.mark.parametrize("name", ["contracts", "balances", "credit_grants"])
    def test_given_a_token_when_replayed_with_another_body_then_400(self, fake, client, name):
        listing = BY_NAME[name]
        first = client.page(listing, busiest(fake), limit=2).json()

        response = client.page(listing, busiest(fake), token=first[listing.paging.answer_key], limit=2, body={"customer_ids": ["x"], "include_archived": False})

        assert response.status_code == 400


class TestInvoices:
    def test_every_customer_has_draft_finalized_and_void_invoices_each_totalling_its_line_items_exactly(self, fake, client):
        for customer in fake.dataset.customers:
            invoices = client.items(BY_NAME["invoices"], customer.id)

            assert {invoice["status"] for invoice in invoices} == {"DRAFT", "FINALIZED", "VOID"}
            for invoice in invoices:
                assert invoice["customer_id"] == customer.id
                assert invoice["total"] == sum(line["total"] for line in invoice["line_items"])
                assert any(line["total"] < 0 for line in invoice["line_items"]) == (invoice["status"] == "FINALIZED")

    def test_given_sort_when_listing_then_issued_at_ascends_by_default_and_descends_with_date_desc(self, fake, client):
        listing, customer_id = BY_NAME["invoices"], busiest(fake)

        default = client.items(listing, customer_id)
        ascending = client.items(listing, customer_id, sort="date_asc")
        descending = client.items(listing, customer_id, sort="date_desc")

        assert default == ascending == sorted(ascending, key=lambda invoice: (invoice["issued_at"], invoice["id"]))
        assert descending == ascending[::-1]
        assert client.page(listing, customer_id, sort="newest").status_code == 400

    def test_given_status_and_a_billing_period_range_when_listing_then_only_matching_invoices_come(self, fake, client):
        listing, customer_id = BY_NAME["invoices"], busiest(fake)
        everything = client.items(listing, customer_id)

        voids = client.items(listing, customer_id, status="VOID")
        february = client.items(listing, customer_id, starting_on="2024-02-01T00:00:00Z", ending_before="2024-03-01T00:00:00Z")

        assert voids == [invoice for invoice in everything if invoice["status"] == "VOID"] and voids
        assert february == [invoice for invoice in everything if invoice["start_timestamp"] == "2024-02-01T00:00:00+00:00"] and february
        assert client.page(listing, customer_id, starting_on="last week").status_code == 400

    def test_given_an_unknown_customer_when_listing_invoices_then_404(self, client):
        assert client.page(BY_NAME["invoices"], "no-such-customer").status_code == 404

    def test_given_a_revision_when_listing_again_then_the_draft_keeps_its_id_and_becomes_finalized_or_void_with_a_new_total(self, fake, client):
        listing = BY_NAME["invoices"]
        before = {customer.id: client.items(listing, customer.id) for customer in fake.dataset.customers}

        fake.revision = 1

        for position, customer in enumerate(fake.dataset.customers):
            after = {invoice["id"]: invoice for invoice in client.items(listing, customer.id)}
            draft = next(invoice for invoice in before[customer.id] if invoice["status"] == "DRAFT")
            assert after[draft["id"]]["status"] == ("FINALIZED" if position % 2 == 0 else "VOID")
            assert after[draft["id"]]["total"] > draft["total"]
            assert after[draft["id"]]["total"] == sum(line["total"] for line in after[draft["id"]]["line_items"])
            assert len(after) == len(before[customer.id])

    def test_given_line_items_reversed_then_each_invoice_serves_the_same_line_items_in_reverse_order(self, fake, client):
        before = client.items(BY_NAME["invoices"], busiest(fake))

        fake.line_items_reversed = True
        after = client.items(BY_NAME["invoices"], busiest(fake))

        assert [invoice["line_items"][::-1] for invoice in before] == [invoice["line_items"] for invoice in after]
        assert [{**invoice, "line_items": None} for invoice in before] == [{**invoice, "line_items": None} for invoice in after]

    def test_the_first_metric_is_charged_in_tiers_whose_line_items_differ_only_in_tier_and_amounts(self, fake, client):
        invoices = client.items(BY_NAME["invoices"], busiest(fake))

        levels = {line["tier"]["level"] for invoice in invoices for line in invoice["line_items"] if line.get("tier")}
        assert levels == {1.0, 2.0}
        for invoice in invoices:
            tiered = [line for line in invoice["line_items"] if line.get("tier")]
            for line in (line for line in tiered if line["tier"]["level"] == 2.0):
                [first] = [other for other in tiered if other["tier"]["level"] == 1.0 and _charge(other) == _charge(line)]
                assert first["quantity"] == 100.0 and line["unit_price"] == first["unit_price"] / 2

    def test_line_items_whose_identifying_fields_repeat_get_numbered_ids_in_content_order(self, fake, client):
        invoices = client.items(BY_NAME["invoices"], busiest(fake))

        for invoice in invoices:
            ids = invoice_line_item_ids(invoice["line_items"])
            digests = [spec_line_item_id(line) for line in invoice["line_items"]]
            assert len(set(ids)) == len(ids)
            for index, (line_item_id, digest) in enumerate(zip(ids, digests)):
                same = sorted(json.dumps(line, sort_keys=True, separators=(",", ":")) for line, other in zip(invoice["line_items"], digests) if other == digest)
                repeat = same.index(json.dumps(invoice["line_items"][index], sort_keys=True, separators=(",", ":"))) + 1
                assert line_item_id == (digest if repeat == 1 else f"{digest}-{repeat}")
        all_ids = [line_item_id for invoice in invoices for line_item_id in invoice_line_item_ids(invoice["line_items"])]
        assert any(line_item_id.endswith("-2") for line_item_id in all_ids)
        assert any(line_item_id.endswith("-3") for line_item_id in all_ids)


class TestContractsAndBalances:
    def test_given_include_archived_when_listing_contracts_then_archived_ones_come_only_with_it(self, fake, client):
        listing, customer_id = BY_NAME["contracts"], busiest(fake)

        active = client.items(listing, customer_id, body={})
        every = client.items(listing, customer_id, body={"include_archived": True})

        assert len(every) == fake.dataset.options.busiest_customer_contracts > 20
        assert [contract for contract in every if contract["archived_at"] is None] == active
        assert len(every) - len(active) == 1

    def test_given_include_balance_and_ledgers_when_listing_contracts_then_commits_carry_them_and_ledgers_add_up_to_balances(self, fake, client):
        listing, customer_id = BY_NAME["contracts"], busiest(fake)

        bare = client.items(listing, customer_id, body={})
        full = client.items(listing, customer_id, body={"include_balance": True, "include_ledgers": True})

        bare_balances = [balance for contract in bare for balance in contract["commits"] + contract["credits"]]
        full_balances = [balance for contract in full for balance in contract["commits"] + contract["credits"]]
        assert not any("balance" in balance or "ledger" in balance for balance in bare_balances)
        for balance in full_balances:
            assert balance["balance"] == sum(entry["amount"] for entry in balance["ledger"])

    @pytest.mark.parametrize(
        "body, status",
        [
            ({}, 400),
            ({"customer_id": ""}, 400),
            ({"customer_id": "no-such-customer"}, 404),
            ({"customer_id": "no-such-customer", "covering_date": "2024-03-01T00:00:00Z", "starting_at": "2024-03-01T00:00:00Z"}, 404),
        ],
        ids=["no_customer", "empty_customer", "unknown_customer", "unknown_customer_first"],
    )
    def test_given_no_or_an_unknown_customer_when_listing_contracts_then_400_or_404(self, client, body, status):
        assert client.request("POST", "/v2/contracts/list", body).status_code == status

    def test_given_covering_date_and_starting_at_together_when_listing_contracts_then_400(self, fake, client):
        body = {"customer_id": busiest(fake), "covering_date": "2024-03-01T00:00:00Z", "starting_at": "2024-03-01T00:00:00Z"}

        assert client.request("POST", "/v2/contracts/list", body).status_code == 400

    def test_given_the_balance_flags_when_listing_balances_then_contract_level_and_archived_ones_come_only_when_asked(self, fake, client):
        listing, customer = BY_NAME["balances"], fake.dataset.customers[1]

        own = client.items(listing, customer.id, body={})
        contract_level = client.items(listing, customer.id, body={"include_contract_balances": True})
        archived_too = client.items(listing, customer.id, body={"include_contract_balances": True, "include_archived": True})
        non_zero = client.items(listing, customer.id, body={"include_contract_balances": True, "include_archived": True, "exclude_zero_balances": True})

        assert len(own) == 1 and "contract" not in own[0] and own[0]["type"] == "CREDIT"
        assert len(own) < len(contract_level) < len(archived_too)
        assert {balance["type"] for balance in archived_too} == {"PREPAID", "CREDIT"}
        assert len(non_zero) == len(archived_too) - 1, "the archived contract's commit expired in full"

    def test_given_include_ledgers_when_listing_balances_then_each_ledger_adds_up_to_its_balance_and_deductions_name_finalized_invoices(self, fake, client):
        listing, customer_id = BY_NAME["balances"], busiest(fake)
        finalized = {invoice["id"] for invoice in client.items(BY_NAME["invoices"], customer_id, status="FINALIZED")}

        balances = client.items(listing, customer_id)

        for balance in balances:
            assert balance["balance"] == sum(entry["amount"] for entry in balance["ledger"])
        deducted = {entry["invoice_id"] for balance in balances for entry in balance["ledger"] if "invoice_id" in entry}
        assert deducted and deducted <= finalized


class TestCreditGrantsAndCatalog:
    def test_given_voided_grants_when_listing_grants_then_they_are_left_out_and_body_filters_narrow_the_list(self, fake, client):
        listing = BY_NAME["credit_grants"]
        customer_id = busiest(fake)

        grants = client.items(listing)
        theirs = client.items(listing, body={"customer_ids": [customer_id]})

        per_customer = fake.dataset.options.credit_grants_per_customer
        assert len(grants) == per_customer * len(fake.dataset.customers)
        assert not any(grant["reason"].startswith("Voided") for grant in grants)
        assert theirs == [grant for grant in grants if grant["customer_id"] == customer_id] and len(theirs) == per_customer

    @pytest.mark.parametrize("name", ["products", "packages"])
    def test_given_an_archive_filter_when_listing_then_not_archived_is_the_default_and_all_is_both(self, fake, client, name):
        listing = BY_NAME[name]

        default = client.items(listing, body={})
        active = client.items(listing, body={"archive_filter": "NOT_ARCHIVED"})
        archived = client.items(listing, body={"archive_filter": "ARCHIVED"})
        every = client.items(listing, body={"archive_filter": "ALL"})

        assert default == active and archived
        assert all(item["archived_at"] is None for item in active) and all(item["archived_at"] for item in archived)
        assert sorted(item["id"] for item in every) == sorted(item["id"] for item in active + archived)
        assert client.page(listing, body={"archive_filter": "SOME"}).status_code == 400

    def test_the_invoices_products_and_credit_types_refer_to_the_catalog(self, fake, client):
        products = {product["id"] for product in client.items(BY_NAME["products"])}
        credit_types = {credit_type["id"] for credit_type in client.items(BY_NAME["credit_types"])}

        lines = [line for invoice in client.items(BY_NAME["invoices"], busiest(fake)) for line in invoice["line_items"]]

        assert {line["product_id"] for line in lines if "product_id" in line} <= products
        assert {line["credit_type"]["id"] for line in lines} <= credit_types


class TestAuditLogs:
    def test_entries_are_oldest_first_by_default_newest_first_with_date_desc_and_two_share_a_timestamp(self, client):
        listing = BY_NAME["audit_logs"]

        ascending = client.items(listing)
        descending = client.items(listing, sort="date_desc")

        stamps = [entry["timestamp"] for entry in ascending]
        assert stamps == sorted(stamps) and len(set(stamps)) < len(stamps)
        assert descending == ascending[::-1]

    def test_given_a_window_when_paging_then_the_token_keeps_it_and_only_entries_inside_come(self, client):
        listing = BY_NAME["audit_logs"]
        window = {"starting_on": "2024-03-12T00:07:00Z", "ending_before": "2024-03-14T00:00:00Z"}
        everything = client.items(listing)

        inside = client.items(listing, limit=2, **window)

        assert inside == [entry for entry in everything if "2024-03-12T00:07:00+00:00" <= entry["timestamp"] < "2024-03-14T00:00:00+00:00"]
        assert len(inside) > 2

    def test_given_a_resource_when_filtering_then_only_its_entries_come_and_one_without_the_other_is_400(self, fake, client):
        listing, customer_id = BY_NAME["audit_logs"], busiest(fake)

        entries = client.items(listing, resource_type="customer", resource_id=customer_id)

        assert entries and all(entry["resource_id"] == customer_id for entry in entries)
        assert client.page(listing, resource_type="customer").status_code == 400
        assert client.page(listing, resource_id=customer_id).status_code == 400

    def test_given_the_default_knob_when_sending_next_page_with_a_window_then_400(self, fake, client):
        listing = BY_NAME["audit_logs"]
        first = client.page(listing, limit=2, starting_on="2024-03-12T00:00:00Z").json()

        resent = client.request("GET", listing.path, next_page=first["next_page"], limit=2, starting_on="2024-03-12T00:00:00Z")
        dropped = client.request("GET", listing.path, next_page=first["next_page"], limit=2)

        assert fake.audit_rejects_window_with_next_page is True
        assert resent.status_code == 400 and "next_page" in resent.json()["message"]
        assert dropped.status_code == 200

    def test_given_the_window_knob_off_when_sending_next_page_with_the_same_window_then_200_and_another_window_400(self, start_fake):
        fake = start_fake(OPTIONS, audit_rejects_window_with_next_page=False)
        client, listing = Client(fake), BY_NAME["audit_logs"]
        first = client.page(listing, limit=2, starting_on="2024-03-12T00:00:00Z").json()

        same = client.request("GET", listing.path, next_page=first["next_page"], limit=2, starting_on="2024-03-12T00:00:00Z")
        other = client.request("GET", listing.path, next_page=first["next_page"], limit=2, starting_on="2024-03-13T00:00:00Z")

        assert same.status_code == 200 and same.json()["data"]
        assert other.status_code == 400

    def test_given_the_default_knob_when_reaching_the_last_page_then_its_next_page_is_null(self, fake, client):
        pages = client.pages(BY_NAME["audit_logs"], limit=5)

        assert fake.audit_empty_last_page_with_token is False
        assert all(pages)

    def test_given_the_empty_last_page_knob_when_paging_then_an_empty_page_with_a_token_follows_and_the_next_ends_the_chain(self, start_fake):
        fake = start_fake(OPTIONS, audit_empty_last_page_with_token=True)
        client, listing = Client(fake), BY_NAME["audit_logs"]
        fake.audit_empty_last_page_with_token = False
        plain = client.items(listing, limit=5)
        fake.audit_empty_last_page_with_token = True

        answers, token = [], None
        while True:
            answer = client.page(listing, token=token, limit=5).json()
            answers.append(answer)
            token = answer["next_page"]
            if token is None:
                break

        assert [entry for answer in answers for entry in answer["data"]] == plain
        assert answers[-2]["data"] == [] and answers[-2]["next_page"] is not None
        assert answers[-1]["data"] == [] and answers[-3]["data"]

    def test_given_time_passing_or_a_revision_then_new_entries_arrive_with_later_timestamps(self, fake, client):
        listing = BY_NAME["audit_logs"]
        before = client.items(listing)

        fake.advance(days=1)
        later = client.items(listing)
        fake.revision = 1
        latest = client.items(listing)

        assert later[: len(before)] == before and len(later) > len(before)
        assert min(entry["timestamp"] for entry in later[len(before):]) > before[-1]["timestamp"]
        assert latest[:-1] == later and latest[-1]["timestamp"] > later[-1]["timestamp"]


class TestDisabledEndpoints:
    def test_given_a_family_group_then_every_family_in_it_is_off_and_switching_back_serves_again(self, start_fake):
        fake = start_fake(OPTIONS)
        client, customer_id = Client(fake), fake.dataset.customers[0].id

        fake.disabled_endpoints = {"plans_api": 403}
        off = [client.page(BY_NAME[name], customer_id).status_code for name in ("plans", "credit_grants")]
        costs = client.request("GET", f"/v1/customers/{customer_id}/costs", starting_on="2024-03-13T00:00:00Z", ending_before="2024-03-14T00:00:00Z")
        products = client.page(BY_NAME["products"])
        fake.disabled_endpoints = {}
        on = client.page(BY_NAME["plans"]).status_code

        assert off == [403, 403] and costs.status_code == 403
        assert products.status_code == 200 and on == 200

    @pytest.mark.parametrize("disabled", [{"contract": 403}, {"contracts": 500}])
    def test_given_an_unknown_family_or_a_status_other_than_403_or_404_then_value_error(self, disabled):
        with pytest.raises(ValueError):
            FakeMetronome(OPTIONS, disabled_endpoints=disabled)


class TestFaultsOnBodyPagedRoutes:
    def test_given_fault_paths_naming_a_new_route_then_it_fails_and_others_do_not(self, start_fake):
        fake = start_fake(OPTIONS, faults=FaultProbabilities(server_error=1.0), fault_paths=r"^/v2/contracts/list$")
        client = Client(fake)

        assert client.page(BY_NAME["contracts"], busiest(fake)).status_code == 500
        assert client.page(BY_NAME["plans"]).status_code == 200
        assert fake.requests[0].fault == "server_error"

    def test_given_pagination_faults_on_a_body_paged_route_then_an_empty_page_carries_a_cursor_and_a_sent_cursor_repeats(self, start_fake):
        fake = start_fake(OPTIONS)
        client, listing = Client(fake), BY_NAME["contracts"]
        first = client.page(listing, busiest(fake), limit=5).json()

        fake.faults = FaultProbabilities(empty_page_with_token=1.0)
        empty = client.page(listing, busiest(fake), limit=5).json()
        fake.faults = FaultProbabilities(repeated_token=1.0)
        repeated = client.page(listing, busiest(fake), token=first["cursor"], limit=5).json()

        assert empty["data"] == [] and empty["cursor"]
        assert repeated["data"] and repeated["cursor"] == first["cursor"]


class TestGroundTruth:
    @pytest.mark.parametrize("config", [CONFIG, {**CONFIG, "include_archived_customers": True}, {**CONFIG, "customer_ids": ["placeholder"]}], ids=["active", "archived_too", "configured_ids"])
    def test_each_streams_records_are_what_the_fake_serves_read_as_the_stream_reads_it(self, start_fake, config):
        fake = start_fake(OPTIONS.with_changes(archived_share=0.34))
        fake.revision = 1
        client = Client(fake)
        if config.get("customer_ids"):
            config = {**config, "customer_ids": [fake.dataset.customers[1].id, "unknown-customer"]}
        active = [customer.id for customer in fake.dataset.customers if not customer.archived]
        archived = [customer.id for customer in fake.dataset.customers if customer.archived]
        # Full refresh per-customer streams read archived customers too, whatever include_archived_customers says.
        read = config.get("customer_ids", active + archived)
        known = [customer_id for customer_id in read if fake.dataset.customer(customer_id)]

        expected = expected_records(fake.dataset, config)

        served = {
            INVOICES: [invoice for customer_id in known for invoice in client.items(BY_NAME["invoices"], customer_id)],
            CONTRACTS: [contract for customer_id in known for contract in client.items(BY_NAME["contracts"], customer_id, body={"include_archived": True})],
            BALANCES: [{**balance, "customer_id": customer_id} for customer_id in known for balance in client.items(BY_NAME["balances"], customer_id)],
            CREDIT_GRANTS: client.items(BY_NAME["credit_grants"]),
            PRODUCTS: client.items(BY_NAME["products"]),
            RATE_CARDS: client.items(BY_NAME["rate_cards"]),
            CREDIT_TYPES: client.items(BY_NAME["credit_types"]),
            PLANS: client.items(BY_NAME["plans"]),
            PACKAGES: client.items(BY_NAME["packages"]),
            BILLABLE_METRIC_DEFINITIONS: client.items(BY_NAME["billable_metric_definitions"], include_archived="true"),
            AUDIT_LOGS: client.items(BY_NAME["audit_logs"], starting_on=config["start_date"], ending_before=fake.now.isoformat()),
        }
        for stream, records in served.items():
            assert expected[stream] == records, stream
            assert len({primary_key(stream, record) for record in records}) == len(records), stream
        assert {invoice["customer_id"] for invoice in expected[INVOICES]} == set(known)

    def test_invoice_line_item_records_flatten_each_invoice_with_its_ids_and_period(self, fake):
        expected = expected_records(fake.dataset, CONFIG)

        rows = expected[INVOICE_LINE_ITEMS]

        assert len(rows) == sum(len(invoice["line_items"]) for invoice in expected[INVOICES])
        assert len({primary_key(INVOICE_LINE_ITEMS, row) for row in rows}) == len(rows)
        for invoice in expected[INVOICES]:
            own = [row for row in rows if row["invoice_id"] == invoice["id"]]
            assert [{name: row[name] for name in line} for row, line in zip(own, invoice["line_items"])] == invoice["line_items"]
            assert {(row["customer_id"], row["invoice_start_timestamp"], row["invoice_end_timestamp"]) for row in own} == {
                (invoice["customer_id"], invoice["start_timestamp"], invoice["end_timestamp"])
            }
            assert sum(row["total"] for row in own) == invoice["total"]

    def test_contracts_default_to_neither_balances_nor_ledgers_and_can_have_both(self, fake):
        bare = expected_contracts(fake.dataset, CONFIG)
        full = expected_contracts(fake.dataset, CONFIG, include_balance=True, include_ledgers=True)

        assert not any("balance" in commit for contract in bare for commit in contract["commits"])
        assert all("balance" in commit and "ledger" in commit for contract in full for commit in contract["commits"])

    def test_audit_logs_are_read_from_start_date_or_the_saved_cursor_inclusive_until_now(self, fake):
        first = expected_audit_logs(fake.dataset, CONFIG)
        cursor = expected_audit_log_cursor(fake.dataset, CONFIG)
        fake.advance(days=1)
        state = {AUDIT_LOGS: {"timestamp": cursor}}

        resumed = expected_audit_logs(fake.dataset, CONFIG, state=state)

        at_cursor = [entry for entry in first if entry["timestamp"] == cursor]
        assert cursor == first[-1]["timestamp"]
        assert resumed[: len(at_cursor)] == at_cursor, "entries at the cursor's moment are read again"
        assert all(entry["timestamp"] > cursor for entry in resumed[len(at_cursor) :]) and len(resumed) > len(at_cursor)
        start, end = audit_log_window(fake.dataset, {**CONFIG, "end_date": "2024-03-14T00:00:00Z"}, state=state)
        assert (start.isoformat(), end.isoformat()) == (cursor, "2024-03-14T00:00:00+00:00")
        assert expected_audit_log_cursor(fake.dataset, {**CONFIG, "end_date": "2024-03-01T00:00:00Z"}, state=state) == cursor

    def test_given_new_options_at_any_value_then_a_seeds_customers_metrics_and_usage_stay(self):
        default = Dataset(DatasetOptions(seed=7))
        changed = Dataset(
            DatasetOptions(seed=7, invoices_per_customer=9, contracts_per_customer=5, busiest_customer_contracts=0, credit_grants_per_customer=4, plans=1, packages=0, audit_entries_per_day=5)
        )

        assert changed.customers == default.customers and changed.metrics == default.metrics
