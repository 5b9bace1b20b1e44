"""What every stream of one sync shares: the settings, the request pace, the lists of customers and
metrics, the pages two views of one endpoint read once, and which sync this is."""

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from source_metronome.config import MetronomeConfig
from source_metronome.directory import Directory
from source_metronome.pacing import SyncBudget
from source_metronome.shared_pages import SharedPages


@dataclass(frozen=True)
class SyncContext:
    config: MetronomeConfig
    budget: SyncBudget
    directory: Directory
    # By endpoint path, for the endpoints that two selected streams read.
    shared_pages: Mapping[str, SharedPages] = field(default_factory=dict)
    # The configured catalog's sync_id per stream (the platform's job id; None outside a sync or
    # when the platform sends none): what tells a retried attempt from a new sync.
    sync_ids: Mapping[str, Optional[int]] = field(default_factory=dict)
    # The state each stream's saved STATE hands it, known to every stream from the start.
    saved_states: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def sync_id_of(self, stream: str) -> Optional[int]:
        return self.sync_ids.get(stream)

    def saved_state_of(self, stream: str) -> Mapping[str, Any]:
        return self.saved_states.get(stream, {})

    def shared_pages_of(self, path: str) -> Optional[SharedPages]:
        return self.shared_pages.get(path)
