"""contract_edits, rate_card_rates, customer_plans, customer_alerts and
billing_provider_configurations end to end: read through the connector's command line against the
fake Metronome and compared with the ground truth, with the requests each one costs."""

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from integration_tests.conftest import discover_streams
from integration_tests.fake_metronome import (
    BILLING_PROVIDER_CONFIGURATIONS,
    CONTRACT_EDITS,
    CONTRACTS,
    CONTRACTS_ERA_STREAMS,
    CUSTOMER_ALERTS,
    CUSTOMER_PLANS,
    RATE_CARD_RATES,
    DatasetOptions,
    expected_contracts,
    expected_contracts_era_records,
)
from integration_tests.fake_metronome.finance import contracts_of
from integration_tests.record_checks import assert_records_fit_schema, assert_records_match

SMALL = DatasetOptions(customers=3, metrics_per_customer=2, days_of_history=10)
SETTINGS = {"start_date": "2024-02-01"}
ALL_NEW = {stream: "full_refresh" for stream in CONTRACTS_ERA_STREAMS}
SCHEMAS = Path(__file__).parent.parent / "source_metronome" / "schemas"
CONTRACTS_LIST = "/v2/contracts/list"
EDIT_HISTORY = "/v2/contracts/getEditHistory"
RATE_SCHEDULE = "/v1/contract-pricing/rate-cards/getRateSchedule"
RATE_CARDS_LIST = "/v1/contract-pricing/rate-cards/list"


def _signature(request) -> tuple:
    return (request.method, request.path, json.dumps(request.body, sort_keys=True), tuple(sorted((name, tuple(values)) for name, values in request.query.items())))


class TestDiscover:
    def test_each_stream_is_full_refresh_with_its_primary_key(self, start_fake, tmp_path: Path):
        streams = discover_streams(start_fake(SMALL), SETTINGS, tmp_path)

        keys = {name: streams[name]["source_defined_primary_key"] for name in CONTRACTS_ERA_STREAMS}
        assert keys == {
            CONTRACT_EDITS: [["id"]],
            RATE_CARD_RATES: [["rate_card_id"], ["rate_id"]],
            CUSTOMER_PLANS: [["customer_id"], ["id"]],
            CUSTOMER_ALERTS: [["customer_id"], ["alert_id"]],
            BILLING_PROVIDER_CONFIGURATIONS: [["id"]],
        }
        assert all(streams[name]["supported_sync_modes"] == ["full_refresh"] for name in CONTRACTS_ERA_STREAMS)


class TestFullSync:
    @pytest.mark.parametrize("page_size", [100, 2])
    def test_every_stream_equals_the_ground_truth_and_fits_its_schema(self, start_fake, sync, page_size: int):
        fake = start_fake(SMALL)

        run = sync(fake, {**SETTINGS, "page_size": page_size}, sync_modes=ALL_NEW)

        expected = expected_contracts_era_records(fake.dataset, SETTINGS)
        for stream in CONTRACTS_ERA_STREAMS:
            assert run.records(stream), f"{stream}: the fake serves records, the sync emitted none"
            assert_records_match(stream, run.records(stream), expected[stream])
            assert_records_fit_schema(stream, json.loads((SCHEMAS / f"{stream}.json").read_text()), run.records(stream))
        assert not run.error_messages() and not run.log_messages("WARN")

    def test_given_an_end_date_then_the_rate_schedule_ends_there_and_later_segments_are_left_out(self, start_fake, sync):
        fake = start_fake(SMALL)
        settings = {"start_date": "2023-01-01", "end_date": "2024-02-01"}

        run = sync(fake, settings, sync_modes={RATE_CARD_RATES: "full_refresh"})

        expected = expected_contracts_era_records(fake.dataset, settings)[RATE_CARD_RATES]
        assert_records_match(RATE_CARD_RATES, run.records(RATE_CARD_RATES), expected)
        bodies = [request.body for request in fake.requests if request.path == RATE_SCHEDULE]
        assert bodies and all(body["starting_at"] == "2023-01-01T00:00:00+00:00" and body["ending_before"] == "2024-02-01T00:00:00+00:00" for body in bodies)
        unbounded = expected_contracts_era_records(fake.dataset, {"start_date": "2023-01-01"})[RATE_CARD_RATES]
        assert any(rate["starting_at"] >= "2024-02-01" for rate in unbounded)
        assert not any(rate["starting_at"] >= "2024-02-01" for rate in run.records(RATE_CARD_RATES))

    def test_entries_sharing_a_product_get_distinct_rate_ids(self, start_fake, sync):
        fake = start_fake(SMALL)

        rates = sync(fake, SETTINGS, sync_modes={RATE_CARD_RATES: "full_refresh"}).records(RATE_CARD_RATES)

        per_product = Counter((rate["rate_card_id"], rate["product_id"]) for rate in rates)
        assert max(per_product.values()) >= 4, "some product should have several pricing group values and segments"
        assert len({(rate["rate_card_id"], rate["rate_id"]) for rate in rates}) == len(rates)
        assert {rate.get("billing_frequency") for rate in rates} >= {"MONTHLY", "ANNUAL"}

    def test_alerts_of_every_status_and_archived_billing_configurations_are_read(self, start_fake, sync):
        fake = start_fake(SMALL)

        run = sync(fake, SETTINGS, sync_modes={CUSTOMER_ALERTS: "full_refresh", BILLING_PROVIDER_CONFIGURATIONS: "full_refresh"})

        assert {alert["alert"]["status"] for alert in run.records(CUSTOMER_ALERTS)} == {"enabled", "disabled", "archived"}
        assert any(configuration.get("archived_at") for configuration in run.records(BILLING_PROVIDER_CONFIGURATIONS))
        alert_requests = [request for request in fake.requests if request.path == "/v1/customer-alerts/list"]
        assert all(request.body["alert_statuses"] == ["ENABLED", "DISABLED", "ARCHIVED"] and "limit" not in request.query for request in alert_requests)
        assert len(alert_requests) > len(fake.dataset.customers), "the busiest customer's alerts take more than one page"


