"""The fake's production conditions (conditions.py) behave as their names say."""

import threading
import time
from email.utils import parsedate_to_datetime

import requests

from integration_tests.fake_metronome import DatasetOptions, FakeMetronome
from integration_tests.fake_metronome.conditions import HTTP_DATE, NO_HEADER, SECONDS, Bursts, PiecewiseLimit, Stalls

OPTIONS = DatasetOptions(customers=2, metrics_per_customer=1, days_of_history=3)


def get(fake, path="/v1/customers"):
    return requests.get(fake.url + path, headers={"Authorization": f"Bearer {fake.token}"}, timeout=10)


class TestBursts:
    def test_given_a_burst_when_requests_come_then_all_are_refused_with_the_wait_as_configured_and_after_it_answered(self):
        with FakeMetronome(OPTIONS) as fake:
            # Boundaries fall on whole seconds: a burst of 1 s from the first request's second holds it.
            fake.conditions.append(Bursts(period=100, duration=1, retry_after=SECONDS, phase=0))
            refused = get(fake)
            other_style = Bursts(period=100, duration=1, retry_after=HTTP_DATE, phase=0)
            fake.conditions[0] = other_style
            dated = get(fake)
            time.sleep(1.05)
            answered = get(fake)

        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        assert dated.status_code == 429 and parsedate_to_datetime(dated.headers["Retry-After"]).year >= 2024
        assert answered.status_code == 200

    def test_given_no_header_style_when_refused_then_no_wait_is_sent(self):
        with FakeMetronome(OPTIONS) as fake:
            fake.conditions.append(Bursts(period=100, duration=5, retry_after=NO_HEADER, phase=0))
            refused = get(fake)

        assert refused.status_code == 429 and "Retry-After" not in refused.headers


class TestPiecewiseLimit:
    def test_given_a_limit_that_drops_when_requests_come_then_it_follows_the_steps(self):
        limit = PiecewiseLimit([(0, 8), (60, 2), (120, 8)])

        assert [limit.limit_at(second) for second in (0, 59.9, 60, 119, 120, 500)] == [8, 8, 2, 2, 8, 8]

    def test_given_a_limit_of_two_when_three_requests_come_at_once_then_the_third_is_refused(self):
        with FakeMetronome(OPTIONS) as fake:
            fake.conditions.append(PiecewiseLimit([(0, 2)]))
            statuses = [get(fake).status_code for _ in range(3)]

        assert statuses == [200, 200, 429]


class TestStalls:
    def test_given_a_stalled_request_when_others_come_meanwhile_then_they_are_answered_and_it_answers_late(self):
        with FakeMetronome(OPTIONS) as fake:
            stalls = Stalls([1], seconds=0.5, path_pattern="/customers")
            fake.conditions.append(stalls)
            started = time.monotonic()
            stalled = threading.Thread(target=get, args=(fake,))
            stalled.start()
            time.sleep(0.1)
            other = get(fake)
            answered_after = time.monotonic() - started
            stalled.join()

        assert other.status_code == 200 and answered_after < 0.5
        assert stalls.stalled == 1 and stalls.arrivals_during == [1]
