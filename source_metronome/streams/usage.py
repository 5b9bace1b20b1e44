"""Usage aggregates: one partition per customer × billable metric, the range and grouping in the body."""

from typing import Any, Iterable, List, Mapping, Optional

from airbyte_cdk.sources.types import StreamSlice

from source_metronome.streams.partitioned import PartitionedStream


class UsageStream(PartitionedStream):
    """POST /v1/usage/groups: `limit` and `next_page` in the query, the partition in the body."""

    partition_fields = ("customer_id", "billable_metric_id")
    partition_description = "one per customer × billable metric"

    @property
    def cursor_field(self) -> List[str]:
        return [] if self._full_refresh_only_because() else super().cursor_field

    def _full_refresh_only_because(self) -> Optional[str]:
        if self._config.window_size == "NONE":
            # One total over the whole requested range: incremental syncs would write overlapping totals.
            return "With window_size NONE each record is the total over the whole requested range"
        if self._config.current_period:
            # Metronome picks the range: there is no date to resume from.
            return "With current_period each sync reads each customer's current billing period, whose range Metronome picks"
        return None

    def get_json_schema(self) -> Mapping[str, Any]:
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

    def partitions(self) -> Iterable[StreamSlice]:
        for customer_id, metrics in self._directory.billable_metrics_by_customer(archived_too=self.reads_archived_customers):
            for metric in metrics:
                yield StreamSlice(
                    partition={"customer_id": customer_id, "billable_metric_id": metric.id},
                    cursor_slice={},
                    # What the records carry and the request asks beside the partition.
                    extra_fields={
                        "billable_metric_name": metric.name,
                        "window_size": self._config.window_size,
                        "grouping": self._directory.grouping_for(metric),
                    },
                )

    def slice_body(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        body = {
            "customer_id": stream_slice["customer_id"],
            "billable_metric_id": stream_slice["billable_metric_id"],
            "window_size": stream_slice.extra_fields["window_size"],
            **stream_slice.extra_fields["grouping"],
        }
        if self._config.current_period:
            # Metronome rejects dates together with current_period.
            body["current_period"] = True
        else:
            body["starting_on"] = stream_slice["starting_on"]
            body["ending_before"] = stream_slice["ending_before"]
        return body
