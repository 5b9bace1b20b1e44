"""The Airbyte source: spec (spec.yaml), check, and the streams a sync reads (endpoints.py)."""

import logging
from collections import Counter
from datetime import timedelta
from typing import Any, Dict, Iterator, List, Mapping, Optional, Set, Tuple

from airbyte_cdk.models import AirbyteMessage, ConfiguredAirbyteCatalog, SyncMode, TraceType, Type
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_metronome.config import parse_config
from source_metronome.directory import Directory, customer_listing
from source_metronome.endpoints import STREAMS
from source_metronome.errors import MetronomeUnreachable, config_error
from source_metronome.http_exchange import RetryLimits
from source_metronome.pacing import SyncBudget
from source_metronome.shared_pages import SharedPages
from source_metronome.sync_context import SyncContext

# A user waiting on "Test connection" wants an answer in seconds, not after a sync's retry limits:
# one retry of a failure, and refusals (429) waited out for 15 s.
CHECK_RETRY_LIMITS = RetryLimits(max_retries=1, max_retry_time=timedelta(minutes=10), max_rate_limited_time=timedelta(seconds=15))
# Streams emitted from the directory's lists: the directory keeps the listed items only for them.
LISTED_STREAMS = {"customers", "billable_metrics"}


class SourceMetronome(AbstractSource):
    def __init__(self) -> None:
        super().__init__()
        # The streams the running sync reads; None outside a sync (spec, check, discover).
        self._selected: Optional[Set[str]] = None
        # The configured streams' sync_id: the CDK hands it to no stream, and a full refresh needs it
        # to tell a retried attempt from a new sync (refresh_progress.py).
        self._sync_ids: Dict[str, Optional[int]] = {}
        self._saved_states: Dict[str, Mapping[str, Any]] = {}
        # The running sync's budget, which knows whether Metronome rejected the token.
        self._budget: Optional[SyncBudget] = None

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> Tuple[bool, Optional[str]]:
        settings = parse_config(config)
        # The cheapest call that proves both the URL and the token: one customer.
        probe = customer_listing(settings, page_size=1, retry_limits=CHECK_RETRY_LIMITS)
        # Failures are raised rather than returned: the CDK would quote a returned message, and a
        # config_error reaches the user as is, with a FAILED status.
        try:
            next(iter(probe.read_records(sync_mode=SyncMode.full_refresh)), None)
        except MetronomeUnreachable:
            raise config_error(f"Could not reach Metronome at {settings.base_url}; check base_url and that this machine can connect to it.") from None
        except AirbyteTracedException as error:
            raise config_error(error.message) from None
        return True, None

    def read(self, logger: logging.Logger, config: Mapping[str, Any], catalog: ConfiguredAirbyteCatalog, state: Any = None) -> Iterator[AirbyteMessage]:
        # What the sync reads decides what its lists keep and which pages are shared.
        self._selected = {configured.stream.name for configured in catalog.streams}
        self._sync_ids = {configured.stream.name: _platform_sync_id(configured.sync_id) for configured in catalog.streams}
        # The CDK hands a stream its state at its turn; a stream another leads in step needs it before.
        saved = ConnectorStateManager(state=state)
        self._saved_states = {name: dict(saved.get_stream_state(name, None)) for name in self._selected}
        try:
            for message in super().read(logger, config, catalog, state):
                if self._token_rejected() and message.type == Type.TRACE and message.trace.type == TraceType.ERROR:
                    # Raised once below, as the sync's only error, instead of the CDK's summary.
                    continue
                yield message
        except AirbyteTracedException:
            rejected = self._token_rejected()
            if rejected:
                raise config_error(rejected) from None
            raise

    @property
    def stop_sync_on_stream_failure(self) -> bool:
        # A rejected token fails every stream alike: the sync stops at the first (the budget already
        # refuses every request after it), with one error rather than one per stream.
        return bool(self._token_rejected())

    def _token_rejected(self) -> Optional[str]:
        return self._budget.token_rejected if self._budget is not None else None

    def streams(self, config: Mapping[str, Any]) -> List[Stream]:
        settings = parse_config(config)
        logger = logging.getLogger("airbyte")
        selected = self._selected or set()
        # One budget and one directory for the whole sync: every stream shares the pace and the lists.
        budget = self._budget = SyncBudget(settings.requests_per_second, logger)
        directory = Directory(settings, budget, logger, keep_records=bool(selected & LISTED_STREAMS))
        # Pages of an endpoint that two selected streams read are requested once (shared_pages.py).
        readers = Counter(path for endpoint in STREAMS if endpoint.name in selected for path in endpoint.paths_read)
        shared_pages = {path: SharedPages() for path, count in readers.items() if count > 1}
        context = SyncContext(settings, budget, directory, shared_pages, self._sync_ids, self._saved_states)
        return [endpoint.family(endpoint, context) for endpoint in STREAMS]


# PyAirbyte gives every sync this sync_id ("should ideally increment monotonically with each sync",
# airbyte/shared/catalog_providers.py), so it tells a retried attempt from a new sync no better than
# none: taken as none, a complete state then starts the refresh over instead of reading nothing in
# every sync after the first. On the platform it is the job id, and job 1 is an instance's first.
PYAIRBYTE_SYNC_ID = 1


def _platform_sync_id(sync_id: Optional[int]) -> Optional[int]:
    return None if sync_id == PYAIRBYTE_SYNC_ID else sync_id

