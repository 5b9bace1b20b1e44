"""usage_with_groups: one partition per (customer, billable metric), POST /v1/usage/groups over
whole UTC days, grouped as the config asks, with a cursor per partition."""

import jsonschema
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    CUSTOMER,
    METRIC,
    OTHER_CUSTOMER,
    OTHER_METRIC,
    archived_customer,
    config,
    customer,
    customers_request,
    error,
    last_state,
    metric,
    metrics_request,
    mock_every_customer,
    page,
    read_stream,
    records,
    schema,
    state_of,
    usage_item,
    usage_request,
)

STREAM = "usage_with_groups"
SCHEMA = schema(STREAM)


def _read(cfg, state=None, sync_mode=SyncMode.incremental, **kwargs):
    return read_stream(STREAM, cfg, state, sync_mode, **kwargs)


def _one_customer_one_metric(http_mocker: HttpMocker, full_refresh: bool = False, **metric_fields) -> None:
    # A full refresh reads both customer lists (the archived one is empty here); an incremental sync only the active one.
    if full_refresh:
        mock_every_customer(http_mocker, [customer()])
    else:
        http_mocker.get(customers_request(), page([customer()]))
    http_mocker.get(metrics_request(), page([metric(**metric_fields)]))



def _saved_cursor(ending_before: str):
    return state_of(STREAM, [{"partition": {"customer_id": CUSTOMER, "billable_metric_id": METRIC}, "cursor": {"ending_before": ending_before}}])


class TestRecords:
    @staticmethod
    def _read_two_days(http_mocker: HttpMocker):
        """The 1st, and the 15th with its timestamps in Z with milliseconds; the request asks for
        the range aligned to midnights, through today."""
        _one_customer_one_metric(http_mocker)
        http_mocker.post(usage_request(), page([usage_item(1, 5.5), usage_item(15, None, form="{:02d}T00:00:00.000Z")]))
        return records(_read(config()))

    @HttpMocker()
    def test_given_a_metric_when_read_then_records_carry_partition_name_window_and_group_id(self, http_mocker: HttpMocker = None):
        found = self._read_two_days(http_mocker)

        # The CDK's serializer leaves null fields (group_key, group_value here) out of records.
        assert found[0] == {
            "starting_on": "2024-03-01T00:00:00+00:00",
            "ending_before": "2024-03-02T00:00:00+00:00",
            "value": 5.5,
            "customer_id": CUSTOMER,
            "billable_metric_id": METRIC,
            "billable_metric_name": "CPU hours",
            "window_size": "DAY",
            "group_id": "{}",
        }

    @HttpMocker()
    def test_given_z_millis_timestamps_when_read_then_one_canonical_form(self, http_mocker: HttpMocker = None):
        found = self._read_two_days(http_mocker)

        assert found[1]["starting_on"] == "2024-03-15T00:00:00+00:00", "timestamps take one canonical form"
        assert found[1]["ending_before"] == "2024-03-16T00:00:00+00:00"

    @HttpMocker()
    def test_when_read_then_records_fit_the_schema(self, http_mocker: HttpMocker = None):
        found = self._read_two_days(http_mocker)

        for record in found:
            jsonschema.validate(record, SCHEMA)


