"""A full refresh of the per-customer money streams killed with SIGKILL several times, each attempt
restarted with the last STATE it emitted, as Airbyte retries an attempt of the same sync: the
attempts together emit every record, each restart re-reads only the customers in flight, and the
next sync (another sync_id) emits everything again."""

import signal
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from integration_tests.conftest import connector_config, discover_streams
from integration_tests.connector_cli import ConnectorRun, configured_catalog, run_connector, run_connector_killed_after, write_json
from integration_tests.fake_metronome import BALANCES, CONTRACTS, INVOICE_LINE_ITEMS, INVOICES, DatasetOptions, LoggedRequest, expected_billing_records, primary_key
from integration_tests.record_checks import assert_records_match

RESUMABLE = (INVOICES, INVOICE_LINE_ITEMS, CONTRACTS, BALANCES)
DATASET = DatasetOptions(customers=300, metrics_per_customer=1, days_of_history=3, invoices_per_customer=3, busiest_customer_contracts=2)
MAX_CONCURRENCY = 3
SETTINGS = {"start_date": "2024-02-01", "max_concurrency": MAX_CONCURRENCY}
# The streams reading each endpoint: a customer is finished there once finished for all of them.
READERS = {
    "/v1/customers/{customer_id}/invoices": (INVOICES, INVOICE_LINE_ITEMS),
    "/v2/contracts/list": (CONTRACTS,),
    "/v1/contracts/customerBalances/list": (BALANCES,),
}
SYNC_ID = 4711
NEXT_SYNC_ID = 4712
# Where each attempt is killed: at the n-th record it emits of a stream, n being this share of the
# stream's records. Two kills while invoices lead their line items in step, one in each other stream.
KILLS = ((INVOICES, 0.3), (INVOICES, 0.4), (CONTRACTS, 0.5), (BALANCES, 0.5))


def catalog(sync_id: int) -> Dict[str, Any]:
    configured = configured_catalog({stream: "full_refresh" for stream in RESUMABLE})
    for stream in configured["streams"]:
        stream["sync_id"] = sync_id
    return configured


def nth_record_of(stream: str, n: int) -> Callable[[Dict[str, Any]], bool]:
    seen = [0]

    def at(message: Dict[str, Any]) -> bool:
        if message["type"] == "RECORD" and message["record"]["stream"] == stream:
            seen[0] += 1
        return seen[0] >= n

    return at


def finished_customers(state: Dict[str, Any], order: List[str]) -> Set[str]:
    """The customers a resumable full refresh's state says are finished (refresh_progress.py)."""
    stream_state = state["stream"]["stream_state"]
    if stream_state.get("complete"):
        return set(order)
    through = order.index(stream_state["done_through"]) + 1 if "done_through" in stream_state else 0
    return set(order[:through]) | set(stream_state["done_beyond"])


def customer_of(request: LoggedRequest) -> Optional[str]:
    """The customer a per-customer request reads: in the path (GET) or the body (POST)."""
    if isinstance(request.body, dict) and "customer_id" in request.body:
        return request.body["customer_id"]
    parts = request.path.strip("/").split("/")
    return parts[2] if len(parts) == 4 and parts[1] == "customers" else None


def customers_requested(requests: List[LoggedRequest]) -> Dict[str, Set[str]]:
    """By endpoint (its path, the customer left out), the customers requested."""
    requested: Dict[str, Set[str]] = {}
    for request in requests:
        customer = customer_of(request)
        if customer and not request.path.endswith("/billable-metrics"):
            requested.setdefault(request.path.replace(customer, "{customer_id}"), set()).add(customer)
    return requested


