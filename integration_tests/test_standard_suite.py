"""Airbyte's standard connector tests, driven by acceptance-test-config.yml at the repository root
and run in-process against the fake Metronome (the `standard_fake` session fixture)."""

import pytest
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase

# Parametrizes each test's `scenario` with the configs of acceptance-test-config.yml.
from airbyte_cdk.test.standard_tests.pytest_hooks import pytest_generate_tests  # noqa: F401

from source_metronome.source import SourceMetronome


@pytest.mark.usefixtures("standard_fake")
class TestSourceMetronomeStandards(SourceTestSuiteBase):
    connector = SourceMetronome
    # The CDK names the connector after the repository's directory, which a clone may rename.
    connector_name = "source-metronome"