class TestPartitions:
    @HttpMocker()
    def test_given_configured_customers_and_metrics_when_read_then_nothing_is_listed(self, http_mocker: HttpMocker = None):
        for customer_id in (CUSTOMER, OTHER_CUSTOMER):
            for metric_id in (METRIC, OTHER_METRIC):
                http_mocker.post(usage_request(customer_id, metric_id), page([usage_item(3)]))

        found = records(_read(config(customer_ids=[CUSTOMER, OTHER_CUSTOMER], billable_metric_ids=[METRIC, OTHER_METRIC])))

        assert len(found) == 4
        assert not any("billable_metric_name" in record for record in found), "names are unknown without a listing"

    @HttpMocker()
    def test_given_include_archived_when_read_then_active_and_archived_are_listed(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([customer(OTHER_CUSTOMER, "Archived")]))
        for customer_id in (CUSTOMER, OTHER_CUSTOMER):
            http_mocker.get(metrics_request(customer_id), page([metric()]))
            http_mocker.post(usage_request(customer_id), page([usage_item(2)]))

        found = records(_read(config(include_archived_customers=True)))

        assert {record["customer_id"] for record in found} == {CUSTOMER, OTHER_CUSTOMER}

    @HttpMocker()
    def test_given_a_metric_on_two_pages_when_read_then_its_partition_is_read_once(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(metrics_request(), page([metric()], next_page="m2"))
        http_mocker.get(metrics_request(next_page="m2"), page([metric()]))
        http_mocker.post(usage_request(), page([usage_item(1)]))

        assert len(records(_read(config()))) == 1


class TestPagination:
    @HttpMocker()
    def test_given_several_pages_when_read_then_next_page_goes_in_the_query_and_the_body_stays(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(limit=2), page([customer()]))
        http_mocker.get(metrics_request(limit=2), page([metric()]))
        http_mocker.post(usage_request(limit=2), page([usage_item(1), usage_item(2)], next_page="token-2"))
        http_mocker.post(usage_request(limit=2, next_page="token-2"), page([usage_item(3), usage_item(4)], next_page="token-3"))
        http_mocker.post(usage_request(limit=2, next_page="token-3"), page([usage_item(5)]))

        found = records(_read(config(page_size=2)))

        assert [record["starting_on"][:10] for record in found] == ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04", "2024-03-05"]

    @HttpMocker()
    def test_given_a_repeated_token_when_read_then_paging_ends_without_duplicates_and_state_stays(self, http_mocker: HttpMocker = None):
        _one_customer_one_metric(http_mocker)
        http_mocker.post(usage_request(), page([usage_item(1)], next_page="same"))
        http_mocker.post(usage_request(next_page="same"), page([usage_item(2)], next_page="same"))

        output = _read(config())

        assert [record["starting_on"][:10] for record in records(output)] == ["2024-03-01", "2024-03-02"]
        assert output.is_in_logs("same next_page token")
        assert output.is_in_logs("skipped 1 partitions that Metronome refused or cut short")
        assert last_state(output) == {"states": []}, "pages may be missing, so the cursor does not move"

    @HttpMocker()
    def test_given_an_empty_page_with_a_token_when_read_then_paging_ends_and_state_stays(self, http_mocker: HttpMocker = None):
        _one_customer_one_metric(http_mocker)
        http_mocker.post(usage_request(), page([], next_page="more?"))

        output = _read(config())

        assert output.records == []
        assert output.is_in_logs("empty page that still carries a next_page token")
        assert last_state(output) == {"states": []}, "pages may be missing, so the cursor does not move"

    @HttpMocker()
    def test_given_customer_list_repeats_its_token_when_read_then_listed_customers_are_read_with_a_warning(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()], next_page="again"))
        http_mocker.get(customers_request(next_page="again"), page([customer(OTHER_CUSTOMER, "Other")], next_page="again"))
        for customer_id in (CUSTOMER, OTHER_CUSTOMER):
            http_mocker.get(metrics_request(customer_id), page([metric()]))
            http_mocker.post(usage_request(customer_id), page([usage_item(1)]))

        output = _read(config())

        assert output.errors == []
        assert {record["customer_id"] for record in records(output)} == {CUSTOMER, OTHER_CUSTOMER}
        assert output.is_in_logs("GET /v1/customers answered with the same next_page token it was sent; pagination ended there.")


