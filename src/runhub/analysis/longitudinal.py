"""Longitudinal mean-max (algorithms.md section 7): the element-wise best over stored per-activity
curves, with the activity and the start of each best. Never reads raw streams.

Curves are aligned with `mean_max.GRID`. A requested duration that is not on the grid is answered
by the next longer grid duration (a lower bound of the true value, since a longer best window
always contains a shorter one at least as good); `duration` in the answer is the grid duration
used. Ties go to the earliest activity (rows are in start order).

Two entry points share `envelope`: `longitudinal_mean_max` over in-memory rows (tests, small
sets), and `runhub.store.activities.longitudinal_mean_max`, which reads the stored float32
matrix in one query.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from runhub.analysis.mean_max import GRID, parse_durations

Row = tuple[int, datetime, str, np.ndarray]
CurveRow = tuple[int, datetime, str, np.ndarray, np.ndarray]
_BLOCK = 64  # rows per block of the two-level column argmax


def join_curves(values: Sequence[Row], starts: Sequence[Row]) -> list[CurveRow]:
    """Pair `mm_<metric>` rows with their `mm_<metric>_start` rows by activity id."""
    st = {r[0]: r[3] for r in starts}
    return [(aid, when, sport, v, st.get(aid, np.full(len(v), np.nan))) for aid, when, sport, v in values]


def grid_index(durations: str | Sequence[int] | None) -> np.ndarray:
    """Indexes into GRID answering each requested duration (next grid duration at or above)."""
    d = parse_durations(durations)
    idx = np.searchsorted(GRID, d, "left")
    return np.unique(idx[idx < len(GRID)])


def envelope(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best of each column of a (curves x durations) matrix (NaN = no value) and the first row
    holding it (-1 where no row has a value).

    Two levels so the argmax never runs down the long axis of the matrix: the maximum of every
    block of 64 rows (one NaN-ignoring reduction over a reshaped view), the first block reaching
    the column's best, then the first row inside that block."""
    a, j = mat.shape
    if a == 0 or j == 0:
        return np.full(j, np.nan), np.full(j, -1, dtype=np.int64)
    full = (a // _BLOCK) * _BLOCK
    parts = []
    if full:
        parts.append(np.fmax.reduce(mat[:full].reshape(-1, _BLOCK, j), axis=1))
    if a > full:
        parts.append(np.fmax.reduce(mat[full:], axis=0)[None, :])
    bm = np.concatenate(parts)
    best = np.fmax.reduce(bm, axis=0)
    found = np.isfinite(best)
    first = (bm == best).argmax(axis=0) * _BLOCK
    rows = first[None, :] + np.arange(_BLOCK)[:, None]
    inside = rows < a
    sub = mat[np.minimum(rows, a - 1), np.arange(j)[None, :]]
    r = ((sub == best) & inside).argmax(axis=0)
    who = np.where(found, first + r, -1)
    return best, who


Provenance = Callable[[int, int], tuple[int, datetime, str, float]]


def answer(idx: np.ndarray, best: np.ndarray, who: np.ndarray, provenance: Provenance) -> list[dict[str, Any]]:
    """The answer rows {duration, value, activity_id, sport, start}; `provenance(row, grid index)`
    gives (activity id, activity start, sport, offset of the best window in s)."""
    out = []
    rows = zip(GRID[idx].tolist(), idx.tolist(), np.asarray(best, dtype=float).tolist(), who.tolist(), strict=True)
    for (
        dur,
        gi,
        val,
        w,
    ) in rows:
        if w < 0:
            continue
        aid, when, sport, off = provenance(w, gi)
        out.append(
            {
                "duration": dur,
                "value": val,
                "activity_id": aid,
                "sport": sport,
                "start": when + timedelta(seconds=off) if math.isfinite(off) else when,
            }
        )
    return out


def longitudinal_mean_max(
    rows: Sequence[CurveRow],
    durations: str | Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Best value per duration over all rows: {duration, value, activity_id, sport, start}
    (`start` = UTC instant the best window began). Durations nobody lasted are left out."""
    if not rows:
        return []
    idx = grid_index(durations)
    mat = np.full((len(rows), len(idx)), np.nan)
    for i, (_aid, _when, _sport, v, _s) in enumerate(rows):
        m = int(np.searchsorted(idx, len(v)))  # requested grid points this curve reaches
        mat[i, :m] = v[idx[:m]]
    best, who = envelope(mat)

    def provenance(row: int, gi: int) -> tuple[int, datetime, str, float]:
        aid, when, sport, _, s = rows[row]
        return aid, when, sport, float(s[gi]) if gi < len(s) else float("nan")

    return answer(idx, best, who, provenance)
