"""The one stream every Metronome endpoint is read with: where a request is built from its
endpoint's declaration, pages are followed, and a page is turned into records. Every request goes
through the HTTP exchange (http_exchange.py)."""

from typing import Any, Iterable, List, Mapping, MutableMapping, Optional
from urllib.parse import urljoin

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader

from source_metronome.config import MetronomeConfig
from source_metronome.http_exchange import SYNC_RETRY_LIMITS, Exchange, RetryLimits, describe_request
from source_metronome.pacing import SyncBudget
from source_metronome.streams.endpoint import DeclaredStream, Endpoint


class MetronomeStream(DeclaredStream, Stream):
    """Reads one endpoint, for one partition at a time (a slice whose fields fill in the path),
    following the endpoint's pagination; the exchange sends with the token, at the sync's pace,
    retrying by Metronome's rules."""

    def __init__(
        self,
        endpoint: Endpoint,
        config: MetronomeConfig,
        *,
        budget: Optional[SyncBudget] = None,
        page_size: Optional[int] = None,
        retry_limits: RetryLimits = SYNC_RETRY_LIMITS,
    ):
        self.endpoint = endpoint
        self._config = config
        self.page_size = min(page_size or config.page_size, endpoint.max_page_size)
        self._json_schema: Optional[Mapping[str, Any]] = None
        self._exchange = Exchange(
            self.name,
            config.api_token,
            # `check` reads outside a sync, at a pace of its own.
            budget or SyncBudget(config.requests_per_second, self.logger),
            self.logger,
            feature=endpoint.feature,
            limits=retry_limits,
            connections=config.max_concurrency,
        )

    @property
    def cursor_field(self) -> List[str]:
        return [self.endpoint.cursor] if self.endpoint.cursor else []

    @property
    def is_resumable(self) -> bool:
        # Metronome's page tokens are bound to their query, so a full refresh is not resumed page by
        # page: an account-wide list is read whole, and partitioned streams resume partition by
        # partition (streams/partitioned.py).
        return self.supports_incremental

    def get_json_schema(self) -> Mapping[str, Any]:
        # Loaded once: the CDK asks for the schema with every record.
        if self._json_schema is None:
            self._json_schema = ResourceSchemaLoader("source_metronome").get_schema(self.name)
        return self._json_schema

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[List[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        """Every page of one partition, in order, each page's records before the next request."""
        stream_slice = {} if stream_slice is None else stream_slice
        token: Optional[str] = None
        while True:
            request = self._exchange.request(self.endpoint.method, self.url(stream_slice), self.request_params(stream_slice, token), self.request_body(stream_slice, token))
            page = self._exchange.send(request)
            items = page["data"]
            self.page_read(items, stream_slice)
            for item in items:
                yield from self.endpoint.records(item, stream_slice)
            sent, token = token, self.endpoint.pagination.next_token(page)
            if not token:
                return
            if not items and self.endpoint.empty_page_ends_list:
                # The list's documented end, often with the token it was sent: not a warning.
                return
            # Two ways a server can paginate forever: both end the pagination.
            if token == sent:
                self.end_broken_pagination(f"Metronome's {describe_request(request)} answered with the same {self.endpoint.pagination.token} token it was sent")
                return
            if not items:
                self.end_broken_pagination(f"Metronome's {describe_request(request)} answered an empty page that still carries a {self.endpoint.pagination.token} token")
                return

    def url(self, stream_slice: Mapping[str, Any]) -> str:
        return urljoin(f"{self._config.base_url}/", self.endpoint.path.lstrip("/").format_map(stream_slice))

    def request_params(self, stream_slice: Mapping[str, Any], token: Optional[str]) -> MutableMapping[str, Any]:
        return {**self.endpoint.params, **self.slice_params(stream_slice), **self.endpoint.pagination.query(self.page_size, token)}

    def request_body(self, stream_slice: Mapping[str, Any], token: Optional[str]) -> Optional[Mapping[str, Any]]:
        if self.endpoint.method == "GET":
            return None
        return {**self.endpoint.body, **self.slice_body(stream_slice), **self.endpoint.pagination.body(self.page_size, token)}

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        """Query parameters that depend on the partition (a family's, beside the endpoint's fixed ones)."""
        return {}

    def slice_body(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        """Body fields that depend on the partition (a family's, beside the endpoint's fixed ones)."""
        return {}

    def end_broken_pagination(self, problem: str) -> None:
        """A listing keeps what it has read: whatever it missed is simply not read this sync."""
        self.logger.warning(f"{problem}; pagination ended there.")

    def page_read(self, items: List[MutableMapping[str, Any]], stream_slice: Mapping[str, Any]) -> None:
        """Called with each page's items as served, before they are shaped into records."""
