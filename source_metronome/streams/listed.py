"""Lists read once per item of another list: each contract's edit history (the contracts of every
customer read), each rate card's rate schedule (the account's rate cards).

A stream declares the list its partitions come from (`Endpoint.partitions_from`) and takes a family
below. The list is read once per sync and only the ids are kept; the partitions are then read as
every PartitionedStream reads them (ahead, concurrently, a refused one skipped alone). A 403, or a
404 before the list answered once, means the account lacks the list's feature: the stream is
skipped with one warning, as when its own endpoint is refused.
"""

from abc import ABC, abstractmethod
from dataclasses import replace
from functools import partial
from typing import Any, Iterable, List, Mapping, Optional, Union

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.types import StreamSlice

from source_metronome.errors import FeatureMissing, PartitionSkipped
from source_metronome.read_ahead import map_in_order
from source_metronome.shared_pages import PageSharing, SharedPages
from source_metronome.streams.base import MetronomeStream
from source_metronome.streams.endpoint import Endpoint, Item
from source_metronome.streams.partitioned import CustomerStream, PartitionedStream
from source_metronome.sync_context import SyncContext
from source_metronome.windows import format_timestamp


class ListReader(MetronomeStream):
    """Reads the partitions' list for one parent partition (its fields in the path or the body).
    With the stream that emits that list in the sync, the list's pages are shared with it
    (shared_pages.py): the first of the two to read keeps them, the other replays them."""

    # Only ids are taken from the list: nothing to resume.
    refresh_progress = None

    def __init__(self, endpoint: Endpoint, context: SyncContext, shared_pages: Optional[SharedPages]):
        super().__init__(endpoint, context.config, budget=context.budget)
        self._pages = PageSharing(shared_pages, self)
        self._pages.start()

    def slice_body(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        # The very body the list's own stream sends (CustomerStream: the customer in the body). A
        # parent is its partition alone (no dates), whichever mapping the CDK hands back.
        return dict(stream_slice)

    def to_records(self, item: Item, stream_slice: StreamSlice) -> Iterable[Item]:
        yield item

    def page_read(self, items: List[Item], stream_slice: Mapping[str, Any]) -> None:
        self._pages.page_read(_parent(stream_slice), items)

    def items(self, parent: StreamSlice) -> List[Item]:
        """The list's items for one parent: replayed if the list's stream already read them, else requested."""
        return list(self._pages.read(parent, request=partial(self.read_records, sync_mode=SyncMode.full_refresh, stream_slice=parent)))


def _parent(fields: Mapping[str, Any]) -> StreamSlice:
    return StreamSlice(partition=dict(fields), cursor_slice={})


def _listed_ids(reader: ListReader, parent: StreamSlice) -> Union[List[str], PartitionSkipped, FeatureMissing]:
    """One parent's item ids in listed order, each once (an item repeated across pages is still one
    partition), or Metronome's refusal (returned: an error would stop the other listings). Only the
    ids are kept: the items themselves can be large (a contract's commits, credits and overrides)."""
    try:
        return list(dict.fromkeys(item["id"] for item in reader.items(parent)))
    except (PartitionSkipped, FeatureMissing) as refusal:
        return refusal


class ListedStream(PartitionedStream, ABC):
    """One partition per item of `endpoint.partitions_from`, read for each of `parents()`: the
    partition is the parent's fields and the item's `id` as `listed_field`, all sent in the body."""

    listed_field: str
    # Whether the list's pages are kept for (or replayed from) the stream that emits the list: only
    # streams read per partition replay pages (partitioned.py).
    shares_list_pages = False

    def __init__(self, endpoint: Endpoint, context: SyncContext):
        super().__init__(endpoint, context)
        assert endpoint.partitions_from is not None, f"{endpoint.name} declares no partitions_from"
        self._context = context
        self._listed: Optional[List[StreamSlice]] = None

    @abstractmethod
    def parents(self) -> Iterable[StreamSlice]:
        """The partitions the list is read for (customers, or the account as one)."""

    def partitions(self) -> Iterable[StreamSlice]:
        # Listed once per sync: the stream asks for its partitions twice (to count, then to read them).
        if self._listed is None:
            self._listed = self._list_partitions()
        return self._listed

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        return {}

    def slice_body(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        return {field: stream_slice[field] for field in self.partition_fields}

    def _list_partitions(self) -> List[StreamSlice]:
        listing = self.endpoint.partitions_from
        shared = self._context.shared_pages_of(listing.path) if self.shares_list_pages else None
        # Read under this stream's name: a list refused as a feature the account lacks skips this
        # stream, and its warning says so.
        reader = ListReader(replace(listing, name=self.name), self._context, shared)
        parents = list(self.parents())
        listed = map_in_order(partial(_listed_ids, reader), parents, workers=self._config.max_concurrency)
        partitions: List[StreamSlice] = []
        for parent, ids in zip(parents, listed):
            if isinstance(ids, FeatureMissing):
                self._feature_off = ids
                return []
            if isinstance(ids, PartitionSkipped):
                description = ", ".join(f"{field} {value}" for field, value in parent.partition.items()) or "the account"
                self._progress.skip(description, ids)
                continue
            for item_id in ids:
                partitions.append(StreamSlice(partition={**parent.partition, self.listed_field: item_id}, cursor_slice={}))
        return partitions


class ContractStream(ListedStream, CustomerStream):
    """One partition per contract of each customer read (POST /v2/contracts/list with
    include_archived, as the contracts stream reads it, so the two share its pages)."""

    partition_fields = ("customer_id", "contract_id")
    partition_description = "one per contract"
    listed_field = "contract_id"
    shares_list_pages = True

    def parents(self) -> Iterable[StreamSlice]:
        # The customers every per-customer stream reads.
        return CustomerStream.partitions(self)


class RateCardStream(ListedStream):
    """One partition per rate card of the account, its schedule read over the sync's range: the
    config's start_date as `starting_at`, and its end_date, when set, as `ending_before`."""

    partition_fields = ("rate_card_id",)
    partition_description = "one per rate card"
    listed_field = "rate_card_id"

    def parents(self) -> Iterable[StreamSlice]:
        return [_parent({})]

    def slice_body(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        body = {**super().slice_body(stream_slice), "starting_at": format_timestamp(self._config.start_date)}
        if self._config.end_date:
            body["ending_before"] = format_timestamp(self._config.end_date)
        return body
