"""Smashrun stats (all time, a year, a month) and goal progress, on local calendar dates
(algorithms.md 12.1). Input is plain per-run facts (the `facts` product), never streams.

Definitions (Smashrun publishes field names only):

* averageSpeed: mean of each run's speed weighted by its distance (km/h); averagePace from it.
* longest streak: most consecutive local dates with a run; its date is the day it began.
* longest break: most consecutive days without a run between two runs (an ongoing break up to
  `today` counts only when `count_ongoing_break`); its date is the first day without a run.
* daysRunAM/PM/Both: unique dates with a run starting before 12:00 / at or after 12:00 / both.
* the span for per-day and per-week averages: the whole period (year or month) up to `today`
  when given; all time: first run's date to `today` (else to the last run's date).
* most/least often weekday: run counts per weekday, ties to the earliest weekday (Monday
  first); the least often day may have no run (count 0, average distance 0).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from runhub.units import pace_string

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class RunFact:
    """One run: local start (naive, the run's own time zone), distance (m), duration (s)."""

    local_start: datetime
    distance: float
    duration: float
    activity_id: int | None = None


def period_bounds(year: int | None, month: int | None) -> tuple[date | None, date | None]:
    if year is None:
        return None, None
    if month is None:
        return date(year, 1, 1), date(year, 12, 31)
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def in_period(runs: Sequence[RunFact], year: int | None, month: int | None) -> list[RunFact]:
    lo, hi = period_bounds(year, month)
    if lo is None or hi is None:
        return list(runs)
    return [r for r in runs if lo <= r.local_start.date() <= hi]


def smashrun_stats(
    runs: Sequence[RunFact],
    year: int | None = None,
    month: int | None = None,
    today: date | None = None,
    count_ongoing_break: bool = False,
) -> dict[str, Any]:
    """Every field of Smashrun's stats object (distances in km, speeds in km/h)."""
    rs = sorted(in_period(runs, year, month), key=lambda r: r.local_start)
    lo, hi = period_bounds(year, month)
    out: dict[str, Any] = {"runCount": len(rs)}
    if not rs:
        return out | {"totalDistance": 0.0}
    dist = np.array([r.distance for r in rs]) / 1000.0
    dur = np.array([r.duration for r in rs])
    total = float(dist.sum())
    out["totalDistance"] = total
    speeds = np.where(dur > 0, dist / np.maximum(dur, 1e-9) * 3600.0, 0.0)
    avg_speed = float((speeds * dist).sum() / total) if total > 0 else 0.0
    out["averageSpeed"] = avg_speed
    out["averagePace"] = pace_string(3600.0 / avg_speed) if avg_speed > 0 else None
    li = int(dist.argmax())
    out["longestRun"] = float(dist[li])
    out["longestRunWhen"] = rs[li].local_start.date().isoformat()
    days = sorted({r.local_start.date() for r in rs})
    ords = np.array([d.toordinal() for d in days])
    # streaks: split where consecutive dates are not adjacent
    breaks = np.flatnonzero(np.diff(ords) != 1)
    seg_starts = np.concatenate(([0], breaks + 1))
    seg_ends = np.concatenate((breaks, [len(ords) - 1]))
    lengths = seg_ends - seg_starts + 1
    si = int(lengths.argmax())
    out["longestStreak"] = int(lengths[si])
    out["longestStreakDate"] = days[seg_starts[si]].isoformat()
    gaps = np.diff(ords) - 1
    best_gap, gap_start = 0, None
    if len(gaps) and gaps.max() > 0:
        gi = int(gaps.argmax())
        best_gap, gap_start = int(gaps[gi]), days[gi] + timedelta(days=1)
    if count_ongoing_break and today is not None:
        end = min(today, hi) if hi else today
        ongoing = (end - days[-1]).days
        if ongoing > best_gap:
            best_gap, gap_start = ongoing, days[-1] + timedelta(days=1)
    out["longestBreakBetweenRuns"] = best_gap
    out["longestBreakBetweenRunsDate"] = gap_start.isoformat() if gap_start else None
    am = {r.local_start.date() for r in rs if r.local_start.hour < 12}
    pm = {r.local_start.date() for r in rs if r.local_start.hour >= 12}
    out["daysRunAM"], out["daysRunPM"], out["daysRunBoth"] = len(am), len(pm), len(am & pm)
    first = lo if lo else days[0]
    last = hi if hi else (today or days[-1])
    if today is not None and hi is not None:
        last = min(hi, today)
    span = max((last - first).days + 1, 1)
    out["averageDistancePerDay"] = total / span
    out["averageRunLength"] = total / len(rs)
    out["averageDaysRunPerWeek"] = len(days) / span * 7.0
    wd = np.array([r.local_start.weekday() for r in rs])
    counts = np.bincount(wd, minlength=7)
    sums = np.bincount(wd, weights=dist, minlength=7)
    most = int(counts.argmax())
    least = int(counts.argmin())
    out["mostOftenRunOnDay"] = WEEKDAYS[most]
    out["mostOftenRunOnDayCount"] = int(counts[most])
    out["mostOftenRunOnDayAverageDistance"] = float(sums[most] / counts[most])
    out["leastOftenRunOnDay"] = WEEKDAYS[least]
    out["leastOftenRunOnDayCount"] = int(counts[least])
    out["leastOftenRunOnDayAverageDistance"] = float(sums[least] / counts[least]) if counts[least] else 0.0
    return out


def goal_progress(runs: Sequence[RunFact], year: int, month: int | None = None) -> float:
    """Total distance (m) run so far in the goal's year or month (local dates)."""
    return float(sum(r.distance for r in in_period(runs, year, month)))
