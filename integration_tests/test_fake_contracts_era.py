"""The fake's contract-edit, rate-schedule, customer-plan, alert and billing-provider endpoints: what
the dataset holds, their strict parameters and paging (test_fake_endpoints.py checks their items
against the SDK's models, test_fake_finance_catalog.py their records against the schemas)."""

import json

import pytest

from integration_tests.fake_metronome import DatasetOptions
from integration_tests.fake_metronome.catalog import rate_card_items
from integration_tests.fake_metronome.contracts_era import ALERTS_PAGE
from integration_tests.fake_metronome.finance import contracts_of
from integration_tests.test_fake_endpoints import BY_NAME, Client

OPTIONS = DatasetOptions(customers=3, metrics_per_customer=2, days_of_history=4)
EDITS, RATES, PLANS, ALERTS, CONFIGURATIONS = (BY_NAME[family] for family in ("contract_edits", "rate_card_rates", "customer_plans", "customer_alerts", "billing_provider_configurations"))

@pytest.fixture
def fake(start_fake):
    return start_fake(OPTIONS)


@pytest.fixture
def client(fake) -> Client:
    return Client(fake)


class TestWhatTheDatasetHolds:
    def test_rate_schedules_share_products_across_pricing_group_values_segments_and_billing_frequencies(self, fake, client):
        entries = client.every_item(RATES)

        by_product = {}
        for entry in entries:
            by_product.setdefault(entry["product_id"], []).append(entry)
        assert any(len({json.dumps(entry.get("pricing_group_values"), sort_keys=True) for entry in group}) > 1 for group in by_product.values())
        assert any(len({entry["starting_at"] for entry in group}) > 1 for group in by_product.values())
        assert any(len({entry.get("billing_frequency") for entry in group}) > 1 for group in by_product.values())

    def test_alerts_come_in_all_three_statuses_and_billing_configurations_include_archived_ones(self, fake, client):
        alerts, configurations = client.every_item(ALERTS), client.every_item(CONFIGURATIONS)

        assert {item["alert"]["status"] for item in alerts} == {"enabled", "disabled", "archived"}
        assert any(item["archived_at"] for item in configurations)
        assert any(fake.dataset.customers[0].id == contract.customer_id and contract.archived_at for contract in contracts_of(fake.dataset, fake.dataset.customers[0]))


class TestParametersAndPaging:
    def test_given_no_alert_statuses_then_only_enabled_alerts_come(self, fake, client):
        customer_id = fake.dataset.customers[1].id

        items = client.items(ALERTS, customer_id, body={})

        assert items and {item["alert"]["status"] for item in items} == {"enabled"}

    def test_alerts_come_in_pages_of_the_fakes_size_and_refuse_a_limit(self, fake, client):
        customer_id = fake.dataset.customers[0].id

        pages = client.pages(ALERTS, customer_id)
        with_limit = client.page(ALERTS, customer_id, limit=5)

        assert len(pages) > 1 and len(pages[0]) == ALERTS_PAGE
        assert with_limit.status_code == 400 and "limit" in with_limit.json()["message"]

    def test_rate_schedules_page_with_a_small_limit_and_filter_by_the_range(self, fake, client):
        card = rate_card_items(fake.dataset)[0]["id"]
        body = {"rate_card_id": card, "starting_at": "2020-01-01T00:00:00Z"}

        pages = client.pages(RATES, body=body, limit=3)
        bounded = client.items(RATES, body={**body, "ending_before": "2024-02-01T00:00:00Z"})

        assert len(pages) > 1 and all(len(page) == 3 for page in pages[:-1])
        assert 0 < len(bounded) < sum(map(len, pages))

    def test_unpaged_endpoints_answer_data_alone_and_refuse_page_parameters(self, fake, client):
        customer = fake.dataset.customers[0]
        contract = contracts_of(fake.dataset, customer)[0]
        edits_body = {"customer_id": customer.id, "contract_id": contract.id}

        answer = client.request("POST", EDITS.path, edits_body)
        paged = client.request("POST", EDITS.path, edits_body, limit=10)
        configurations = client.request("POST", CONFIGURATIONS.path, {"customer_id": customer.id})

        assert answer.status_code == 200 and set(answer.json()) == {"data"}
        assert paged.status_code == 400
        assert configurations.status_code == 200 and not any(item["archived_at"] for item in configurations.json()["data"])

    @pytest.mark.parametrize(
        "method, path, body",
        [
            ("POST", "/v2/contracts/getEditHistory", {"contract_id": "x"}),
            ("POST", "/v1/contract-pricing/rate-cards/getRateSchedule", {"starting_at": "2024-01-01T00:00:00Z"}),
            ("POST", "/v1/contract-pricing/rate-cards/getRateSchedule", {"rate_card_id": "{card}", "starting_at": "yesterday"}),
            ("POST", "/v1/contract-pricing/rate-cards/getRateSchedule", {"rate_card_id": "{card}", "starting_at": "2024-01-01T00:00:00Z", "sort": "asc"}),
            ("POST", "/v1/customer-alerts/list", {"customer_id": "{customer}", "alert_statuses": ["ON"]}),
            ("POST", "/v1/customer-alerts/list", {"customer_id": "{customer}", "include_archived": True}),
            ("POST", "/v1/getCustomerBillingProviderConfigurations", {"customer_id": "{customer}", "include_archived": "yes"}),
            ("POST", "/v1/getCustomerBillingProviderConfigurations", {}),
        ],
    )
    def test_given_a_missing_malformed_or_unknown_parameter_then_400_with_a_message(self, fake, client, method, path, body):
        names = {"{card}": rate_card_items(fake.dataset)[0]["id"], "{customer}": fake.dataset.customers[0].id}
        body = {name: names.get(value, value) if isinstance(value, str) else value for name, value in body.items()}

        response = client.request(method, path, body)

        assert response.status_code == 400 and response.json()["message"]

    def test_given_an_unknown_query_parameter_on_customer_plans_then_400(self, fake, client):
        assert client.request("GET", f"/v1/customers/{fake.dataset.customers[0].id}/plans", sort="asc").status_code == 400

    def test_given_another_customers_contract_then_404(self, fake, client):
        other = contracts_of(fake.dataset, fake.dataset.customers[1])[0]

        response = client.request("POST", EDITS.path, {"customer_id": fake.dataset.customers[0].id, "contract_id": other.id})

        assert response.status_code == 404
