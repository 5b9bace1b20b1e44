"""packages: the account's packages, archived ones included, from POST /v1/packages/list, 10 a page
(the documented default; no larger limit is documented), read whole every sync; skipped when the
account has no packages."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker

from source_metronome import SourceMetronome
from unit_tests.builders import assert_skipped_as_a_feature_off, catalog, config, error, list_request, page

PATH = "/v1/packages/list"
ALL_ARCHIVED = {"archive_filter": "ALL"}


def _package(package_id: str, archived_at=None) -> dict:
    return {"id": package_id, "name": "Starter", "archived_at": archived_at}


class TestFullRefresh:
    @HttpMocker()
    def test_given_archived_packages_over_two_pages_of_ten_when_read_then_all_are_emitted(self, http_mocker: HttpMocker = None):
        first = [_package(f"pk{n}") for n in range(10)]
        http_mocker.post(list_request(PATH, body=ALL_ARCHIVED, limit=10), page(first, next_page="p2"))
        http_mocker.post(list_request(PATH, body=ALL_ARCHIVED, limit=10, next_page="p2"), page([_package("old", archived_at="2024-02-01T00:00:00Z")]))

        output = read(SourceMetronome(), config(), catalog("packages", sync_mode=SyncMode.full_refresh))

        assert [message.record.data["id"] for message in output.records] == [f"pk{n}" for n in range(10)] + ["old"]
        assert output.records[-1].record.data["archived_at"] == "2024-02-01T00:00:00Z"
        assert not output.errors


class TestFeatureOff:
    @HttpMocker()
    def test_given_an_account_without_packages_when_read_then_the_stream_is_skipped_with_one_warning(self, http_mocker: HttpMocker = None):
        http_mocker.post(list_request(PATH, body=ALL_ARCHIVED, limit=10), error(403, "Packages are not enabled for this account"))

        output = read(SourceMetronome(), config(), catalog("packages", sync_mode=SyncMode.full_refresh))

        assert_skipped_as_a_feature_off(output, "packages")
