"""Metronome's endpoints as Airbyte HTTP streams: where each request is built and each record shaped.

Reference: https://docs.metronome.com/api-reference
"""

import json
from abc import ABC, abstractmethod
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, Iterable, Iterator, List, Mapping, MutableMapping, Optional, Tuple

import requests
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.streams.http import HttpStream
from airbyte_cdk.sources.streams.http.requests_native_auth import TokenAuthenticator
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_metronome.config import MetronomeConfig
from source_metronome.cost_pages import PageKey, SharedCostPages
from source_metronome.errors import MAX_RETRIES, MetronomeBackoffStrategy, MetronomeErrorHandler, PartitionSkipped, metronome_error
from source_metronome.pacing import SyncBudget
from source_metronome.pages import describe_request, read_page, sent_page_token
from source_metronome.progress import StreamProgress
from source_metronome.read_ahead import ReadAhead
from source_metronome.retries import http_client_of
from source_metronome.state import PartitionCursors
from source_metronome.windows import canonical_timestamp, cursor_after_reading, format_timestamp, parse_moment, range_to_read, utc_now

if TYPE_CHECKING:
    from source_metronome.directory import Directory

# Explicit timeouts so a stalled connection is retried instead of hanging the sync: (connect, read),
# the read timeout being the 60 s of Metronome's SDKs.
REQUEST_TIMEOUT = (10, 60)


