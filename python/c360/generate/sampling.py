"""Vectorised draws from the calibration constants, and the calendar they live on."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from c360.generate import calibration

Columns = dict[str, np.ndarray]

HORIZON_START = np.datetime64(calibration.HORIZON[0], "D")
HORIZON_END = np.datetime64(calibration.HORIZON[1], "D")
# Every calendar month of the horizon, the unit transactions are generated and written in.
MONTHS = np.arange(HORIZON_START.astype("M8[M]"), HORIZON_END.astype("M8[M]") + 1)
DAYS_PER_YEAR = 365.25


def scaled_count(real_count: float, scale: float) -> int:
    """Entity count at this scale; never zero, so tiny scales still hold some of everything."""
    return max(1, round(real_count * scale))


def from_counts(rng: np.random.Generator, counts: Mapping[Any, float], size: int) -> np.ndarray:
    """Draw keys with probabilities proportional to their counts."""
    keys = np.array(list(counts))
    weights = np.fromiter(counts.values(), dtype=float)
    return keys[rng.choice(len(keys), size=size, p=weights / weights.sum())]


def indices_from_counts(rng: np.random.Generator, counts: Sequence[float], size: int) -> np.ndarray:
    """Draw row positions of a table of (..., count) rows, by count."""
    weights = np.asarray(counts, dtype=float)
    return rng.choice(len(weights), size=size, p=weights / weights.sum())


def from_quantiles(rng: np.random.Generator, quantiles: Sequence[float], size: int) -> np.ndarray:
    """Inverse-CDF draw, interpolating linearly between evenly spaced quantiles."""
    return np.interp(rng.random(size), np.linspace(0, 1, len(quantiles)), quantiles)


def amounts_in_cents(rng: np.random.Generator, model: Mapping[str, Any], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Amounts drawn from an amount model, rounded like the real ones.

    Returns (amount in cents, rounding unit in cents): a share of real amounts are whole
    hundreds, most others whole crowns; the unit is kept so a later rescale can re-round.
    """
    czk = from_quantiles(rng, model["quantiles"], size)
    u = rng.random(size)
    unit = np.where(u < model["hundreds_share"], 10_000, np.where(u < model["whole_share"], 100, 1))
    return round_to_unit(czk * 100, unit), unit


def round_to_unit(cents: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Round to the unit, never below one unit (an amount is never zero)."""
    return np.maximum(unit, np.round(cents / unit) * unit).astype(np.int64)


def years_to_days(years: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(years) * DAYS_PER_YEAR).astype("m8[D]")


def month_index(dates: np.ndarray) -> np.ndarray:
    """Months since the horizon start (0 = first month)."""
    return (dates.astype("M8[M]") - MONTHS[0]).astype(np.int64)


def days_in_month(months: np.ndarray) -> np.ndarray:
    return ((months + 1).astype("M8[D]") - months.astype("M8[D]")).astype(np.int64)


def whole_years_between(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Age-style whole years from start to end dates (a birthday counts on its day)."""
    start_year, end_year = start.astype("M8[Y]"), end.astype("M8[Y]")
    years = (end_year - start_year).astype(np.int64)
    return years - (_month_day(end, end_year) < _month_day(start, start_year))


def _month_day(dates: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Position within the year as month * 100 + day, comparable across years."""
    months = (dates.astype("M8[M]") - years.astype("M8[M]")).astype(np.int64)
    return months * 100 + (dates - dates.astype("M8[M]")).astype(np.int64)


def sparse_ids(rng: np.random.Generator, table: str, size: int, after: int | None = None) -> np.ndarray:
    """Increasing keys with random gaps, like the real tables' (first id and mean gap kept).

    `after` continues a sequence written in chunks (the last id already used).
    """
    if size == 0:
        return np.zeros(0, np.int64)
    first, last = calibration.ID_RANGES[table]
    mean_gap = (last - first) / max(1, calibration.ROW_COUNTS[table] - 1)
    gaps = 1 + rng.poisson(mean_gap - 1, size)
    start = first - gaps[0] if after is None else after
    return start + np.cumsum(gaps)


def lookup(mapping: Mapping[Any, Any], keys: np.ndarray, dtype: Any = None) -> np.ndarray:
    """mapping[key] for every element, looping over the distinct keys only."""
    distinct, inverse = np.unique(keys, return_inverse=True)
    return np.array([mapping[k] for k in distinct.tolist()], dtype=dtype)[inverse]
