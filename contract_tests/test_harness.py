"""The harness itself: a contract test is only worth something if a broken request would fail it."""

import json
import subprocess

import pytest
import requests

from contract_tests.prism import CONTRACT_TESTS_DIR, INSTALL_HINT, PRISM_BIN, PrismUnavailable, locate_prism
from contract_tests.recording_proxy import TOKEN_PREFIX, RecordingProxy

CUSTOMER = "d7abd0cd-4ae9-4db7-8676-e986a4ebd8dc"
METRIC = "222796fd-d29c-429e-89b2-549fabda4ed6"
AUTH = {"Authorization": "Bearer contract-test-token"}
USAGE_QUERY = {"customer_id": CUSTOMER, "billable_metric_id": METRIC, "window_size": "DAY"}


@pytest.fixture
def proxy(prism_servers, vendor_spec):
    """Not the conftest's tallied proxy: these deliberately broken requests are not the connector's."""
    with RecordingProxy(prism_servers.examples().url, vendor_spec, max_pages=2) as proxy:
        yield proxy


def test_given_the_suite_runs_when_prism_is_run_then_it_is_the_version_pinned_in_package_json():
    pinned = json.loads((CONTRACT_TESTS_DIR / "package.json").read_text())["devDependencies"]["@stoplight/prism-cli"]

    if not PRISM_BIN.exists():
        with pytest.raises(PrismUnavailable) as unavailable:
            locate_prism()
        pytest.fail(str(unavailable.value), pytrace=False)
    version = subprocess.run([str(PRISM_BIN), "--version"], capture_output=True, text=True, timeout=60).stdout.strip()

    assert version == pinned


def test_given_prism_not_installed_when_locating_it_then_the_failure_says_how_to_install_it(tmp_path):
    try:
        locate_prism(tmp_path / "node_modules" / ".bin" / "prism")
    except PrismUnavailable as error:
        assert INSTALL_HINT in str(error) and "not installed" in str(error)
    else:
        raise AssertionError("locate_prism found a Prism that is not there")


def test_given_a_body_that_breaks_the_spec_when_proxied_then_prisms_violation_is_recorded(proxy):

    response = requests.post(f"{proxy.url}/v1/usage/groups", json={**USAGE_QUERY, "customer_id": "not-a-uuid"}, headers=AUTH)

    assert response.status_code == 422
    [violation] = proxy.violations()
    assert "customer_id" in violation and "uuid" in violation


def test_given_a_query_that_breaks_the_spec_when_proxied_then_prisms_sl_violations_header_is_recorded(proxy):

    requests.get(f"{proxy.url}/v1/customers/{CUSTOMER}/costs", params={"starting_on": "yesterday"}, headers=AUTH)

    violations = proxy.violations()
    assert any("ending_before" in violation for violation in violations)
    assert any("starting_on" in violation and "date-time" in violation for violation in violations)


def test_given_a_request_without_a_token_when_proxied_then_the_missing_bearer_auth_is_recorded(proxy):

    requests.get(f"{proxy.url}/v1/customers")

    [violation] = proxy.violations()
    assert "401" in violation


def test_given_a_parameter_the_spec_does_not_declare_when_proxied_then_it_is_recorded_though_prism_accepts_it(proxy):

    response = requests.get(f"{proxy.url}/v1/customers/{CUSTOMER}/billable-metrics", params={"include_archived": "true", "only_archived": "true"}, headers=AUTH)

    assert response.status_code == 200
    # include_archived is declared by the newer SDK (verdicts.DECLARED_BY_THE_SDK); only_archived by neither.
    [violation] = proxy.violations()
    assert "query parameter 'only_archived' is not declared" in violation and "'include_archived'" not in violation


def test_given_a_page_cap_when_following_next_page_then_tokens_are_issued_until_the_cap_and_must_repeat_the_request(proxy):
    url = f"{proxy.url}/v1/usage/groups"

    first = requests.post(url, json=USAGE_QUERY, headers=AUTH).json()
    second = requests.post(url, params={"next_page": first["next_page"]}, json=USAGE_QUERY, headers=AUTH).json()
    requests.post(url, params={"next_page": first["next_page"]}, json={**USAGE_QUERY, "window_size": "HOUR"}, headers=AUTH)

    assert first["next_page"].startswith(f"{TOKEN_PREFIX}2-")
    assert second["next_page"] is None
    assert len(proxy.violations()) == 1 and "changed parameters or body" in proxy.violations()[0]
    assert proxy.items_served("POST /v1/usage/groups") == 3 * len(first["data"])
