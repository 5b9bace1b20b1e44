"""The one HTTP stream every Metronome endpoint is read with: where a request is built from its
endpoint's declaration and a page is turned into records."""

from typing import Any, Iterable, List, Mapping, MutableMapping, Optional

import requests
from airbyte_cdk.sources.streams.checkpoint import ResumableFullRefreshCursor
from airbyte_cdk.sources.streams.http import HttpStream
from airbyte_cdk.sources.streams.http.requests_native_auth import TokenAuthenticator
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader

from source_metronome.config import MetronomeConfig
from source_metronome.errors import MAX_RETRIES, MetronomeBackoffStrategy, MetronomeErrorHandler, PartitionSkipped, metronome_error
from source_metronome.pacing import SyncBudget
from source_metronome.pages import describe_request, read_page
from source_metronome.retries import http_client_of
from source_metronome.streams.endpoint import DeclaredStream, Endpoint

# Explicit timeouts so a stalled connection is retried instead of hanging the sync: (connect, read),
# the read timeout being the 60 s of Metronome's SDKs.
REQUEST_TIMEOUT = (10, 60)


class MetronomeStream(DeclaredStream, HttpStream):
    """Reads one endpoint, for one partition at a time (a slice whose fields fill in the path):
    bearer auth, the endpoint's pagination, the sync's pace, retries by Metronome's rules."""

    def __init__(
        self,
        endpoint: Endpoint,
        config: MetronomeConfig,
        *,
        budget: Optional[SyncBudget] = None,
        page_size: Optional[int] = None,
        max_retries: int = MAX_RETRIES,
    ):
        self.endpoint = endpoint
        self._config = config
        self.page_size = min(page_size or config.page_size, endpoint.max_page_size)
        self._max_retries = max_retries
        self._json_schema: Optional[Mapping[str, Any]] = None
        authenticator = TokenAuthenticator(config.api_token)
        super().__init__(authenticator=authenticator, api_budget=budget)
        # The CDK's client with the connector's retry loop: 429s on a time budget, exact waits (retries.py).
        self._http_client = http_client_of(self, authenticator, budget)
        if isinstance(self.cursor, ResumableFullRefreshCursor):
            # The CDK makes a cursor-less stream "resumable full refresh", which reads ONE page per
            # slice and saves the page token in state. Metronome's tokens are bound to their query,
            # so a full refresh reads every page at once (unit_tests/test_account_streams.py).
            self.cursor = None

    @property
    def http_method(self) -> str:
        return self.endpoint.method

    @property
    def cursor_field(self) -> List[str]:
        return [self.endpoint.cursor] if self.endpoint.cursor else []

    @property
    def is_resumable(self) -> bool:
        # A full refresh is not resumed page by page (see __init__): an account-wide list is read
        # whole, and partitioned streams resume partition by partition (streams/partitioned.py).
        return self.supports_incremental

    @property
    def url_base(self) -> str:
        return f"{self._config.base_url}/"

    def get_json_schema(self) -> Mapping[str, Any]:
        # Loaded once: the CDK asks for the schema with every record.
        if self._json_schema is None:
            self._json_schema = ResourceSchemaLoader("source_metronome").get_schema(self.name)
        return self._json_schema

    def get_error_handler(self) -> MetronomeErrorHandler:
        return MetronomeErrorHandler(logger=self.logger, max_retries=self._max_retries, feature_may_be_off=bool(self.endpoint.feature))

    def get_backoff_strategy(self) -> MetronomeBackoffStrategy:
        return MetronomeBackoffStrategy()

    def request_kwargs(self, **kwargs: Any) -> Mapping[str, Any]:
        return {"timeout": REQUEST_TIMEOUT}

    def path(self, *, stream_slice: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> str:
        return self.endpoint.path.lstrip("/").format_map(stream_slice or {})

    def request_params(
        self,
        stream_state: Optional[Mapping[str, Any]],
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> MutableMapping[str, Any]:
        return {**self.endpoint.params, **self.slice_params(stream_slice or {}), **self.endpoint.pagination.query(self.page_size, _token(next_page_token))}

    def request_body_json(
        self,
        stream_state: Optional[Mapping[str, Any]],
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Optional[Mapping[str, Any]]:
        if self.endpoint.method == "GET":
            return None
        return {**self.endpoint.body, **self.slice_body(stream_slice or {}), **self.endpoint.pagination.body(self.page_size, _token(next_page_token))}

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        """Query parameters that depend on the partition (a family's, beside the endpoint's fixed ones)."""
        return {}

    def slice_body(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        """Body fields that depend on the partition (a family's, beside the endpoint's fixed ones)."""
        return {}

    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        page = read_page(response)
        token = self.endpoint.pagination.next_token(page) if page else None
        if not token:
            return None
        if not page["data"] and self.endpoint.empty_page_ends_list:
            # The list's documented end, often with the token it was sent: not a warning.
            return None
        # Two ways a server can paginate forever: both end the pagination.
        if token == self.endpoint.pagination.sent_token(response.request):
            return self.end_broken_pagination(f"Metronome's {describe_request(response)} answered with the same {self.endpoint.pagination.token} token it was sent")
        if not page["data"]:
            return self.end_broken_pagination(f"Metronome's {describe_request(response)} answered an empty page that still carries a {self.endpoint.pagination.token} token")
        return {"token": token}

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
            raise PartitionSkipped(metronome_error(response), status=response.status_code)
        items = read_page(response)["data"]
        self.page_read(items, stream_slice or {})
        for item in items:
            yield from self.endpoint.records(item, stream_slice)

    def feature_off(self, refusal: PartitionSkipped) -> bool:
        """Whether a refusal says the account lacks the endpoint's feature altogether."""
        return bool(self.endpoint.feature) and refusal.status in (403, 404)

    def warn_feature_off(self, refusal: PartitionSkipped) -> None:
        self.logger.warning(f"Skipping the {self.name} stream: {refusal}. This account does not seem to have {self.endpoint.feature}; the other streams are read.")

    def page_read(self, items: List[MutableMapping[str, Any]], stream_slice: Mapping[str, Any]) -> None:
        """Called with each page's items as served, before they are shaped into records."""


def _token(next_page_token: Optional[Mapping[str, Any]]) -> Optional[str]:
    return next_page_token["token"] if next_page_token else None
