"""customer_alerts: POST /v1/customer-alerts/list per customer asking for every status, `next_page`
in the query and no `limit` (the SDK's page without a limit), keyed by customer and alert.id."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from source_metronome import SourceMetronome
from unit_tests.builders import BASE, CUSTOMER, OTHER_CUSTOMER, catalog, config, customer, error, mock_every_customer, page

ALERTS_URL = f"{BASE}/customer-alerts/list"
EVERY_STATUS = ["ENABLED", "DISABLED", "ARCHIVED"]


def _alerts_request(customer_id: str, next_page=None) -> HttpRequest:
    # Exactly these query parameters: no limit, which the endpoint does not take.
    return HttpRequest(ALERTS_URL, query_params={"next_page": next_page} if next_page else {}, body={"customer_id": customer_id, "alert_statuses": EVERY_STATUS})


def _alert(alert_id: str, status: str) -> dict:
    return {"alert": {"id": alert_id, "name": alert_id, "status": status, "threshold": 100.0, "type": "spend_threshold_reached", "updated_at": "2024-01-01T00:00:00+00:00"}, "customer_status": None}


def _read(**overrides):
    return read(SourceMetronome(), config(**overrides), catalog("customer_alerts", sync_mode=SyncMode.full_refresh))


class TestFullRefresh:
    @HttpMocker()
    def test_given_every_status_on_two_pages_when_read_then_each_alert_is_keyed_by_customer_and_alert_id(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer(), customer(OTHER_CUSTOMER, "Other")])
        http_mocker.post(_alerts_request(CUSTOMER), page([_alert("a1", "enabled"), _alert("a2", "disabled")], next_page="more"))
        http_mocker.post(_alerts_request(CUSTOMER, next_page="more"), page([_alert("a3", "archived")]))
        # The same notification on two customers: two records, one per customer.
        http_mocker.post(_alerts_request(OTHER_CUSTOMER), page([_alert("a1", "enabled")]))

        output = _read(max_concurrency=1)

        rows = sorted((message.record.data["customer_id"], message.record.data["alert_id"], message.record.data["alert"]["status"]) for message in output.records)
        assert rows == sorted([(CUSTOMER, "a1", "enabled"), (CUSTOMER, "a2", "disabled"), (CUSTOMER, "a3", "archived"), (OTHER_CUSTOMER, "a1", "enabled")])


class TestFeatureOff:
    @HttpMocker()
    def test_given_alerts_refused_for_the_account_when_read_then_the_stream_is_skipped_with_one_warning(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer()])
        http_mocker.post(_alerts_request(CUSTOMER), error(403, "Forbidden"))

        output = _read()

        assert not output.records and not output.errors
        warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        assert len(warnings) == 1 and warnings[0].startswith("Skipping the customer_alerts stream")
