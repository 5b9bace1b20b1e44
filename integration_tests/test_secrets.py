"""The API token goes to Metronome and nowhere else: not to another host, not into any output."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from airbyte_cdk.models import Status, Type

from integration_tests.conftest import SECRET_TOKEN, connector_config
from integration_tests.connector_cli import run_with_files
from integration_tests.fake_metronome import USAGE, DatasetOptions, FaultProbabilities

WRONG_TOKEN = "mtr-wrong-3b8e0c55-never-print-me"
SMALL = DatasetOptions(customers=3, metrics_per_customer=3, days_of_history=10)


@pytest.fixture
def redirect_to():
    """Starts a server on 127.0.0.1 that answers every GET with a 307 to the same path on `target`
    (another host, as an open redirect or a hijacked proxy would send)."""
    servers = []

    def start(target: str) -> str:
        class Redirect(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(307)
                self.send_header("Location", target + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _check(tmp_path, config, now):
    return run_with_files("check", config, tmp_path, now)


class TestTokenStaysSecret:
    def test_given_a_redirect_to_another_host_when_check_then_not_sent_there(self, start_fake, redirect_to, tmp_path):
        fake = start_fake(DatasetOptions(customers=1))
        # The fake answers 401 to a request without its token: it sees the request, not the token.
        other_host = fake.url.replace("127.0.0.1", "localhost")

        run = _check(tmp_path, {"api_token": fake.token, "start_date": "2024-03-01", "base_url": redirect_to(other_host)}, fake.now)

        status = run.messages[-1].connectionStatus
        assert [(request.path, request.status) for request in fake.requests] == [("/v1/customers", 401)]
        assert status.status.value == "FAILED" and status.message.startswith("Metronome rejected the API token (401)")
        assert fake.token not in run.stdout + run.stderr

    def test_given_a_wrong_token_when_syncing_then_config_error_and_not_printed(self, start_fake, sync):
        fake = start_fake(DatasetOptions(customers=1))

        run = sync(fake, {"start_date": "2024-03-10", "api_token": WRONG_TOKEN}, expect_success=False)

        assert run.returncode == 1
        assert run.error_messages()[0].startswith("Metronome rejected the API token (401)")
        assert WRONG_TOKEN not in run.stdout + run.stderr

    def test_given_every_fault_at_once_when_syncing_then_not_printed(self, start_fake, sync):
        every_fault = FaultProbabilities(server_error=0.15, dropped_connection=0.15, truncated_json=0.15, repeated_token=0.15, empty_page_with_token=0.15)
        # fault_seed 2 lands each of the five faults in this small sync, its requests made one at a
        # time: concurrent requests would meet the seeded faults in another order.
        fake = start_fake(DatasetOptions(customers=1, metrics_per_customer=2, days_of_history=5), faults=every_fault, fault_seed=2)

        # The sync fixture fails the test if the token appears in stdout or stderr.
        sync(fake, {"start_date": "2024-03-10", "page_size": 2, "max_concurrency": 1}, expect_success=False)

        assert {request.fault for request in fake.requests} - {None} == {
            "server_error",
            "dropped_connection",
            "truncated_json",
            "repeated_token",
            "empty_page_with_token",
        }, "every fault should have happened; pick another fault_seed if the connector's requests changed"

    def test_given_check_and_read_when_run_then_not_printed(self, start_fake, sync, tmp_path):
        fake = start_fake(SMALL)
        run = sync(fake, {"start_date": "2024-03-14"})
        config = connector_config(fake, {"start_date": "2024-03-14"})
        check = _check(tmp_path, config, fake.now)
        fake.token = "a-different-token"
        rejected = _check(tmp_path, config, fake.now)

        assert run.records(USAGE)
        assert check.of_type(Type.CONNECTION_STATUS)[0].connectionStatus.status == Status.SUCCEEDED
        assert rejected.of_type(Type.CONNECTION_STATUS)[0].connectionStatus.status == Status.FAILED
        for output in (run, check, rejected):
            assert SECRET_TOKEN not in output.stdout + output.stderr
