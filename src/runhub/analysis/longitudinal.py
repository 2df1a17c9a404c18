"""Longitudinal mean-max (algorithms.md section 7): the element-wise best over stored per-activity
curves, with the activity and the start of each best. Never reads raw streams.

Rows are what `runhub.store.products.load_products` returns for `mm_<metric>` joined with
`mm_<metric>_start` (see `join_curves`). Curves are aligned with `mean_max.GRID`; a requested
duration that is not on the grid is answered by the next longer grid duration (a lower bound
of the true value, since a longer best window always contains a shorter one at least as
good); `duration` in the answer is the grid duration used.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from runhub.analysis.mean_max import GRID, parse_durations

Row = tuple[int, datetime, str, np.ndarray]
CurveRow = tuple[int, datetime, str, np.ndarray, np.ndarray]


def join_curves(values: Sequence[Row], starts: Sequence[Row]) -> list[CurveRow]:
    """Pair `mm_<metric>` rows with their `mm_<metric>_start` rows by activity id."""
    st = {r[0]: r[3] for r in starts}
    return [(aid, when, sport, v, st.get(aid, np.full(len(v), np.nan))) for aid, when, sport, v in values]


def grid_index(durations: str | Sequence[int] | None) -> np.ndarray:
    """Indexes into GRID answering each requested duration (next grid duration at or above)."""
    d = parse_durations(durations)
    idx = np.searchsorted(GRID, d, "left")
    return np.unique(idx[idx < len(GRID)])


def longitudinal_mean_max(
    rows: Sequence[CurveRow],
    durations: str | Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Best value per duration over all rows: {duration, value, activity_id, sport, start}
    (`start` = UTC instant the best window began). Durations nobody lasted are left out."""
    if not rows:
        return []
    idx = grid_index(durations)
    mat = np.full((len(rows), len(idx)), -np.inf)
    smat = np.full((len(rows), len(idx)), np.nan)
    for i, (_aid, _when, _sport, v, s) in enumerate(rows):
        m = int(np.searchsorted(idx, len(v)))  # requested grid points this curve reaches
        mat[i, :m] = v[idx[:m]]
        smat[i, :m] = s[idx[:m]]
    mat[np.isnan(mat)] = -np.inf
    sub = mat
    best = sub.argmax(axis=0)
    out = []
    for j, gi in enumerate(idx):
        b = int(best[j])
        val = sub[b, j]
        if not np.isfinite(val):
            continue
        aid, when, sport, _, _ = rows[b]
        off = smat[b, j]
        out.append(
            {
                "duration": int(GRID[gi]),
                "value": float(val),
                "activity_id": aid,
                "sport": sport,
                "start": when + timedelta(seconds=float(off)) if np.isfinite(off) else when,
            }
        )
    return out
