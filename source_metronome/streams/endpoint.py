"""What a stream declares about its endpoint: the data a stream family reads it by."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, Iterable, List, Mapping, MutableMapping, Optional, Tuple, Union

from airbyte_cdk.sources.types import StreamSlice

from source_metronome.streams.pagination import NEXT_PAGE_IN_QUERY, Pagination

# Metronome's `limit` is at most 100 on most list endpoints: the largest page, the fewest requests.
MAX_PAGE_SIZE = 100

Item = MutableMapping[str, Any]
Record = Mapping[str, Any]
# From one item of a page (and the partition it was read for) to the stream's records.
ToRecords = Callable[[Item, StreamSlice], Iterable[Record]]


def as_served(item: Item, stream_slice: StreamSlice) -> Iterable[Record]:
    """One record per item, exactly as Metronome served it."""
    yield item


@dataclass(frozen=True)
class Windows:
    """An endpoint that answers windows of the size a setting names (sent as `window_size`), and
    covers at most `longest[size]` of a range per request: a partition's range is then asked in
    consecutive requests of at most that."""

    # The connector setting (a MetronomeConfig field) that holds the window size.
    setting: str
    longest: Mapping[str, timedelta]

    def size(self, config: Any) -> str:
        return getattr(config, self.setting)


@dataclass(frozen=True)
class Endpoint:
    """One emitted stream (or internal listing) and the Metronome endpoint it reads.

    `path` may name fields of the partition, such as `/v1/customers/{customer_id}/costs`.
    `family` builds the stream: a class from `source_metronome/streams/`, called with
    (endpoint, sync context).
    """

    name: str
    path: str
    primary_key: Union[str, List[str]]
    # The endpoint's page in Metronome's API reference.
    docs: str
    family: Optional[Callable[..., Any]] = None
    method: str = "GET"
    pagination: Pagination = NEXT_PAGE_IN_QUERY
    # Fixed query parameters and JSON body fields, sent with every request.
    params: Mapping[str, Any] = field(default_factory=dict)
    body: Mapping[str, Any] = field(default_factory=dict)
    records: ToRecords = as_served
    # The field an incremental stream's state moves on; None for full refresh only.
    cursor: Optional[str] = None
    max_page_size: int = MAX_PAGE_SIZE
    # Accounts without the feature answer 403 or 404 for the whole endpoint (a plans account has no
    # contracts or contract pricing; a contracts account may refuse the older Plans endpoints): the
    # stream is then skipped with one warning, and the sync goes on.
    feature: Optional[str] = None
    # The list whose items are this stream's partitions (streams/listed.py): a contract's edit history
    # is read for each contract that POST /v2/contracts/list lists.
    partitions_from: Optional["Endpoint"] = None
    # The endpoint ends its list with an empty page that carries a token, often the one it was sent
    # (GET /v1/auditLogs: metronome-sdk's resources/v1/audit_logs.py documents "An empty data array means no new logs
    # yet; continue polling with the same next_page token"): an empty page then ends the list
    # quietly instead of as broken pagination.
    empty_page_ends_list: bool = False
    # For a dated endpoint with a window size and a longest range per request.
    windows: Optional[Windows] = None

    @property
    def paths_read(self) -> Tuple[str, ...]:
        """Every endpoint a sync of this stream requests pages of: its own, and its partitions' list."""
        return (self.path,) + ((self.partitions_from.path,) if self.partitions_from else ())


class DeclaredStream:
    """Mixed into every stream class: its name and primary key are its declaration's."""

    endpoint: Endpoint

    @property
    def name(self) -> str:
        return self.endpoint.name

    @property
    def primary_key(self) -> Union[str, List[str]]:
        return self.endpoint.primary_key
