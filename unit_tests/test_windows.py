"""The date arithmetic of every dated request: what range a partition reads, where its cursor
stops, and the one form timestamps take."""

from datetime import datetime, timedelta, timezone

import pytest

from source_metronome.windows import DateRange, canonical_timestamp, cursor_after_reading, range_to_read


def utc(day: int, hour: int = 0, month: int = 3) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=timezone.utc)


NOW = utc(15, 13)
WEEK = timedelta(days=7)


class TestRangeToRead:
    def test_given_no_cursor_then_from_start_date_through_todays_open_window(self):
        assert range_to_read(utc(1), None, NOW, None, WEEK) == DateRange(utc(1), utc(16))

    def test_given_a_cursor_then_starts_lookback_days_before_it(self):
        assert range_to_read(utc(1), None, NOW, utc(12), WEEK) == DateRange(utc(5), utc(16))

    def test_given_a_cursor_within_lookback_of_start_date_then_never_before_start_date(self):
        assert range_to_read(utc(1), None, NOW, utc(3), WEEK) == DateRange(utc(1), utc(16))

    def test_given_an_end_date_in_the_past_then_ends_there(self):
        assert range_to_read(utc(1), utc(10), NOW, None, WEEK) == DateRange(utc(1), utc(10))

    def test_given_an_end_date_in_the_future_then_ends_with_today(self):
        assert range_to_read(utc(1), utc(1, month=4), NOW, None, WEEK) == DateRange(utc(1), utc(16))

    def test_given_a_cursor_at_end_date_and_no_lookback_then_nothing_to_read(self):
        assert range_to_read(utc(1), utc(10), NOW, utc(10), timedelta(0)) is None


class TestCursorAfterReading:
    def test_given_a_range_read_through_today_then_stops_at_the_start_of_the_open_day(self):
        assert cursor_after_reading(utc(16), NOW) == utc(15)

    def test_given_a_range_ending_in_the_past_then_at_its_end(self):
        assert cursor_after_reading(utc(10), NOW) == utc(10)


class TestCanonicalTimestamp:
    @pytest.mark.parametrize(
        "text",
        ["2024-03-01T00:00:00+00:00", "2024-03-01T00:00:00Z", "2024-03-01T00:00:00.000Z", "2024-03-01T01:00:00+01:00", "2024-03-01 00:00:00+00:00"],
    )
    def test_given_any_utc_form_then_one_form(self, text):
        assert canonical_timestamp(text) == "2024-03-01T00:00:00+00:00"
