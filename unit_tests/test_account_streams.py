"""Account-wide lists: read whole, every page, in a full refresh."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker

from source_metronome import SourceMetronome
from unit_tests.builders import CUSTOMER, OTHER_CUSTOMER, catalog, config, customer, customers_request, page


class TestFullRefresh:
    @HttpMocker()
    def test_given_two_pages_when_read_then_both_are_emitted_in_one_sync(self, http_mocker: HttpMocker = None):
        # The CDK would read one page per sync ("resumable full refresh"): streams/base.py opts out.
        http_mocker.get(customers_request(), page([customer()], next_page="p2"))
        http_mocker.get(customers_request(next_page="p2"), page([customer(OTHER_CUSTOMER, "Other")]))

        output = read(SourceMetronome(), config(), catalog("customers", sync_mode=SyncMode.full_refresh))

        assert [message.record.data["id"] for message in output.records] == [CUSTOMER, OTHER_CUSTOMER]
        assert not output.errors
