"""Time as Metronome speaks it: UTC midnights, and the two timestamp forms it answers in."""

from datetime import datetime, timedelta, timezone

ONE_DAY = timedelta(days=1)
ONE_HOUR = timedelta(hours=1)
# The steps of the windows usage and invoice breakdowns come in.
WINDOW_STEPS = {"DAY": ONE_DAY, "HOUR": ONE_HOUR}

# Real responses use `+00:00` offsets; the reference pages show `Z` with milliseconds. The fake can
# answer in either, so the tests can check that the connector emits one form whatever it receives.
OFFSET_STYLE = "offset"
Z_MILLIS_STYLE = "z_millis"
TIMESTAMP_STYLES = (OFFSET_STYLE, Z_MILLIS_STYLE)


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 date-time, or a bare date; values without an offset are taken as UTC."""
    parsed = datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_timestamp(moment: datetime, style: str = OFFSET_STYLE) -> str:
    moment = moment.astimezone(timezone.utc)
    if style == Z_MILLIS_STYLE:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.isoformat()


def floor_to_midnight(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def ceil_to_midnight(moment: datetime) -> datetime:
    floor = floor_to_midnight(moment)
    return floor if floor == moment else floor + ONE_DAY


def is_midnight(moment: datetime) -> bool:
    return floor_to_midnight(moment) == moment


def steps(start: datetime, end: datetime, step: timedelta, before: datetime):
    """The starts of the `step`-long windows in [start, end) that begin before `before`."""
    current = start
    while current < end and current < before:
        yield current
        current += step
