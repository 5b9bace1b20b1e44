"""customers and billable_metrics: the lists the connector reads anyway to find its partitions,
emitted as streams for analysts to join on. They come from the sync's directory, so a list is
requested once per sync however many streams need it."""

from abc import ABC, abstractmethod
from typing import Any, Iterable, List, Mapping, Optional

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams import Stream

from source_metronome.streams.endpoint import DeclaredStream, Endpoint
from source_metronome.sync_context import SyncContext


class DirectoryStream(DeclaredStream, Stream, ABC):
    """Full refresh of what the directory listed, with the endpoint the directory read it from."""

    def __init__(self, endpoint: Endpoint, context: SyncContext):
        self.endpoint = endpoint
        self._directory = context.directory

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[List[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        return self.records()

    @abstractmethod
    def records(self) -> Iterable[Mapping[str, Any]]:
        """The stream's records, from the directory's lists."""


class CustomersFromDirectory(DirectoryStream):
    """Every customer, archived ones with their archived_at (or the configured ones): a full refresh
    that left archived customers out would delete their rows, and every join to their history."""

    def records(self) -> Iterable[Mapping[str, Any]]:
        return self._directory.customers()


class BillableMetricsFromDirectory(DirectoryStream):
    """One record per customer × billable metric, as each customer's listing shows it: the group keys
    and names usage was read with. Every customer's metrics, archived customers and archived metrics
    (with their archived_at) included, even with billable_metric_ids set."""

    def records(self) -> Iterable[Mapping[str, Any]]:
        for customer_id, items in self._directory.billable_metric_items_by_customer():
            for item in items:
                yield {**item, "customer_id": customer_id}