class MetronomeStream(HttpStream, ABC):
    """One base for every Metronome endpoint: bearer auth, `limit`/`next_page` pagination, retries.

    Every list endpoint answers {"data": [...], "next_page": token | null}; the token goes back as
    the `next_page` query parameter with every other parameter (and the POST body) unchanged.
    """

    def __init__(
        self, config: MetronomeConfig, *, budget: Optional[SyncBudget] = None, page_size: Optional[int] = None, max_retries: int = MAX_RETRIES
    ):
        self._config = config
        self.page_size = page_size or config.page_size
        self._max_retries = max_retries
        authenticator = TokenAuthenticator(config.api_token)
        super().__init__(authenticator=authenticator, api_budget=budget)
        # The CDK's client with the connector's retry loop: 429s on a time budget, exact waits (retries.py).
        self._http_client = http_client_of(self, authenticator, budget)

    @property
    def url_base(self) -> str:
        return f"{self._config.base_url}/v1/"

    def get_error_handler(self) -> MetronomeErrorHandler:
        return MetronomeErrorHandler(logger=self.logger, max_retries=self._max_retries)

    def get_backoff_strategy(self) -> MetronomeBackoffStrategy:
        return MetronomeBackoffStrategy()

    def request_kwargs(self, **kwargs: Any) -> Mapping[str, Any]:
        return {"timeout": REQUEST_TIMEOUT}

    def request_params(
        self,
        stream_state: Optional[Mapping[str, Any]],
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> MutableMapping[str, Any]:
        params: MutableMapping[str, Any] = {"limit": self.page_size}
        if next_page_token:
            params.update(next_page_token)
        return params

    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        page = read_page(response)
        token = page.get("next_page") if page else None
        if not token:
            return None
        # Two ways a server can paginate forever (NOTES.md, Pagination): both end the pagination.
        if token == sent_page_token(response):
            return self.end_broken_pagination(f"Metronome's {describe_request(response)} answered with the same next_page token it was sent")
        if not page["data"]:
            return self.end_broken_pagination(f"Metronome's {describe_request(response)} answered an empty page that still carries a next_page token")
        return {"next_page": token}

    def end_broken_pagination(self, problem: str) -> None:
        """A listing keeps what it has read: whatever it missed is simply not read this sync."""
        self.logger.warning(f"{problem}; pagination ended there.")
        return None

    def parse_response(
        self,
        response: requests.Response,
        *,
        stream_state: Mapping[str, Any],
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        if not response.ok:
            # Only the 4xx answers the error handler hands back (IGNORE) get here.
            raise PartitionSkipped(metronome_error(response))
        yield from self.records_of_page(read_page(response)["data"], stream_slice or {})

    def records_of_page(self, items: List[MutableMapping[str, Any]], stream_slice: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        """The stream's records from one page's items."""
        for item in items:
            yield self.shape_record(item, stream_slice)

    def shape_record(self, item: MutableMapping[str, Any], stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        return item

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[List[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        # Overriding read_records keeps the CDK from turning a cursor-less stream into "resumable
        # full refresh", which reads one page per slice: every call here reads all its pages.
        yield from super().read_records(sync_mode, cursor_field, stream_slice, stream_state)


class CustomerList(MetronomeStream):
    """https://docs.metronome.com/api-reference/customers/list-customers

    Metronome lists active customers by default and only archived ones with only_archived=true;
    customer_ids narrows the list to those customers.
    """

    primary_key = "id"

    def __init__(self, config: MetronomeConfig, *, only_archived: bool = False, customer_ids: Tuple[str, ...] = (), **kwargs: Any):
        self._only_archived = only_archived
        self._customer_ids = customer_ids
        super().__init__(config, **kwargs)

    def path(self, **kwargs: Any) -> str:
        return "customers"

    def request_params(self, stream_state, stream_slice=None, next_page_token=None) -> MutableMapping[str, Any]:
        params = super().request_params(stream_state, stream_slice, next_page_token)
        if self._only_archived:
            params["only_archived"] = "true"
        if self._customer_ids:
            # An array query parameter in Metronome's spec (form style, exploded): repeated.
            params["customer_ids"] = list(self._customer_ids)
        return params


class BillableMetricList(MetronomeStream):
    """https://docs.metronome.com/api-reference/billable-metrics/list-billable-metrics

    Sliced by customer: {"customer_id": ...}.
    """

    primary_key = ["customer_id", "id"]

    def path(self, *, stream_slice: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> str:
        return f"customers/{stream_slice['customer_id']}/billable-metrics"


class PartitionedIncrementalStream(MetronomeStream, ABC):
    """A stream read partition by partition over a date range, each partition with its own cursor.

    The CDK hands out partitions one at a time while worker threads read the next ones ahead
    (read_ahead.py). A partition's cursor moves only once all its pages are read, so a sync that
    dies resumes without re-reading the partitions it finished (state.py says how often the state
    is written).
    """

    has_multiple_slices = True
    cursor_name: str
    partition_fields: Tuple[str, ...]
    # For the log: what one partition is.
    partition_description: str

    def __init__(self, config: MetronomeConfig, directory: "Directory", budget: SyncBudget):
        # One clock reading per sync, so every partition reads the same days.
        self._now = utc_now()
        # Set before the CDK's HttpStream starts, which would otherwise give the stream a cursor of its own.
        self.cursor = self._cursors = PartitionCursors(self.cursor_name, self.partition_fields, self._now, self.logger)
        super().__init__(config, budget=budget)
        self._directory = directory
        self._budget = budget
        self._skipped: List[str] = []
        self._read_ahead: Optional[ReadAhead] = None
        self._progress: Optional[StreamProgress] = None
        self._incremental = False

    def end_broken_pagination(self, problem: str) -> None:
        # Pages may be missing, so the partition is skipped: its state stays for the next sync.
        raise PartitionSkipped(f"{problem}; pagination ended there")

    @abstractmethod
    def partitions(self) -> Iterable[StreamSlice]:
        """Each partition: `partition_fields` as its partition, what else the request needs as extra fields."""

    @property
    def cursor_field(self) -> str:
        return self.cursor_name

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._cursors.get_stream_state()

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._cursors.set_initial_state(value)

    def stream_slices(
        self, *, sync_mode: SyncMode, cursor_field: Optional[List[str]] = None, stream_state: Optional[Mapping[str, Any]] = None
    ) -> Iterable[Optional[Mapping[str, Any]]]:
        self._progress = StreamProgress(self.name, self._budget, self.logger)
        self._incremental = sync_mode == SyncMode.incremental and self.supports_incremental
        # Counted first, then made one at a time as the workers get to them: a list of every
        # partition's slice would grow memory with the account.
        planned = sum(1 for _ in self._slices())
        self._progress.planned(planned, self.partition_description)
        self._cursors.plan(planned)
        self._read_ahead = ReadAhead(
            partial(self._read_partition, sync_mode=sync_mode, cursor_field=cursor_field, stream_state=stream_state),
            key=self._cursors.key,
            workers=self._config.max_concurrency,
            batch_size=self.page_size,
        )
        yield from self._read_ahead.schedule(self._slices())
        # The CDK asks for the next slice only once the last one is read: the stream is done.
        self._cursors.stream_done()
        self._progress.finished()
        if self._skipped:
            self.logger.warning(
                f"{self.name}: skipped {len(self._skipped)} partitions that Metronome refused or cut short; their state did not move: " + "; ".join(self._skipped)
            )

    def _slices(self) -> Iterator[StreamSlice]:
        """Each partition with the dates it reads, skipping those with nothing left to read."""
        for partition in self.partitions():
            dates = self.dates_to_read(partition)
            if dates is not None:
                yield StreamSlice(partition=partition.partition, cursor_slice=dates, extra_fields=partition.extra_fields)

    def dates_to_read(self, partition: StreamSlice) -> Optional[Mapping[str, str]]:
        """The partition's range, from its cursor in an incremental sync; None if nothing is left to read."""
        cursor = self._cursors.get(partition) if self._incremental else None
        date_range = range_to_read(self._config.start_date, self._config.end_date, self._now, cursor, self._config.lookback)
        if date_range is None:
            return None
        return {"starting_on": format_timestamp(date_range.starting_on), "ending_before": format_timestamp(date_range.ending_before)}

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[List[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        partition = ", ".join(f"{field} {stream_slice[field]}" for field in self.partition_fields)
        records = 0
        try:
            for record in self._read_ahead.records(stream_slice):
                records += 1
                yield record
        except PartitionSkipped as refusal:
            self.logger.warning(f"{self.name}: skipping {partition}: {refusal}")
            self._skipped.append(f"{partition} ({refusal})")
            self._progress.partition_read(records, skipped=True)
            return
        except AirbyteTracedException as error:
            if error.failure_type == FailureType.config_error:
                raise
            raise AirbyteTracedException(
                message=f"{self.name} stopped at {partition}: {error.message}",
                internal_message=error.internal_message,
                failure_type=error.failure_type,
            ) from error
        # Reached only once every page of the partition has been read. A full refresh saves no cursors.
        if self._incremental:
            self._cursors.advance(stream_slice, cursor_after_reading(parse_moment(stream_slice["ending_before"]), self._now))
        self._progress.partition_read(records)

    def _read_partition(self, stream_slice: Mapping[str, Any], **read_arguments: Any) -> Iterable[Mapping[str, Any]]:
        """Runs in a worker thread: every page of one partition, through the CDK's HTTP client."""
        return super().read_records(stream_slice=stream_slice, **read_arguments)


class UsageWithGroups(PartitionedIncrementalStream):
    """https://docs.metronome.com/api-reference/usage/get-usage-with-paginated-groups

    One partition per customer × billable metric; `limit` and `next_page` go in the query, the rest
    in the JSON body.
    """

    http_method = "POST"
    # group_key/group_value are null for ungrouped usage, and destinations cannot deduplicate on
    # null keys: group_id stands in for them (see shape_record).
    primary_key = ["customer_id", "billable_metric_id", "window_size", "group_id", "starting_on"]
    cursor_name = "ending_before"
    partition_fields = ("customer_id", "billable_metric_id")
    partition_description = "one per customer × billable metric"
    _json_schema: Optional[Mapping[str, Any]] = None

    @property
    def cursor_field(self) -> List[str]:
        return [] if self._full_refresh_only_because() else [self.cursor_name]

    def _full_refresh_only_because(self) -> Optional[str]:
        if self._config.window_size == "NONE":
            # One total over the whole requested range: incremental syncs would write overlapping totals.
            return "With window_size NONE each record is the total over the whole requested range"
        if self._config.current_period:
            # Metronome picks the range: there is no date to resume from.
            return "With current_period each sync reads each customer's current billing period, whose range Metronome picks"
        return None

    def get_json_schema(self) -> Mapping[str, Any]:
        # Built once: the CDK asks for the schema with every record.
        if self._json_schema is None:
            schema = dict(super().get_json_schema())
            reason = self._full_refresh_only_because()
            if reason:
                schema["description"] += f" {reason}, so this stream is offered in full refresh only."
            self._json_schema = schema
        return self._json_schema

    def dates_to_read(self, partition: StreamSlice) -> Optional[Mapping[str, str]]:
        # With current_period Metronome picks the range, and rejects dates.
        return {} if self._config.current_period else super().dates_to_read(partition)

    def path(self, **kwargs: Any) -> str:
        return "usage/groups"

    def partitions(self) -> Iterable[StreamSlice]:
        for customer_id, metrics in self._directory.billable_metrics_by_customer():
            for metric in metrics:
                yield StreamSlice(
                    partition={"customer_id": customer_id, "billable_metric_id": metric.id},
                    cursor_slice={},
                    extra_fields={"billable_metric_name": metric.name, "grouping": self._directory.grouping_for(metric)},
                )

    def request_body_json(
        self,
        stream_state: Optional[Mapping[str, Any]],
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Mapping[str, Any]:
        body = {
            "customer_id": stream_slice["customer_id"],
            "billable_metric_id": stream_slice["billable_metric_id"],
            "window_size": self._config.window_size,
            **stream_slice.extra_fields["grouping"],
        }
        if self._config.current_period:
            # Metronome rejects dates together with current_period.
            body["current_period"] = True
        else:
            body["starting_on"] = stream_slice["starting_on"]
            body["ending_before"] = stream_slice["ending_before"]
        return body

    def shape_record(self, item: MutableMapping[str, Any], stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        item["starting_on"] = canonical_timestamp(item["starting_on"])
        item["ending_before"] = canonical_timestamp(item["ending_before"])
        item["customer_id"] = stream_slice["customer_id"]
        item["billable_metric_id"] = stream_slice["billable_metric_id"]
        item["billable_metric_name"] = stream_slice.extra_fields["billable_metric_name"]
        item["window_size"] = self._config.window_size
        item["group_id"] = group_id(item)
        return item


def group_id(item: Mapping[str, Any]) -> str:
    """A non-null, unambiguous stand-in for the group in the primary key: the group as compact JSON
    with sorted keys, `{}` for ungrouped usage and `{"region":null}` for events without the key.
    Items grouped the newer way carry the whole (maybe compound) group as `group`."""
    group = item.get("group")
    if isinstance(group, Mapping):
        return _compact_json(tuple(sorted(group.items())))
    if item.get("group_key") is None:
        return "{}"
    return _compact_json(((item["group_key"], item.get("group_value")),))


# Few distinct groups, many records each.
@lru_cache(maxsize=4096)
def _compact_json(pairs: Tuple[Tuple[str, Optional[str]], ...]) -> str:
    return json.dumps(dict(pairs), separators=(",", ":"), ensure_ascii=False)


class CostsStream(PartitionedIncrementalStream, ABC):
    """https://docs.metronome.com/api-reference/customers/get-costs

    Daily pending costs per customer, by credit type and line item: one partition per customer.
    Two streams read these pages; with both in a sync, each page is requested once (cost_pages.py).
    """

    cursor_name = "end_timestamp"
    partition_fields = ("customer_id",)
    partition_description = "one per customer"

    def __init__(self, config: MetronomeConfig, directory: "Directory", budget: SyncBudget, shared_pages: Optional[SharedCostPages] = None):
        super().__init__(config, directory, budget)
        self._shared_pages = shared_pages
        self._keeps_pages = False

    @abstractmethod
    def records_of_day(self, day: MutableMapping[str, Any], stream_slice: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        """The stream's records for one day of costs as Metronome answers it."""

    def path(self, *, stream_slice: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> str:
        return f"customers/{stream_slice['customer_id']}/costs"

    def partitions(self) -> Iterable[StreamSlice]:
        for customer_id in self._directory.customer_ids():
            yield StreamSlice(partition={"customer_id": customer_id}, cursor_slice={})

    def request_params(self, stream_state, stream_slice=None, next_page_token=None) -> MutableMapping[str, Any]:
        params = super().request_params(stream_state, stream_slice, next_page_token)
        params["starting_on"] = stream_slice["starting_on"]
        params["ending_before"] = stream_slice["ending_before"]
        return params

    def stream_slices(self, **kwargs: Any) -> Iterable[Optional[Mapping[str, Any]]]:
        self._keeps_pages = self._shared_pages is not None and self._shared_pages.records_for(self.name)
        yield from super().stream_slices(**kwargs)

    def records_of_page(self, days: List[MutableMapping[str, Any]], stream_slice: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        if self._keeps_pages:
            self._shared_pages.keep(_page_key(stream_slice), days)
        for day in days:
            yield from self.records_of_day(day, stream_slice)

    def _read_partition(self, stream_slice: Mapping[str, Any], **read_arguments: Any) -> Iterable[Mapping[str, Any]]:
        key = _page_key(stream_slice)
        pages = self._shared_pages.replay(key) if self._shared_pages else None
        if pages is not None:
            for days in pages:
                for day in days:
                    yield from self.records_of_day(day, stream_slice)
            return
        try:
            yield from super()._read_partition(stream_slice, **read_arguments)
        except BaseException:
            if self._keeps_pages:
                self._shared_pages.abandon(key)
            raise
        if self._keeps_pages:
            self._shared_pages.complete(key)


def _page_key(stream_slice: Mapping[str, Any]) -> PageKey:
    return stream_slice["customer_id"], stream_slice["starting_on"], stream_slice["ending_before"]


class CustomerCosts(CostsStream):
    """One record per customer and day, with Metronome's map of credit types."""

    primary_key = ["customer_id", "start_timestamp"]

    def records_of_day(self, day: MutableMapping[str, Any], stream_slice: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        day["start_timestamp"] = canonical_timestamp(day["start_timestamp"])
        day["end_timestamp"] = canonical_timestamp(day["end_timestamp"])
        day["customer_id"] = stream_slice["customer_id"]
        yield day


class CustomerCostLineItems(CostsStream):
    """One record per customer × day × credit type × line item: the costs map flattened for SQL."""

    # group_key and group_value are null for line items without a group, and destinations cannot
    # deduplicate on null keys: line_item_id stands in for the line item (see line_item_id).
    primary_key = ["customer_id", "start_timestamp", "credit_type_id", "line_item_id"]

    def records_of_day(self, day: MutableMapping[str, Any], stream_slice: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        start_timestamp = canonical_timestamp(day["start_timestamp"])
        end_timestamp = canonical_timestamp(day["end_timestamp"])
        for credit_type_id, credit_type in (day.get("credit_types") or {}).items():
            for line_item in credit_type.get("line_item_breakdown") or []:
                yield {
                    "customer_id": stream_slice["customer_id"],
                    "start_timestamp": start_timestamp,
                    "end_timestamp": end_timestamp,
                    "credit_type_id": credit_type_id,
                    "credit_type_name": credit_type.get("name"),
                    "line_item_name": line_item.get("name"),
                    "group_key": line_item.get("group_key"),
                    "group_value": line_item.get("group_value"),
                    "cost": line_item.get("cost"),
                    "line_item_id": line_item_id(line_item),
                }


def line_item_id(line_item: Mapping[str, Any]) -> str:
    """A non-null, unambiguous stand-in for the line item in the primary key: its name, group key
    and group value as a compact JSON array, such as `["API calls","region","US-East"]`."""
    return json.dumps([line_item.get("name"), line_item.get("group_key"), line_item.get("group_value")], separators=(",", ":"), ensure_ascii=False)
