"""Distance along a GPS track on the WGS84 ellipsoid (Karney's algorithm via pyproj, vectorised).

The one cumulative-distance algorithm, used wherever a source has positions but no distance
stream (GPX, TCX without DistanceMeters, OpenTracks CSV, Smashrun JSON, analysis): devices' own
distance is always preferred (algorithms.md section 13).
"""

from __future__ import annotations

import numpy as np
from pyproj import Geod

_GEOD = Geod(ellps="WGS84")


def distances(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Geodesic length (m) from each point 1 to its point 2."""
    if len(lat1) == 0:
        return np.zeros(0)
    return np.asarray(_GEOD.inv(lon1, lat1, lon2, lat2)[2], dtype=np.float64)


def cumulative_distance(lat: np.ndarray, lon: np.ndarray, paused_steps: np.ndarray | list[int] | None = None,
                        skip: np.ndarray | None = None, *, lengths: np.ndarray | None = None,
                        t: np.ndarray | None = None) -> np.ndarray:
    """Cumulative distance (m) at each sample, from fix to fix.

    A sample without a position does not break the track: the step runs from the last fix to the
    next one (a dropped GPS sample did not teleport the runner). With the samples' times `t`, the
    distance at the samples between two fixes is placed along the step in time (it adds nothing:
    a whole step put on the sample after a 30 s dropout read as 50 m/s over 3 s); without, and
    after the last fix, it holds the last fix's value, since it is known that far. Before the
    first fix it is NaN (nothing is known). `paused_steps` are the intervals i -> i+1 that are
    pauses (activity.pause_mask); a fix-to-fix step spanning one adds nothing: a resume somewhere
    else is not a distance run. `skip`: fixes read as no fix (`gps_jumps`). `lengths`: the
    fix-to-fix lengths, when known (`track_distance`).
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    n = len(lat)
    out = np.full(n, np.nan)
    fix = np.isfinite(lat) & np.isfinite(lon)
    if skip is not None:
        fix &= ~skip
    ok = np.flatnonzero(fix)
    if len(ok) == 0:
        return out
    steps = np.zeros(len(ok))
    if len(ok) > 1:
        a, b = ok[:-1], ok[1:]
        steps[1:] = _step_lengths(lat, lon, ok) if lengths is None else lengths
        if paused_steps is not None and len(paused_steps):
            steps[1:][_crossing(paused_steps, a, b)] = 0.0
    out[ok] = np.cumsum(steps)
    if t is not None and len(ok) > 1 and ok[-1] - ok[0] + 1 > len(ok):
        inside = np.arange(ok[0], ok[-1] + 1)
        out[inside] = np.interp(t[inside], t[ok], out[ok])
    last = np.maximum.accumulate(np.where(fix, np.arange(n), -1))
    held = last >= 0
    out[held] = np.where(np.isnan(out[held]), out[last[held]], out[held])
    return out


def track_distance(lat: np.ndarray, lon: np.ndarray, t: np.ndarray, max_speed: float | None,
                   paused_steps: np.ndarray | list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative distance, the fixes left out as jumps): `cumulative_distance` with the
    receiver's jumps (`gps_jumps`) read as no fix, each step measured once where none is found."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    lengths = _step_lengths(lat, lon, ok)
    jumps = gps_jumps(lat, lon, t, max_speed, paused_steps, lengths=lengths)
    if jumps.any():
        return cumulative_distance(lat, lon, paused_steps, jumps, t=t), jumps
    return cumulative_distance(lat, lon, paused_steps, lengths=lengths if len(ok) > 1 else None, t=t), jumps


def _step_lengths(lat: np.ndarray, lon: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Geodesic length of each step between consecutive fixes `ok`."""
    return distances(lat[ok[:-1]], lon[ok[:-1]], lat[ok[1:]], lon[ok[1:]])


def pause_steps(pauses: list[int]) -> np.ndarray:
    """Pause indexes (the samples that follow a pause) as paused intervals i -> i+1."""
    return np.asarray(pauses, dtype=np.int64) - 1


def _crossing(paused_steps: np.ndarray | list[int], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each step from fix a to fix b > a: whether a paused interval j (j -> j+1) lies in it."""
    p = np.sort(np.asarray(paused_steps, dtype=np.int64))
    return np.searchsorted(p, b, side="left") > np.searchsorted(p, a, side="left")


# A fix farther from its neighbour than the sport's speed bound allows (sports.max_speed) by more
# than two fixes' error together: a consumer receiver's fix is off by up to ~25 m in a street.
JUMP_TOLERANCE_M = 50.0
# At most this many fixes in a row are judged a jump of the fix; a longer stretch is a track.
MAX_JUMP_FIXES = 10
# Jumps are a receiver's rare slips: a track cut more often than this (its times or its sport are
# not what they say, or it rode a train) is left as recorded, and not judged piece by piece.
MAX_CUTS = 50
MAX_CUT_SHARE = 0.01


def gps_jumps(lat: np.ndarray, lon: np.ndarray, t: np.ndarray, max_speed: float | None,
              paused_steps: np.ndarray | list[int] | None = None, *, lengths: np.ndarray | None = None) -> np.ndarray:
    """The fixes that are jumps of the receiver, not places the body went (a mask).

    algorithms.md section 13: "reject jumps implying > sport max speed". The track is cut at every
    step longer than `max_speed` over its time (at least 1 s, as a GPX's times are whole seconds)
    plus JUMP_TOLERANCE_M. A piece of at most MAX_JUMP_FIXES fixes is a jump when the track goes on
    from the fix before it to the fix after it within the bound: the runner was never there. At
    the start or the end, a piece is a jump when the piece beyond its cut is longer. What is left
    (a long piece on either side of a cut, a drive in a run's recording) stays as recorded. A step
    across a pause is no cut: it adds no distance. `max_speed` None: no bound, no jump. Nor is
    there one in a track cut more than MAX_CUTS times and in more than MAX_CUT_SHARE of its steps.
    """
    n = len(lat)
    out = np.zeros(n, dtype=bool)
    if max_speed is None:
        return out
    ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if len(ok) < 3:
        return out

    def too_far(a: np.ndarray, b: np.ndarray, known: np.ndarray | None = None) -> np.ndarray:
        length = distances(lat[a], lon[a], lat[b], lon[b]) if known is None else known
        far = length > max_speed * np.maximum(t[b] - t[a], 1.0) + JUMP_TOLERANCE_M
        if paused_steps is not None and len(paused_steps):
            far &= ~_crossing(paused_steps, a, b)
        return far

    cuts = np.flatnonzero(too_far(ok[:-1], ok[1:], lengths)) + 1  # each piece starts after a cut
    if not len(cuts) or len(cuts) > max(MAX_CUTS, MAX_CUT_SHARE * len(ok)):
        return out
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [len(ok)]))
    kept: int | None = None  # the last fix kept (its index in ok)
    last = len(starts) - 1
    for k in range(len(starts)):
        size = ends[k] - starts[k]
        if size <= MAX_JUMP_FIXES:
            if kept is not None and k < last:
                jump = not too_far(ok[[kept]], ok[[ends[k]]])[0]
            elif kept is None:
                jump = k < last and ends[k + 1] - starts[k + 1] > size
            else:
                jump = ends[k - 1] - starts[k - 1] > size and kept == ends[k - 1] - 1
            if jump:
                out[ok[starts[k] : ends[k]]] = True
                continue
        kept = ends[k] - 1
    return out
