"""credit_types: the account's pricing units from GET /v1/credit-types/list, paged in the query,
read whole every sync. Every account has them: a 403 there is a rejected token, not a missing
feature. Unlike the audit log's, a page here handing back its token, or an empty page carrying one, is
a fault."""

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import config, error, last_state, list_request, page, read_stream, warnings

PATH = "/v1/credit-types/list"


def _read(**kwargs):
    return read_stream("credit_types", config(), sync_mode=SyncMode.full_refresh, **kwargs)


class TestFullRefresh:
    @HttpMocker()
    def test_given_two_pages_when_read_then_every_credit_type_is_emitted_as_served(self, http_mocker: HttpMocker = None):
        http_mocker.get(list_request(PATH), page([{"id": "usd", "name": "USD (cents)"}], next_page="p2"))
        http_mocker.get(list_request(PATH, next_page="p2"), page([{"id": "credits", "name": "Credits", "is_currency": False}]))

        output = _read()

        assert [message.record.data for message in output.records] == [{"id": "usd", "name": "USD (cents)"}, {"id": "credits", "name": "Credits", "is_currency": False}]
        # An account-wide list is read whole every sync: nothing to resume from.
        assert last_state(output) == {"__ab_no_cursor_state_message": True}
        assert not output.errors


class TestBrokenPagination:
    """Only the audit log ends with an empty page carrying a token: elsewhere either is a fault."""

    @HttpMocker()
    def test_given_a_page_handing_back_the_token_it_was_sent_when_read_then_pagination_ends_with_a_warning(self, http_mocker: HttpMocker = None):
        http_mocker.get(list_request(PATH), page([{"id": "usd", "name": "USD (cents)"}], next_page="p2"))
        http_mocker.get(list_request(PATH, next_page="p2"), page([{"id": "eur", "name": "EUR (cents)"}], next_page="p2"))

        output = _read()

        assert [message.record.data["id"] for message in output.records] == ["usd", "eur"]
        assert warnings(output) == ["Metronome's GET /v1/credit-types/list answered with the same next_page token it was sent; pagination ended there."]

    @HttpMocker()
    def test_given_an_empty_page_with_a_token_when_read_then_pagination_ends_with_a_warning(self, http_mocker: HttpMocker = None):
        http_mocker.get(list_request(PATH), page([{"id": "usd", "name": "USD (cents)"}], next_page="p2"))
        http_mocker.get(list_request(PATH, next_page="p2"), page([], next_page="p3"))

        output = _read()

        assert [message.record.data["id"] for message in output.records] == ["usd"]
        assert warnings(output) == ["Metronome's GET /v1/credit-types/list answered an empty page that still carries a next_page token; pagination ended there."]


class TestRejectedToken:
    @HttpMocker()
    def test_given_a_403_from_an_endpoint_every_account_has_when_read_then_the_token_is_rejected(self, http_mocker: HttpMocker = None):
        http_mocker.get(list_request(PATH), error(403, "Forbidden"))

        output = _read(expecting_exception=True)

        assert [error.trace.error.failure_type for error in output.errors] == [FailureType.config_error]
