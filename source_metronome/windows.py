"""Time on Metronome's terms: UTC-midnight-aligned ranges and one canonical timestamp form."""

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import List, Optional

import pendulum

ONE_DAY = timedelta(days=1)

# Lets the end-to-end tests and the demo run the connector at the fake server's frozen "now".
NOW_OVERRIDE_ENV = "SOURCE_METRONOME_NOW"


def utc_now() -> datetime:
    override = os.environ.get(NOW_OVERRIDE_ENV)
    return parse_moment(override) if override else datetime.now(timezone.utc)


def parse_moment(text: str) -> datetime:
    """A date or date-time in any ISO-8601 form; a value without an offset is taken as UTC."""
    parsed = pendulum.parse(text.strip(), tz="UTC")
    if not isinstance(parsed, datetime):
        raise ValueError(f"{text!r} is not a date or date-time")
    return datetime.fromtimestamp(parsed.timestamp(), tz=timezone.utc)


def floor_to_midnight(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def ceil_to_midnight(moment: datetime) -> datetime:
    floor = floor_to_midnight(moment)
    return floor if floor == moment else floor + ONE_DAY


def format_timestamp(moment: datetime) -> str:
    """The one form every emitted timestamp takes (Metronome's own `+00:00` form), so that one
    window always has one primary key whatever form the API answered in."""
    return moment.astimezone(timezone.utc).isoformat()


def canonical_timestamp(text: str) -> str:
    # Fast path: Metronome's usual form is already canonical, and this runs once per field per record.
    if len(text) == 25 and text[10] == "T" and text.endswith("+00:00"):
        return text
    return format_timestamp(datetime.fromisoformat(text))


@dataclass(frozen=True)
class DateRange:
    """[starting_on, ending_before): what one partition asks Metronome for in a sync."""

    starting_on: datetime
    ending_before: datetime


def cursor_after_reading(ending_before: datetime, now: datetime) -> datetime:
    """Where a partition's cursor may move once its range has been read completely. The day still
    in progress was read too, but it is not final, so the cursor stops at its start and the next
    sync reads it again."""
    return min(ending_before, floor_to_midnight(now))


def range_to_read(
    start_date: datetime,
    end_date: Optional[datetime],
    now: datetime,
    cursor: Optional[datetime],
    lookback: timedelta,
) -> Optional[DateRange]:
    """The range one partition reads: from the start date, or from its cursor less the lookback
    (Metronome accepts events backdated up to 34 days, so synced days can still change), up to the
    end date or the end of today. Both ends fall on UTC midnight, as Metronome requires. None when
    there is less than the one day Metronome's minimum allows."""
    ending_before = ceil_to_midnight(now)
    if end_date is not None:
        ending_before = min(ending_before, end_date)
    starting_on = start_date
    if cursor is not None:
        starting_on = max(starting_on, cursor - lookback)
    if ending_before - starting_on < ONE_DAY:
        return None
    return DateRange(starting_on, ending_before)


def split_range(date_range: DateRange, longest: timedelta) -> List[DateRange]:
    """The range as consecutive pieces of at most `longest`, oldest first, for an endpoint that
    serves at most that much of a range per request."""
    pieces = []
    starting_on = date_range.starting_on
    while starting_on < date_range.ending_before:
        ending_before = min(starting_on + longest, date_range.ending_before)
        pieces.append(DateRange(starting_on, ending_before))
        starting_on = ending_before
    return pieces
