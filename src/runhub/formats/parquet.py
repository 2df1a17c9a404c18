"""Parquet: one activity as a table for pandas, polars or pyarrow (encode only).

The columns are those of SweatStack's activity data (its API answers in Parquet, never CSV):
`timestamp` (UTC) and `timestamp_local` (the wall clock where it was recorded), then one column
per channel under SweatStack's metric names in SI units, as the CSV export has them, then the
channels CSV leaves out (a FIT file's developer fields, under their declared names), all float64
so every value is the one stored. runhub adds `time` (clock seconds since the start, float64: the
exact instants, which the microsecond timestamps round), and `lap` (the lap number, from 1) where
the activity has laps. Each column's unit is in its field metadata ("unit"); the activity itself
(sport, start, offset, zone, title, device, pauses, laps, RR intervals, pool lengths) is in the
file's metadata under "runhub", as JSON.

Parquet is written for analysis, not read back: DESIGN lists it among the encodings only, and a
restore has FIT, TCX, GPX, CSV and Smashrun JSON (sniffing.py names a Parquet upload so).
pyarrow writes it: the maintained Parquet implementation, already what SweatStack's clients read.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson

from runhub.activity import CHANNEL_UNITS, Activity
from runhub.formats import EXPORT_OF, WRITER, FormatError, register
from runhub.formats._common import micros_since_start
from runhub.formats.csv import METRICS

FORMAT = "parquet"
MEDIA_TYPE = "application/vnd.apache.parquet"
METADATA_KEY = b"runhub"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# the columns runhub writes besides the channels (`time` is the clock channel itself): a channel
# so named (a FIT developer field may be called anything) is written as "<name>_channel", so that
# no column name appears twice
RESERVED = ("timestamp", "timestamp_local", "lap")


def columns(a: Activity) -> list[str]:
    """Every channel but the clock, in the CSV export's order: SweatStack's metrics, then the
    others (developer fields under their declared names) as the source had them."""
    names = [n for n in METRICS if n in a.channels]
    return names + [n for n in a.channels if n not in names and n != "time"]


def _unit(a: Activity, name: str) -> str | None:
    unit = CHANNEL_UNITS.get(name) or (a.extras.get("channel_units") or {}).get(name)
    return None if unit is None else str(unit)


def lap_numbers(a: Activity) -> np.ndarray | None:
    """Each sample's lap, from 1 (a lap holds the samples up to its end_index); 0 past the last
    lap's end. None when the activity has no laps, or a lap without a sample index (a manual
    entry's laps by distance)."""
    ends = [lap.end_index for lap in a.laps]
    if not ends or any(e is None for e in ends):
        return None
    number = np.searchsorted(np.asarray(ends, dtype=np.int64), np.arange(a.n_samples), side="left") + 1
    number[number > len(ends)] = 0
    return number.astype(np.int32)


def _metadata(a: Activity) -> dict[str, Any]:
    laps = [
        {"end_index": lap.end_index, "end_time": lap.end_time, "end_timer": lap.end_timer,
         "end_distance": lap.end_distance, "lap_type": lap.lap_type, "trigger": lap.trigger, "basis": lap.basis}
        for lap in a.laps
    ]
    return {
        "writer": WRITER,
        EXPORT_OF: a.id,
        "sport": a.sport,
        "start": a.start.isoformat(timespec="microseconds"),
        "utc_offset": a.utc_offset,
        "timezone": a.timezone,
        "name": a.name,
        "notes": a.notes,
        "device_name": a.device_name,
        "device_type": a.device_type,
        "pauses": [int(p) for p in a.pauses],
        "laps": laps,
        "rr_intervals": None if a.rr_intervals is None else a.rr_intervals.tolist(),  # s, at their own rate
        "pool_lengths": {name: col.tolist() for name, col in a.pool_lengths.items()},  # NaN: orjson's null
    }


def encode(a: Activity) -> bytes:
    """Activity -> Parquet, one row per sample (zstd-compressed). An activity without samples (a
    summary only) has no row to write: FIT carries it."""
    # imported here: pyarrow takes ~40 ms to import, which every process that reads a file would pay
    import pyarrow as pa
    import pyarrow.parquet as pq

    def field(name: str, kind: pa.DataType, unit: str | None) -> pa.Field:
        return pa.field(name, kind, metadata={"unit": unit} if unit else None)

    if a.n_samples == 0:
        raise FormatError("Parquet holds one row per sample, and this activity has none (a summary only): FIT "
                          "carries it", format=FORMAT)
    t = np.asarray(a.channels["time"], dtype=np.float64)
    epoch_us = (a.start - EPOCH) // timedelta(microseconds=1)
    utc = epoch_us + micros_since_start(t)
    arrays = [
        pa.array(utc, type=pa.timestamp("us", tz="UTC")),
        pa.array(utc + a.utc_offset * 1_000_000, type=pa.timestamp("us")),
        pa.array(t, type=pa.float64()),
    ]
    fields = [pa.field("timestamp", pa.timestamp("us", tz="UTC")), pa.field("timestamp_local", pa.timestamp("us")),
              field("time", pa.float64(), "s")]
    for name in columns(a):
        arrays.append(pa.array(np.asarray(a.channels[name], dtype=np.float64), type=pa.float64()))
        fields.append(field(f"{name}_channel" if name in RESERVED else name, pa.float64(), _unit(a, name)))
    lap = lap_numbers(a)
    if lap is not None:
        arrays.append(pa.array(lap, type=pa.int32()))
        fields.append(pa.field("lap", pa.int32()))
    schema = pa.schema(fields, metadata={METADATA_KEY: orjson.dumps(_metadata(a))})
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), buf, compression="zstd")
    return buf.getvalue()


register(FORMAT, None, encode, MEDIA_TYPE)
