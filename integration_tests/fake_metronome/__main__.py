"""Runs the fake Metronome until killed, for demos:

    python -m integration_tests.fake_metronome --port 8123 --seed 1 --customers 5
"""

import argparse
import threading
from dataclasses import fields

from integration_tests.fake_metronome.dataset import DatasetOptions
from integration_tests.fake_metronome.faults import FaultProbabilities
from integration_tests.fake_metronome.server import DEFAULT_TOKEN, FakeMetronome
from integration_tests.fake_metronome.timestamps import OFFSET_STYLE, TIMESTAMP_STYLES, parse_timestamp


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m integration_tests.fake_metronome", description="Runs the fake Metronome on 127.0.0.1 until killed.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--timestamp-style", choices=TIMESTAMP_STYLES, default=OFFSET_STYLE)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--rate-limit", type=float, help="requests per second before answering 429")
    parser.add_argument("--retry-after", type=float, help="Retry-After seconds sent with each 429")
    parser.add_argument("--revision", type=int, default=0, help="revisions of backdated events delivered at start")
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--fault-paths", help="regular expression: faults hit only the request paths it matches")
    parser.add_argument("--disable", action="append", default=[], metavar="FAMILY=STATUS", help="switch an endpoint family off (403 or 404), e.g. contracts=403; repeatable")
    parser.add_argument("--audit-accepts-window-with-next-page", action="store_true", help="GET /v1/auditLogs takes starting_on/ending_before with next_page")
    parser.add_argument("--audit-empty-last-page-with-token", action="store_true", help="GET /v1/auditLogs ends with an empty page that carries a token")
    for option in fields(DatasetOptions):
        kind = parse_timestamp if option.name == "now" else type(option.default)
        parser.add_argument(f"--{option.name.replace('_', '-')}", type=kind, default=option.default)
    for fault in fields(FaultProbabilities):
        parser.add_argument(f"--{fault.name.replace('_', '-')}", type=float, default=0.0, help="fault probability per request")
    args = vars(parser.parse_args())

    options = DatasetOptions(**{option.name: args[option.name] for option in fields(DatasetOptions)})
    faults = FaultProbabilities(**{fault.name: args[fault.name] for fault in fields(FaultProbabilities)})
    fake = FakeMetronome(
        options,
        token=args["token"],
        port=args["port"],
        timestamp_style=args["timestamp_style"],
        latency=args["latency"],
        rate_limit=args["rate_limit"],
        retry_after=args["retry_after"],
        faults=faults,
        fault_seed=args["fault_seed"],
        fault_paths=args["fault_paths"],
        disabled_endpoints={family: int(status) for family, status in (setting.split("=", 1) for setting in args["disable"])},
        audit_rejects_window_with_next_page=not args["audit_accepts_window_with_next_page"],
        audit_empty_last_page_with_token=args["audit_empty_last_page_with_token"],
    )
    fake.revision = args["revision"]
    with fake:
        print(f"Fake Metronome at {fake.url} (token {fake.token!r}, now {fake.now.isoformat()}); Ctrl-C stops it.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
