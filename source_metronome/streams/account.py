"""Account-wide lists (products, rate cards, credit grants, ...): one partition, read whole each sync."""

from source_metronome.streams.base import MetronomeStream
from source_metronome.streams.endpoint import Endpoint
from source_metronome.sync_context import SyncContext


class AccountStream(MetronomeStream):
    """Full refresh of one account-wide list, every page in one go."""

    def __init__(self, endpoint: Endpoint, context: SyncContext):
        super().__init__(endpoint, context.config, budget=context.budget)
