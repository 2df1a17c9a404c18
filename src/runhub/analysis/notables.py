"""Notables: how a run compares with every run before it (algorithms.md 12.2, Smashrun's
`/my/activities/{id}/notables`). Smashrun's catalogue is unpublished; ours is below.

A run is notable for (metric, period) when its value strictly beats every run that started in
[start - period, start) and at least MIN_PRIOR runs started in that window (ties are not
notable). Periods are 1, 3, 6 and 12 months and ever (99); per metric only the longest period
achieved is reported.

CATALOGUE (code, supporting value, imperial flag):
* fastest best effort at 1 km, 5 km, 10 km, half marathon, marathon (`speedkm`, km) and at
  1 mile (`speedmi`, 1, imperial) - value: seconds for the distance (lower is better);
* longest run (`distance`) - metres;
* longest run by time (`duration`) - seconds;
* most elevation gain (`elevation`) - metres;
* fastest average pace for a distance band, 5-10 km and 10-21.1 km (`pace`, band's lower km)
  - value: m/s of runs inside the band;
* most runs in 7 days ending with this run (`days`, 7) - count;
* most distance in 7 days ending with this run (`distancedays`, 7) - metres.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

PERIODS = (99, 12, 6, 3, 1)  # longest first: the first one achieved is reported
MIN_PRIOR = 3


@dataclass
class NotableRun:
    """Facts of one run for notables (plain data; the `facts` and `best_efforts` products)."""

    id: int
    local_start: datetime
    distance: float  # m
    duration: float  # s (timer)
    elevation_gain: float | None = None
    best_efforts: dict[str, float] = field(default_factory=dict)  # Strava name -> seconds


@dataclass(frozen=True)
class Metric:
    key: str
    text: str  # "{adj} {what}" pieces
    code: str
    supporting: float | None
    imperial: bool
    higher_is_better: bool
    value: Callable[[NotableRun, Sequence[NotableRun]], float | None]


def _effort(name: str) -> Callable[[NotableRun, Sequence[NotableRun]], float | None]:
    return lambda r, _hist: r.best_efforts.get(name)


def _band(lo: float, hi: float) -> Callable[[NotableRun, Sequence[NotableRun]], float | None]:
    return lambda r, _h: r.distance / r.duration if lo <= r.distance < hi and r.duration > 0 else None


def _window(r: NotableRun, hist: Sequence[NotableRun], fn: Callable[[Sequence[NotableRun]], float]) -> float:
    lo = r.local_start - timedelta(days=7)
    return fn([x for x in hist if lo < x.local_start <= r.local_start])


CATALOGUE: tuple[Metric, ...] = (
    Metric("fastest_1k", "Fastest 1 km", "speedkm", 1, False, False, _effort("1K")),
    Metric("fastest_1mi", "Fastest mile", "speedmi", 1, True, False, _effort("1 mile")),
    Metric("fastest_5k", "Fastest 5 km", "speedkm", 5, False, False, _effort("5K")),
    Metric("fastest_10k", "Fastest 10 km", "speedkm", 10, False, False, _effort("10K")),
    Metric("fastest_half", "Fastest half marathon", "speedkm", 21.0975, False, False, _effort("Half-Marathon")),
    Metric("fastest_marathon", "Fastest marathon", "speedkm", 42.195, False, False, _effort("Marathon")),
    Metric("longest_run", "Longest run", "distance", None, False, True, lambda r, _h: r.distance),
    Metric("longest_time", "Longest run by time", "duration", None, False, True, lambda r, _h: r.duration),
    Metric("most_elevation", "Most elevation gain", "elevation", None, False, True, lambda r, _h: r.elevation_gain),
    Metric("pace_5_10k", "Fastest pace for a 5-10 km run", "pace", 5, False, True, _band(5000, 10000)),
    Metric("pace_10_21k", "Fastest pace for a 10-21 km run", "pace", 10, False, True, _band(10000, 21097.5)),
    Metric("runs_7d", "Most runs in 7 days", "days", 7, False, True, lambda r, h: _window(r, h, len)),
    Metric(
        "distance_7d",
        "Most distance in 7 days",
        "distancedays",
        7,
        False,
        True,
        lambda r, h: _window(r, h, lambda xs: sum(x.distance for x in xs)),
    ),
)

PERIOD_TEXT = {1: "in a month", 3: "in 3 months", 6: "in 6 months", 12: "in a year", 99: "ever"}


def _months_before(when: datetime, months: int) -> datetime:
    y, m = divmod(when.month - 1 - months, 12)
    year, month = when.year + y, m + 1
    day = min(
        when.day,
        [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][
            month - 1
        ],
    )
    return when.replace(year=year, month=month, day=day)


def notables(run: NotableRun, history: Sequence[NotableRun], catalogue: Sequence[Metric] = CATALOGUE) -> list[dict]:
    """Notables of `run` against `history` (any order; runs at or after `run` are ignored)."""
    prior = sorted(
        (h for h in history if h.local_start < run.local_start and h.id != run.id), key=lambda h: h.local_start
    )
    everything = [*prior, run]
    out: list[dict[str, Any]] = []
    for m in catalogue:
        value = m.value(run, everything)
        if value is None:
            continue
        # each prior run's own value, against its own history
        prior_vals = [m.value(h, prior[: i + 1]) for i, h in enumerate(prior)]
        for period in PERIODS:
            lo = None if period == 99 else _months_before(run.local_start, period)
            inside = [i for i, h in enumerate(prior) if lo is None or h.local_start >= lo]
            vals = [prior_vals[i] for i in inside if prior_vals[i] is not None]
            if len(inside) < MIN_PRIOR or not vals:
                continue
            best = max(vals) if m.higher_is_better else min(vals)
            if (value > best) if m.higher_is_better else (value < best):
                out.append(
                    {
                        "text": f"{m.text} {PERIOD_TEXT[period]}",
                        "reasonCode": m.code,
                        "period": period,
                        "supportingValue": m.supporting,
                        "isImperial": m.imperial,
                        "value": value,
                        "previousBest": best,
                        "key": m.key,
                    }
                )
                break
    return out