class TestGrouping:
    @HttpMocker()
    def test_given_group_by_when_read_then_sent_only_for_metrics_with_the_key_and_logged_once_per_other(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer(), customer(OTHER_CUSTOMER, "Other")]))
        metrics = [metric(group_by=["region"]), metric(OTHER_METRIC, "Storage", group_keys=[["cluster"]])]
        http_mocker.get(metrics_request(), page(metrics))
        http_mocker.get(metrics_request(OTHER_CUSTOMER), page(metrics))
        grouped = {"key": "region", "values": ["US-East"]}
        for customer_id in (CUSTOMER, OTHER_CUSTOMER):
            http_mocker.post(usage_request(customer_id, METRIC, group_by=grouped), page([usage_item(1, 2.0, "region", "US-East"), usage_item(1, 3.0, "region", None)]))
            http_mocker.post(usage_request(customer_id, OTHER_METRIC), page([usage_item(1, 7.0)]))

        output = _read(config(group_by={"key": "region", "values": ["US-East"]}))

        group_ids = sorted({record["group_id"] for record in records(output)})
        assert group_ids == ['{"region":"US-East"}', '{"region":null}', "{}"]
        ungrouped_logs = [log for log in output.logs if "has no group key 'region'" in log.log.message]
        assert len(ungrouped_logs) == 1 and OTHER_METRIC in ungrouped_logs[0].log.message

    @HttpMocker()
    def test_given_group_by_in_a_compound_key_when_read_then_group_by_is_sent(self, http_mocker: HttpMocker = None):
        _one_customer_one_metric(http_mocker, group_keys=[["region", "cluster"]])
        http_mocker.post(usage_request(group_by={"key": "cluster"}), page([usage_item(1, 1.0, "cluster", "c1")]))

        found = records(_read(config(group_by={"key": "cluster"})))

        assert found[0]["group_id"] == '{"cluster":"c1"}'

    @HttpMocker()
    def test_given_group_keys_when_read_then_sent_to_metrics_with_that_key_set_and_others_read_ungrouped(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(
            metrics_request(),
            page([metric(group_keys=[["region"], ["tier"], ["region", "tier"]]), metric(OTHER_METRIC, "Storage", group_keys=[["region"], ["tier"]])]),
        )
        grouped_item = {**usage_item(1), "group_key": None, "group_value": None, "group": {"tier": "pro", "region": "US-East"}}
        http_mocker.post(usage_request(group_key=["tier", "region"], group_filters={"region": ["US-East"]}), page([grouped_item]))
        http_mocker.post(usage_request(metric_id=OTHER_METRIC), page([usage_item(1)]))

        output = _read(config(group_keys=["tier", "region"], group_filters={"region": ["US-East"]}))

        assert [record["group_id"] for record in records(output, STREAM)] == ['{"region":"US-East","tier":"pro"}', "{}"]
        assert output.is_in_logs(r"Storage \(13117714-3f05-48e5-a6e9-a66093f13b4d\) has no group key \['tier', 'region'\]; reading it ungrouped")

    def test_given_group_by_and_group_keys_when_read_then_a_config_error_names_both(self):
        output = _read(config(group_by={"key": "region"}, group_keys=["region"]), expecting_exception=True)

        [trace] = output.errors
        assert trace.trace.error.failure_type.value == "config_error"
        assert "group_by and group_keys/group_filters cannot be set together" in trace.trace.error.message


class TestWindows:
    @HttpMocker()
    def test_given_hour_windows_when_read_then_the_request_still_covers_whole_utc_days(self, http_mocker: HttpMocker = None):
        _one_customer_one_metric(http_mocker)
        http_mocker.post(usage_request(window_size="HOUR", starting_on="2024-03-10T00:00:00+00:00"), page([]))

        output = _read(config(window_size="HOUR", start_date="2024-03-10T05:00:00Z"))

        assert output.errors == []

    @HttpMocker()
    def test_given_none_window_when_read_then_one_request_for_the_whole_range_and_no_state(self, http_mocker: HttpMocker = None):
        _one_customer_one_metric(http_mocker, full_refresh=True)
        http_mocker.post(usage_request(window_size="NONE"), page([{**usage_item(1), "ending_before": "2024-03-16T00:00:00+00:00", "value": 99}]))

        output = _read(config(window_size="NONE"), sync_mode=SyncMode.full_refresh)

        assert records(output)[0]["window_size"] == "NONE"
        assert not any(message.state.stream.stream_state.__dict__.get("states") for message in output.state_messages), "a full refresh saves no cursors"

    @HttpMocker()
    def test_given_current_period_when_read_then_no_dates_are_sent_and_customers_without_a_plan_are_skipped(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer()])
        http_mocker.get(metrics_request(), page([metric(), metric(OTHER_METRIC, "Storage")]))
        http_mocker.post(usage_request(current_period=True), page([usage_item(1)]))
        http_mocker.post(usage_request(metric_id=OTHER_METRIC, current_period=True), error(400, "Customer has no active plan or contract"))

        output = _read(config(current_period=True), sync_mode=SyncMode.full_refresh)

        assert len(records(output, STREAM)) == 1
        assert output.is_in_logs("Customer has no active plan or contract")


