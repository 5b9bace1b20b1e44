import pytest

from source_metronome.windows import NOW_OVERRIDE_ENV
from unit_tests.builders import NOW


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    """Every unit test runs at the same mid-day moment (the connector's clock seam)."""
    monkeypatch.setenv(NOW_OVERRIDE_ENV, NOW)
