import sys
from typing import Any, Mapping

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import ConnectorSpecification, FailureType
from airbyte_cdk.sources.utils.schema_helpers import split_config
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_metronome.config import parse_config
from source_metronome.source import SourceMetronome


# How a serialized STATE message begins (the CDK writes `type` first).
STATE_MESSAGE = '{"type":"STATE"'


class MetronomeEntrypoint(AirbyteEntrypoint):
    """The CDK's entrypoint, with the connector's own config rules checked before the spec's JSON
    schema: their errors name the key and the fix, the schema's name neither."""

    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Mapping[str, Any]) -> None:
        parse_config(split_config(config)[0])
        AirbyteEntrypoint.validate_connection(source_spec, config)


def run() -> None:
    entrypoint = MetronomeEntrypoint(SourceMetronome())
    try:
        # As the CDK's own launch(): one print per message, so messages never interleave.
        with PRINT_BUFFER:
            for message in entrypoint.run(entrypoint.parse_args(sys.argv[1:])):
                print(f"{message}\n", end="")
                if message.startswith(STATE_MESSAGE):
                    # The buffer holds up to 0.1 s of messages: a checkpoint leaves the process at
                    # once, so a sync killed right after it does not read its customers again.
                    PRINT_BUFFER.flush()
    except AirbyteTracedException as error:
        if error.failure_type != FailureType.config_error:
            raise
        # A config error is the user's to fix: its trace message says how; a traceback would bury it.
        error.emit_message()
        sys.exit(1)
