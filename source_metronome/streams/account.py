"""Account-wide lists (products, rate cards, credit grants, audit logs, ...): one partition, read
whole each sync, or from a saved timestamp for the audit log."""

from datetime import datetime, timedelta
from typing import Any, Iterable, List, Mapping, MutableMapping, Optional

from airbyte_cdk.models import SyncMode

from source_metronome.errors import FeatureMissing
from source_metronome.streams.base import MetronomeStream
from source_metronome.streams.endpoint import Endpoint
from source_metronome.sync_context import SyncContext
from source_metronome.windows import format_timestamp, parse_moment

# Audit entries are written as changes happen; re-reading the hour before the saved cursor covers
# entries that become visible a little after later ones (write lag, clock skew between Metronome's
# services). Entries read again carry the same id, so a deduplicating destination keeps one copy.
AUDIT_LOG_LOOKBACK = timedelta(hours=1)


class AccountStream(MetronomeStream):
    """Full refresh of one account-wide list, every page in one go."""

    def __init__(self, endpoint: Endpoint, context: SyncContext):
        super().__init__(endpoint, context.config, budget=context.budget)

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[List[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        try:
            yield from super().read_records(sync_mode, cursor_field, stream_slice, stream_state)
        except FeatureMissing as missing:
            # The account lacks this list: one warning, and the sync goes on.
            self.logger.warning(str(missing))


class AuditLogStream(AccountStream):
    """GET /v1/auditLogs, oldest first, from the last `timestamp` read (state: {"timestamp": ...}).

    The one list with a server-side time filter: `starting_on` goes on the first request only,
    because Metronome rejects it together with `next_page`. An entry at exactly the saved
    timestamp is read again (starting_on is inclusive): nothing at the boundary is lost.
    """

    def __init__(self, endpoint: Endpoint, context: SyncContext):
        super().__init__(endpoint, context)
        self._start_date = context.config.start_date
        self._end_date = context.config.end_date
        self._saved: Optional[str] = None
        self._latest: Optional[str] = None
        self._incremental = False

    @property
    def state(self) -> MutableMapping[str, Any]:
        latest = self._latest or self._saved
        return {self.endpoint.cursor: latest} if latest else {}

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        saved = (value or {}).get(self.endpoint.cursor)
        self._saved = format_timestamp(parse_moment(saved)) if saved else None

    def request_params(self, stream_slice: Mapping[str, Any], token: Optional[str]) -> MutableMapping[str, Any]:
        params = super().request_params(stream_slice, token)
        if not token:
            params["starting_on"] = format_timestamp(self._window_start())
            if self._end_date:
                params["ending_before"] = format_timestamp(self._end_date)
        return params

    def _window_start(self) -> datetime:
        # A full refresh reads from start_date whatever state was saved.
        if self._saved is None or not self._incremental:
            return self._start_date
        return max(self._start_date, parse_moment(self._saved) - AUDIT_LOG_LOOKBACK)

    def read_records(self, sync_mode: SyncMode, *args: Any, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        self._incremental = sync_mode == SyncMode.incremental
        for record in super().read_records(sync_mode, *args, **kwargs):
            moment = format_timestamp(parse_moment(record[self.endpoint.cursor]))
            # Timestamps in one canonical form compare as strings.
            if self._latest is None or moment > self._latest:
                self._latest = max(moment, self._saved or moment)
            yield record
