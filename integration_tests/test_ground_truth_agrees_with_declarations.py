"""The ground truth keeps its own stream names, primary keys, cursors and line-item identity, so that a mistake in the
connector's declarations (source_metronome/endpoints.py) is not checked against itself. Here the two
copies are compared: a disagreement is either a wrong declaration or a wrong oracle, and says which
stream."""

from typing import Dict, Optional, Tuple

from integration_tests.fake_metronome.ground_truth import CURSOR_FIELDS, PRIMARY_KEYS
from integration_tests.fake_metronome.ground_truth_billing import AUDIT_CURSOR_FIELD, AUDIT_LOGS, BILLING_PRIMARY_KEYS, LINE_ITEM_IDENTITY
from integration_tests.fake_metronome.ground_truth_breakdowns import BREAKDOWN_CURSOR_FIELD, BREAKDOWN_STREAMS
from source_metronome import records
from source_metronome.endpoints import STREAMS


def declared_primary_keys() -> Dict[str, Tuple[str, ...]]:
    return {endpoint.name: (endpoint.primary_key,) if isinstance(endpoint.primary_key, str) else tuple(endpoint.primary_key) for endpoint in STREAMS}


def declared_cursors() -> Dict[str, Optional[str]]:
    return {endpoint.name: endpoint.cursor for endpoint in STREAMS if endpoint.cursor}


class TestGroundTruthAgreesWithTheDeclarations:
    def test_given_the_ground_truth_keys_when_compared_with_the_declarations_then_every_stream_has_the_same_primary_key(self):
        assert PRIMARY_KEYS == declared_primary_keys()

    def test_given_the_billing_oracle_keys_when_compared_with_the_declarations_then_they_agree(self):
        declared = declared_primary_keys()
        assert BILLING_PRIMARY_KEYS == {stream: declared[stream] for stream in BILLING_PRIMARY_KEYS}

    def test_given_the_ground_truth_cursors_when_compared_with_the_declarations_then_every_incremental_stream_has_the_same_cursor(self):
        breakdowns = {stream: BREAKDOWN_CURSOR_FIELD for stream in BREAKDOWN_STREAMS}
        assert {**CURSOR_FIELDS, AUDIT_LOGS: AUDIT_CURSOR_FIELD, **breakdowns} == declared_cursors()

    def test_given_the_oracles_line_item_identity_when_compared_with_the_connectors_then_the_same_fields_in_the_same_order(self):
        # The order matters too: the digest that becomes line_item_id hashes the values in this order.
        assert LINE_ITEM_IDENTITY == records.LINE_ITEM_IDENTITY
