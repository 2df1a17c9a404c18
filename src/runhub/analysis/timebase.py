"""The one time base every metric uses (algorithms.md section 1).

Project-wide conventions (every module in `analysis/` goes through this one):

* **Intervals, backward weights.** Sample i stands for the interval that ends at it,
  (t_{i-1}, t_i] (`w_i = t_i - t_{i-1}`); the first sample carries no time. This is Runalyze's
  convention (TimeSeriesForTrackdata.php), matches devices that log the value measured over the
  last second, and gives sweatpy's mean-max reference values (algorithms.md V1) exactly.
  Arrays of per-interval values have length n-1: entry i is the interval i -> i+1, whose value
  is sample i+1.
* **Pauses.** The source's timer events (`Activity.pauses`, or a recorded `timer` channel
  that stops advancing) mark the paused intervals. Only when a source says nothing about
  pauses, a gap longer than the gap threshold (max(15 s, 3 x median step)) counts as one unless
  the recorded distance went on over it at moving speed (GoldenCheetah's FixGaps); a
  source that states where its timer ran (`extras["pause_source"]`, FIT timer events) is
  believed, so a dropout with the timer running stays timer time, as the device counts it.
* **Weights.** `w_i = min(dt_i, gap threshold)` on non-paused intervals, 0 on paused ones: a
  value never stands for a long dropout; a NaN sample simply contributes no weight (its
  interval is left out, never redistributed).
* **Elapsed** = t_last - min(t_first, 0): from the activity's start (a FIT session starts before
  its first record) to the last sample. **Timer** = the source's own timer channel at the last
  sample when it has one (Smashrun `duration`, FIT timer events), else elapsed minus paused
  intervals.
  **Moving** = sum of dt over non-paused intervals whose speed (distance step / dt, else the
  speed channel) is at least the sport's threshold (`moving_threshold`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from runhub.activity import Activity, timer_seconds
from runhub.jit import kernel

# Moving thresholds in m/s. Running: Strava's "faster than a 30-minute-mile pace"; cycling,
# swimming, walking and the default follow Elevate's activity-computer.ts (4, 0.5, 1.5 and
# 0.3 km/h; walking/hiking use the running-on-foot 1.5 km/h so slow uphill hiking counts).
MOVING_THRESHOLDS: dict[str, float] = {
    "running": 1609.344 / 1800.0,
    "walking": 1.5 / 3.6,
    "hiking": 1.5 / 3.6,
    "cycling": 4.0 / 3.6,
    "swimming": 0.5 / 3.6,
}
DEFAULT_MOVING_THRESHOLD = 0.3 / 3.6
MIN_GAP_THRESHOLD = 15.0  # s; algorithms.md 1.2: 10-15 s for 1 Hz devices, >= 3x median step


def moving_threshold(sport: str) -> float:
    """Speed (m/s) at or above which an interval counts as moving, by the sport's family."""
    return MOVING_THRESHOLDS.get(sport.split(".")[0].split("+")[0], DEFAULT_MOVING_THRESHOLD)