class TestIncremental:
    @HttpMocker()
    def test_when_read_then_each_partitions_cursor_stops_at_the_start_of_today(self, http_mocker: HttpMocker = None):
        _one_customer_one_metric(http_mocker)
        http_mocker.post(usage_request(), page([usage_item(14)]))

        output = _read(config())

        assert last_state(output) == {
            "states": [
                {
                    "partition": {"customer_id": CUSTOMER, "billable_metric_id": METRIC},
                    "cursor": {"ending_before": "2024-03-15T00:00:00+00:00"},
                }
            ]
        }

    @HttpMocker()
    def test_given_a_saved_cursor_when_read_then_lookback_is_reread_and_new_partitions_start_at_start_date(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(metrics_request(), page([metric(), metric(OTHER_METRIC, "Storage")]))
        http_mocker.post(usage_request(starting_on="2024-03-11T00:00:00+00:00"), page([usage_item(11)]))
        http_mocker.post(usage_request(metric_id=OTHER_METRIC), page([usage_item(1)]))

        output = _read(config(lookback_days=3), _saved_cursor("2024-03-14T00:00:00+00:00"))

        cursors = {entry["partition"]["billable_metric_id"]: entry["cursor"]["ending_before"] for entry in last_state(output)["states"]}
        assert cursors == {METRIC: "2024-03-15T00:00:00+00:00", OTHER_METRIC: "2024-03-15T00:00:00+00:00"}

    @HttpMocker()
    def test_given_garbled_state_when_read_then_warns_and_reads_from_start_date(self, http_mocker: HttpMocker = None):
        _one_customer_one_metric(http_mocker)
        http_mocker.post(usage_request(), page([usage_item(1)]))
        state = state_of(STREAM, [{"partition": {"customer_id": CUSTOMER}, "cursor": {"ending_before": "2024-03-14T00:00:00+00:00"}}, {"cursor": "??"}])

        output = _read(config(), state)

        assert output.errors == []
        assert output.is_in_logs("Ignored 2 unreadable entries of the saved state")

    @HttpMocker()
    def test_given_a_cursor_in_the_future_when_read_then_clamped_to_today(self, http_mocker: HttpMocker = None):
        _one_customer_one_metric(http_mocker)
        http_mocker.post(usage_request(starting_on="2024-03-08T00:00:00+00:00"), page([usage_item(14)]))

        output = _read(config(), _saved_cursor("2025-01-01T00:00:00+00:00"))

        assert output.is_in_logs("Clamped 1 saved cursors that were in the future")
        assert len(output.records) == 1


class TestFullRefresh:
    @HttpMocker()
    def test_given_a_saved_cursor_when_full_refresh_then_it_reads_from_start_date_and_moves_no_cursor(self, http_mocker: HttpMocker = None):
        _one_customer_one_metric(http_mocker, full_refresh=True)
        # Mocked from start_date only: a request from the saved cursor would find no answer.
        http_mocker.post(usage_request(), page([usage_item(1)]))
        saved = _saved_cursor("2024-03-14T00:00:00+00:00")

        output = _read(config(), saved, sync_mode=SyncMode.full_refresh)

        assert len(records(output)) == 1
        assert last_state(output) == {"states": [{"partition": {"customer_id": CUSTOMER, "billable_metric_id": METRIC}, "cursor": {"ending_before": "2024-03-14T00:00:00+00:00"}}]}


class TestArchivedCustomers:
    @HttpMocker()
    def test_given_window_size_none_when_synced_then_the_archived_customer_is_read_as_the_stream_is_full_refresh_only(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer()], [archived_customer(OTHER_CUSTOMER)])
        total = {**usage_item(1, value=42.0), "ending_before": "2024-03-16T00:00:00+00:00"}
        for customer_id in (CUSTOMER, OTHER_CUSTOMER):
            http_mocker.get(metrics_request(customer_id), page([metric()]))
            http_mocker.post(usage_request(customer_id, window_size="NONE"), page([total]))

        output = _read(config(window_size="NONE", include_archived_customers=False, max_concurrency=1), sync_mode=SyncMode.full_refresh)

        assert [(record["customer_id"], record["value"]) for record in records(output, STREAM)] == [(CUSTOMER, 42.0), (OTHER_CUSTOMER, 42.0)]
        assert not output.errors

    @HttpMocker()
    def test_given_a_config_saved_with_include_archived_when_read_incrementally_then_archived_customers_are_read(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([archived_customer(OTHER_CUSTOMER)]))
        for customer_id in (CUSTOMER, OTHER_CUSTOMER):
            http_mocker.get(metrics_request(customer_id), page([metric()]))
            http_mocker.post(usage_request(customer_id), page([usage_item(1)]))

        output = _read({**config(max_concurrency=1), "include_archived_customers": True})

        assert [record["customer_id"] for record in records(output, STREAM)] == [CUSTOMER, OTHER_CUSTOMER]


class TestRefusedPartitions:
    @HttpMocker()
    def test_given_customer_vanished_mid_sync_when_read_then_its_partition_is_skipped(self, http_mocker: HttpMocker = None):
        http_mocker.post(usage_request(), error(404, "Customer not found"))
        http_mocker.post(usage_request(OTHER_CUSTOMER), page([usage_item(2)]))

        output = _read(config(customer_ids=[CUSTOMER, OTHER_CUSTOMER], billable_metric_ids=[METRIC]))

        assert output.errors == []
        assert len(output.records) == 1
        assert [tuple(entry["partition"].values()) for entry in last_state(output)["states"]] == [(OTHER_CUSTOMER, METRIC)]

    @HttpMocker()
    def test_given_customer_vanished_before_its_metrics_were_listed_when_read_then_it_is_skipped(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer(), customer(OTHER_CUSTOMER, "Deleted")]))
        http_mocker.get(metrics_request(), page([metric()]))
        http_mocker.get(metrics_request(OTHER_CUSTOMER), error(404, "Customer not found"))
        http_mocker.post(usage_request(), page([usage_item(1)]))

        output = _read(config())

        assert output.errors == []
        assert len(output.records) == 1
        assert output.is_in_logs(f"Skipping customer {OTHER_CUSTOMER}: Metronome answered 404")
