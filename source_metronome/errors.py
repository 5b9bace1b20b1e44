"""What a failed exchange with Metronome raises, for the streams and the source to act on. Which
answer raises which is decided in one place: `classify` in http_exchange.py."""

from typing import Optional

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException


def config_error(message: str) -> AirbyteTracedException:
    """A failure the user fixes in the connector's settings; Airbyte shows `message` as is."""
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def stopped_at(stream: str, partition: str, error: AirbyteTracedException) -> AirbyteTracedException:
    """A partition's failure as its stream's, saying where the stream stopped; a config error is
    the whole sync's, and stays as it is."""
    if error.failure_type == FailureType.config_error:
        return error
    return AirbyteTracedException(
        message=f"{stream} stopped at {partition}: {error.message}",
        internal_message=error.internal_message,
        failure_type=error.failure_type,
    )


class PartitionSkipped(Exception):
    """Metronome refused one partition's request for a reason no retry can fix, or broke its
    pagination: the partition is left for the next sync. `status` is the refusal's HTTP status."""

    def __init__(self, message: str, status: Optional[int] = None):
        super().__init__(message)
        self.status = status


class FeatureMissing(Exception):
    """The account lacks the feature the endpoint belongs to (contracts on a plans account): the
    stream skips itself and the sync goes on. The message is the one warning the user sees."""


class MetronomeUnreachable(AirbyteTracedException):
    """Retries ran out without Metronome ever answering the request: no connection, or none that
    answered before its timeout."""