@dataclass
class TimeBase:
    """Everything about time a metric needs; arrays of length n-1 describe intervals i -> i+1."""

    t: np.ndarray  # clock seconds of each sample
    dt: np.ndarray  # clock length of each interval
    paused: np.ndarray  # bool, interval is a pause
    weights: np.ndarray  # seconds each interval stands for (0 when paused, capped at gap)
    moving: np.ndarray  # bool, interval counts as moving
    gap: float  # the gap threshold used (s)

    @property
    def elapsed(self) -> float:
        return float(self.t[-1] - min(self.t[0], 0.0)) if len(self.t) else 0.0

    recorded_timer: float | None = None  # the source's own timer at the last sample, when it has one

    @property
    def timer(self) -> float:
        if self.recorded_timer is not None:
            return self.recorded_timer
        # all paused: elapsed and the paused sum differ in their last bits (-8.9e-16 s was refused)
        return max(self.elapsed - float(self.dt[self.paused].sum()), 0.0)

    @property
    def moving_time(self) -> float:
        return float(self.dt[self.moving].sum())

    def timer_axis(self) -> np.ndarray:
        """Seconds since start with paused intervals removed, at each sample (length n)."""
        return np.concatenate(([0.0], np.cumsum(np.where(self.paused, 0.0, self.dt))))

    def weighted(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values, weights) of the intervals whose sample value is known, for averages/zones:
        interval i -> i+1 carries sample i+1 (backward weights)."""
        v = x[1:]
        ok = np.isfinite(v) & (self.weights > 0)
        return v[ok], self.weights[ok]


def time_base(a: Activity) -> TimeBase:
    """Build the time base of an activity with streams: the conventions above, in one compiled
    pass (`_time_base`)."""
    t = np.ascontiguousarray(a.channels["time"], dtype=float)
    ch = a.channels
    timer = ch.get("timer")
    d = ch.get("distance")
    s = ch.get("speed")
    gap_rule = says_nothing_of_pauses(a)
    dt, paused, weights, moving, gap = _time_base(
        t,
        np.asarray(a.pauses, dtype=np.int64) if a.pauses else _NO_PAUSES,
        _EMPTY if timer is None else np.ascontiguousarray(timer, dtype=float),
        _EMPTY if d is None else np.ascontiguousarray(d, dtype=float),
        _EMPTY if s is None else np.ascontiguousarray(s, dtype=float),
        s is not None,
        gap_rule,
        moving_threshold(a.sport),
    )
    recorded = float(timer[-1]) if timer is not None and len(timer) and np.isfinite(timer[-1]) else None
    return TimeBase(
        t=a.channels["time"], dt=dt, paused=paused, weights=weights, moving=moving, gap=gap, recorded_timer=recorded
    )


def says_nothing_of_pauses(a: Activity) -> bool:
    """No timer events, no timer channel, no word of where the timer ran: the gap rule applies."""
    return not a.pauses and "timer" not in a.channels and not a.extras.get("pause_source")


def make_timer_explicit(a: Activity, fmt: str) -> None:
    """Write runhub's reading of the activity's timer into it before it is exported as `fmt`,
    where the file would otherwise make its reader (runhub reading it back, Garmin Connect) find
    another timer than the one runhub shows:

    * FIT always writes timer events, which its readers believe: a source that says nothing of
      pauses gets the pauses the gap rule finds, or the file would say the timer never stopped.
      Other formats stay silent and their readers find the same gaps again (a GPX track break
      would even cut the distance its reader measures along the positions);
    * a source that says where its timer ran (timer events, track breaks), written where the
      file cannot say it, gets that timer as a `timer` channel when it has none: a CSV or a
      Parquet table (no pauses in their rows; their timer column) and a Smashrun JSON without
      pauses (its duration series; else its reader would apply the gap rule to a FIT timer that
      ran through a dropout). TCX and GPX cannot carry a timer."""
    if a.n_samples < 2:
        return
    if says_nothing_of_pauses(a):
        if fmt == "fit":
            a.pauses = (np.flatnonzero(time_base(a).paused) + 1).tolist()
    elif "timer" not in a.channels and (fmt in ("csv", "parquet") or (fmt == "json" and not a.pauses)):
        a.channels["timer"] = timer_seconds(a)


_EMPTY = np.zeros(0)
_NO_PAUSES = np.zeros(0, dtype=np.int64)


@kernel
def _time_base(
    t: np.ndarray,
    pauses: np.ndarray,
    timer: np.ndarray,
    dist: np.ndarray,
    speed: np.ndarray,
    has_speed: bool,
    gap_rule: bool,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """(dt, paused, weights, moving, gap), element by element with the operations of the numpy
    definitions tests/analysis/test_timebase_kernel.py holds it to (so the same bits). Compiled:
    the numpy form is ~25 array calls and two medians (~90 us per activity, most of a short
    one's time base). `timer`, `dist` empty when the activity has no such channel.

    Paused: the source's pause events; the timer channel standing (nearly) still while the clock
    runs; only when the source says nothing of pauses, a step longer than the gap threshold
    (max(15 s, 3 x the median step)) over which the distance did not go on at moving speed.
    Moving: not paused, and the interval speed (distance step / dt, else the speed channel's
    sample) not known to be below the sport's threshold."""
    n = len(t)
    m = max(n - 1, 0)
    dt = np.empty(m)
    nan_step = False
    for i in range(m):
        dt[i] = t[i + 1] - t[i]
        if dt[i] != dt[i]:
            nan_step = True
    gap = MIN_GAP_THRESHOLD
    if n >= 2:
        med = np.nan if nan_step else np.median(dt)
        if 3.0 * med > gap:  # Python's max(15.0, x): x only when larger (NaN is not)
            gap = 3.0 * med
    paused = np.zeros(m, dtype=np.bool_)
    for k in range(len(pauses)):
        j = pauses[k] - 1
        if j < 0:
            j += m  # numpy's wrap-around of activity.pause_mask's fancy index
        if not 0 <= j < m:
            raise IndexError("pause index out of range")
        paused[j] = True
    if len(timer) and n > 1:
        for i in range(m):
            dtimer = timer[i + 1] - timer[i]
            if np.isfinite(dtimer) and dt[i] - dtimer > 0.5 * dt[i] and dt[i] > 1.0:
                paused[i] = True
    known = 0
    for i in range(len(dist)):
        if np.isfinite(dist[i]):
            known += 1
    use_dist = known >= 2
    if gap_rule and n > 1:
        for i in range(m):
            if dt[i] > gap:
                # a gap the distance runs on through at moving speed was run (a GPS logging
                # sparsely, a tunnel), not a stop: GoldenCheetah fills such gaps, it does not cut them
                moved = use_dist and (dist[i + 1] - dist[i]) / dt[i] >= threshold
                paused[i] = not moved
    weights = np.empty(m)
    for i in range(m):
        if paused[i]:
            weights[i] = 0.0
        elif dt[i] != dt[i]:
            weights[i] = np.nan  # np.minimum propagates NaN
        else:
            weights[i] = dt[i] if dt[i] < gap else gap
    moving = np.empty(m, dtype=np.bool_)
    for i in range(m):
        mv = not paused[i]
        if use_dist:
            # distance step / dt; a zero dt gives no finite speed (numpy: inf or NaN)
            if dt[i] != 0.0:
                v = (dist[i + 1] - dist[i]) / dt[i]
                if np.isfinite(v) and v < threshold:
                    mv = False
        elif has_speed:
            v = speed[i + 1]
            if np.isfinite(v) and v < threshold:
                mv = False
        moving[i] = mv
    return dt, paused, weights, moving, gap
