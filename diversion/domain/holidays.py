"""Public holidays of a programme's region, and the dates of a series of sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

MAX_SERIES_COUNT = 200
MAX_SERIES_INTERVAL_DAYS = 365


def _uk_regions() -> dict[str, str]:
    # Read from the library, so a region it adds (or drops) is known here too.
    uk = holidays.country_holidays("GB")
    places = {code: place for place, code in uk.subdivisions_aliases.items()}
    return {f"GB-{code}": places.get(code, code) for code in uk.subdivisions}


# A programme's holiday region: one of the UK's subdivisions, by code, with its place name.
UK_HOLIDAY_REGIONS = _uk_regions()


def _parse_region(region: str) -> tuple[str, str | None]:
    # "GB-ENG" is England and Wales: the two share their bank holidays, and the
    # library files them under England.
    country, dash, subdiv = region.strip().upper().partition("-")
    if not country or (dash and not subdiv):
        raise ValueError(f"unknown holiday region {region!r}")
    return country, subdiv or None


def region_holidays(region: str) -> holidays.HolidayBase:
    """Return the holiday calendar of a region code such as "GB-ENG" or "FR"."""
    return _region_holidays(*_parse_region(region))


@lru_cache(maxsize=64)
def _region_holidays(country: str, subdiv: str | None) -> holidays.HolidayBase:
    try:
        return holidays.country_holidays(country, subdiv=subdiv)
    except NotImplementedError as exc:
        name = f"{country}-{subdiv}" if subdiv else country
        raise ValueError(f"unknown holiday region {name!r}") from exc


@lru_cache(maxsize=1024)
def _holiday_dates(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    # The library fills its calendar lazily on lookup, mutating a shared object; a
    # frozen per-year set keeps lookups from web threads free of that race. The
    # neighbouring years are included because an observed day can cross New Year.
    calendar = holidays.country_holidays(country, subdiv=subdiv, years=range(year - 1, year + 2))
    return frozenset(calendar.keys())


def is_public_holiday(d: date, region: str) -> bool:
    """Tell whether a date is a public holiday in the region."""
    country, subdiv = _parse_region(region)
    _region_holidays(country, subdiv)  # validates the region once, with a clear error
    return d in _holiday_dates(country, subdiv, d.year)


def next_working_day(d: date, region: str) -> date:
    """Return the date itself, or the first later date that is not a public holiday."""
    while is_public_holiday(d, region):
        d += timedelta(days=1)
    return d


@dataclass(frozen=True)
class SeriesDate:
    starts_at: datetime
    moved_from: date | None = None


def _local(day: date, wall_clock: time, zone: ZoneInfo) -> datetime:
    # A wall-clock time inside the spring-forward gap does not exist; fold=0 reads it
    # with the pre-change offset, and the round trip through UTC lands on the real
    # instant just after the gap (01:30 becomes 02:30 BST).
    return datetime.combine(day, wall_clock, tzinfo=zone).astimezone(UTC).astimezone(zone)


def series_dates(
    first_starts_at: datetime,
    count: int,
    interval_days: int,
    region: str,
    tz: str,
) -> list[SeriesDate]:
    """Return the dates of a series at one local wall-clock time, moved off holidays."""
    if not 1 <= count <= MAX_SERIES_COUNT:
        raise ValueError(f"count must be between 1 and {MAX_SERIES_COUNT}")
    if not 1 <= interval_days <= MAX_SERIES_INTERVAL_DAYS:
        raise ValueError(f"interval_days must be between 1 and {MAX_SERIES_INTERVAL_DAYS}")
    zone = ZoneInfo(tz)
    aware = first_starts_at.tzinfo is not None and first_starts_at.utcoffset() is not None
    first_local = first_starts_at.astimezone(zone) if aware else first_starts_at
    first_date = first_local.date()
    wall_clock = first_local.time().replace(fold=0)

    result = []
    for k in range(count):
        planned = first_date + timedelta(days=k * interval_days)
        actual = next_working_day(planned, region)
        if k == 0 and aware and actual == planned:
            # Keep the given instant: in the autumn's repeated hour it may be the
            # second 01:30, which rebuilding from the wall clock would not give back.
            starts_at = first_local
        else:
            starts_at = _local(actual, wall_clock, zone)
        result.append(
            SeriesDate(starts_at=starts_at, moved_from=planned if actual != planned else None)
        )
    return result
