"""Helpers every decoder shares: masking impossible sensor values, naming where an error is."""

from __future__ import annotations

from typing import Any

import numpy as np

from runhub.activity import CHANNEL_BOUNDS

# Channels whose out-of-range samples are sensor glitches (a chest strap reporting 0 bpm, an
# altimeter spike). Positions, time and distance are never masked: wrong there means a wrong file.
MASKABLE = ("altitude", "heart_rate", "cadence", "power", "form_power", "temperature", "speed",
            "gps_accuracy", "satellites", "smo2", "core_temperature", "respiration_rate")


def mask_impossible(channels: dict[str, np.ndarray], extras: dict[str, Any]) -> None:
    """Set samples no sensor can truly read (outside activity.CHANNEL_BOUNDS) to NaN, and say how many.

    Devices write 0 bpm for "no heart rate" and occasional garbage; refusing a whole recording
    for one such sample loses the run, keeping it breaks every average. Missing is the truth.
    """
    masked: dict[str, int] = {}
    for name in MASKABLE:
        arr = channels.get(name)
        if arr is None:
            continue
        lo, hi = CHANNEL_BOUNDS[name]
        with np.errstate(invalid="ignore"):
            bad = (arr < lo) | (arr > hi) | np.isinf(arr)
        count = int(bad.sum())
        if count:
            arr[bad] = np.nan
            masked[name] = count
    for name in list(channels):
        if name != "time" and np.isnan(channels[name]).all():
            del channels[name]
    if masked:
        extras["masked_samples"] = masked


def quarantine_backward_distance(
    channels: dict[str, np.ndarray], extras: dict[str, Any], tolerance: float = 0.01
) -> None:
    """A cumulative distance that runs backwards is not a distance (an app interleaving two
    counters, a reset mid-file). Keep the values under `distance_recorded` so nothing is lost,
    and leave `distance` absent so analysis derives it from positions, as for a GPX file."""
    d = channels.get("distance")
    if d is None:
        return
    known = d[~np.isnan(d)]
    if len(known) > 1 and (np.diff(known) < -tolerance).any():
        channels["distance_recorded"] = channels.pop("distance")
        extras["distance_quarantined"] = "the recorded cumulative distance goes backwards; kept as distance_recorded"