class TestKilledFullRefresh:
    def test_given_four_kills_when_each_attempt_resumes_from_its_last_state_then_the_union_is_exact_and_only_customers_in_flight_are_read_again(
        self, start_fake, tmp_path
    ):
        fake = start_fake(DATASET)
        config_path = write_json(tmp_path / "config.json", connector_config(fake, SETTINGS))
        catalog_path = write_json(tmp_path / "catalog.json", catalog(SYNC_ID))
        expected = expected_billing_records(fake.dataset, SETTINGS)
        states: Dict[str, Dict[str, Any]] = {}
        emitted: Dict[str, List[Dict[str, Any]]] = {stream: [] for stream in RESUMABLE}
        runs: List[Tuple[ConnectorRun, Dict[str, Set[str]]]] = []

        for attempt in range(len(KILLS) + 1):
            arguments = ["read", "--config", str(config_path), "--catalog", str(catalog_path)]
            if states:
                arguments += ["--state", str(write_json(tmp_path / f"state-{attempt}.json", list(states.values())))]
            requests_before = len(fake.requests)
            if attempt < len(KILLS):
                stream, share = KILLS[attempt]
                at = nth_record_of(stream, int(share * len(expected[stream])))
                run = run_connector_killed_after(arguments, fake.now, lines=1, stderr_path=tmp_path / f"stderr-{attempt}.txt", at=at)
                assert run.returncode == -signal.SIGKILL, f"attempt {attempt} ended before its kill: {run.describe()}"
            else:
                run = run_connector(arguments, fake.now)
                assert run.returncode == 0, run.describe()
            assert fake.token not in run.stdout + run.stderr
            states.update(run.last_states())
            for stream in RESUMABLE:
                emitted[stream] += run.records(stream)
            runs.append((run, customers_requested(fake.requests[requests_before:])))

        for stream in RESUMABLE:
            latest = {primary_key(stream, record): record for record in emitted[stream]}
            assert_records_match(stream, list(latest.values()), expected[stream])
            assert states[stream]["stream"]["stream_state"] == {"sync_id": SYNC_ID, "complete": True}
        # The directory's order: by creation, then id (directory.py).
        order = [customer.id for customer in sorted(fake.dataset.customers, key=lambda customer: (customer.created_at, customer.id))]
        for attempt in range(1, len(KILLS) + 1):
            (before, requested_before), (after, requested_after) = runs[attempt - 1], runs[attempt]
            saved = before.last_states()
            for endpoint, streams in READERS.items():
                finished = set.intersection(*(finished_customers(saved[stream], order) if stream in saved else set() for stream in streams))
                # Requested, and not yet finished in the STATE the platform received: in flight at the kill.
                in_flight = requested_before.get(endpoint, set()) - finished
                read_again = requested_after.get(endpoint, set()) & requested_before.get(endpoint, set())
                assert read_again <= in_flight, f"{endpoint}: attempt {attempt} read again customers its state says are finished"
                assert len(read_again) <= 0.1 * DATASET.customers, f"{endpoint}: attempt {attempt} read again {len(read_again)} customers"
            for stream in RESUMABLE:
                emitted_twice = {r["customer_id"] for r in before.records(stream)} & {r["customer_id"] for r in after.records(stream)}
                assert len(emitted_twice) <= 1, f"{stream}: attempt {attempt} emitted again the records of {len(emitted_twice)} customers"

        # The next sync: another sync_id, given the last sync's final state, reads everything.
        next_sync = run_connector(
            ["read", "--config", str(config_path), "--catalog", str(write_json(tmp_path / "next-catalog.json", catalog(NEXT_SYNC_ID))),
             "--state", str(write_json(tmp_path / "final-state.json", list(states.values())))],
            fake.now,
        )
        assert next_sync.returncode == 0, next_sync.describe()
        for stream in RESUMABLE:
            assert_records_match(stream, next_sync.records(stream), expected[stream])

    def test_discover_declares_the_per_customer_full_refresh_streams_resumable(self, start_fake, tmp_path):
        fake = start_fake(DatasetOptions(customers=2))

        streams = discover_streams(fake, SETTINGS, tmp_path)

        assert all(streams[stream]["is_resumable"] for stream in RESUMABLE)