class TestRequests:
    @pytest.mark.parametrize("order", [(CONTRACTS, CONTRACT_EDITS), (CONTRACT_EDITS, CONTRACTS)])
    def test_given_contracts_and_contract_edits_then_each_contracts_page_is_requested_once(self, start_fake, sync, order):
        fake = start_fake(SMALL)

        run = sync(fake, SETTINGS, sync_modes={stream: "full_refresh" for stream in order})

        listed = Counter(_signature(request) for request in fake.requests if request.path == CONTRACTS_LIST)
        # The busiest customer's 23 contracts take two pages of 20.
        assert sum(listed.values()) == len(fake.dataset.customers) + 1 and max(listed.values()) == 1
        assert_records_match(CONTRACTS, run.records(CONTRACTS), expected_contracts(fake.dataset, SETTINGS))
        assert_records_match(CONTRACT_EDITS, run.records(CONTRACT_EDITS), expected_contracts_era_records(fake.dataset, SETTINGS)[CONTRACT_EDITS])

    def test_edits_cost_one_request_per_contract_archived_ones_included(self, start_fake, sync):
        fake = start_fake(SMALL)

        sync(fake, SETTINGS, sync_modes={CONTRACT_EDITS: "full_refresh"})

        edited = Counter(request.body["contract_id"] for request in fake.requests if request.path == EDIT_HISTORY)
        contracts = [contract for customer in fake.dataset.customers for contract in contracts_of(fake.dataset, customer)]
        assert sorted(edited) == sorted(contract.id for contract in contracts) and set(edited.values()) == {1}
        assert any(contract.archived_at for contract in contracts)

    def test_rates_cost_one_request_per_rate_card_page_and_the_rate_cards_are_listed_once(self, start_fake, sync):
        fake = start_fake(SMALL)
        page_size = 5

        sync(fake, {**SETTINGS, "page_size": page_size}, sync_modes={RATE_CARD_RATES: "full_refresh"})

        per_card = Counter(rate["rate_card_id"] for rate in expected_contracts_era_records(fake.dataset, SETTINGS)[RATE_CARD_RATES])
        schedule_requests = Counter(request.body["rate_card_id"] for request in fake.requests if request.path == RATE_SCHEDULE)
        assert schedule_requests == {card: math.ceil(count / page_size) for card, count in per_card.items()}
        assert sum(request.path == RATE_CARDS_LIST for request in fake.requests) == math.ceil(len(per_card) / page_size)


class TestAccountsWithoutAFeature:
    @pytest.mark.parametrize("status", [403, 404])
    def test_a_refused_endpoint_skips_its_stream_with_one_warning_and_the_sync_goes_on(self, start_fake, sync, status: int):
        fake = start_fake(SMALL, disabled_endpoints={stream: status for stream in CONTRACTS_ERA_STREAMS})

        run = sync(fake, SETTINGS, sync_modes={**ALL_NEW, CONTRACTS: "full_refresh"})

        assert run.records(CONTRACTS)
        assert not any(run.records(stream) for stream in CONTRACTS_ERA_STREAMS)
        skipped = Counter(message.split()[2] for message in run.log_messages("WARN") if message.startswith("Skipping the "))
        assert skipped == Counter(CONTRACTS_ERA_STREAMS)
        assert len(run.log_messages("WARN")) == len(CONTRACTS_ERA_STREAMS)
        assert not run.error_messages()

    @pytest.mark.parametrize("status", [403, 404])
    def test_an_account_without_contracts_skips_contract_edits_at_the_contracts_list(self, start_fake, sync, status: int):
        fake = start_fake(SMALL, disabled_endpoints={"contracts_api": status})

        run = sync(fake, SETTINGS, sync_modes={CONTRACT_EDITS: "full_refresh", RATE_CARD_RATES: "full_refresh", CUSTOMER_PLANS: "full_refresh"})

        assert not run.records(CONTRACT_EDITS) and not run.records(RATE_CARD_RATES) and run.records(CUSTOMER_PLANS)
        warnings = run.log_messages("WARN")
        assert sorted(message.split()[2] for message in warnings) == [CONTRACT_EDITS, RATE_CARD_RATES]
        assert not any(request.path == EDIT_HISTORY for request in fake.requests)
        assert not run.error_messages()
