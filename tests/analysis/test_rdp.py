"""Track simplification (extended._rdp, compiled) against Ramer-Douglas-Peucker written as the
textbook recursion: split a segment at its farthest point (the first on ties) while that point lies
more than eps off the chord."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from runhub.analysis.extended import _rdp


def textbook(x: list[float], y: list[float], eps: float) -> list[int]:
    def off(p: int, i: int, j: int) -> float:
        dx, dy = x[j] - x[i], y[j] - y[i]
        chord = math.hypot(dx, dy)
        px, py = x[p] - x[i], y[p] - y[i]
        return math.hypot(px, py) if chord == 0 else abs(dx * py - dy * px) / chord

    def rec(i: int, j: int) -> list[int]:
        if j - i < 2:
            return []
        far = max(range(i + 1, j), key=lambda p: (off(p, i, j), -p))
        if off(far, i, j) <= eps:
            return []
        return rec(i, far) + [far] + rec(far, j)

    n = len(x)
    return list(range(n)) if n < 3 else [0, *rec(0, n - 1), n - 1]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 400), st.integers(0, 2**32 - 1), st.sampled_from([0.5, 2.0, 10.0, 40.0]), st.booleans())
def test_rdp_matches_the_recursion(n, seed, eps, loop):
    rng = np.random.default_rng(seed)
    x = np.round(np.cumsum(rng.normal(0, 6, n)), 1)  # rounded: equal distances (ties) do occur
    y = np.round(np.cumsum(rng.normal(0, 6, n)), 1)
    if loop:  # a track that closes on itself: the chord of the first segment has no length
        x[-1], y[-1] = x[0], y[0]
    assert _rdp(x, y, eps).tolist() == textbook(x.tolist(), y.tolist(), eps)


def test_rdp_keeps_a_corner_and_drops_a_straight_line():
    x = np.array([0.0, 10.0, 20.0, 20.0, 20.0])
    y = np.array([0.0, 0.0, 0.0, 10.0, 20.0])
    assert _rdp(x, y, 1.0).tolist() == [0, 2, 4]
