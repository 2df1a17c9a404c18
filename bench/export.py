"""Export speed: every activity of the corpus's FIT files written in each format runhub writes
(what `runhub export --all` does per activity, after loading it), and the FIT writer against its
reference, the Garmin SDK's Encoder used plainly, fed the same messages in the same run (the
bytes are the same: tests/formats/test_fit_encoder.py); the Parquet writer against pyarrow
writing the activity's channel arrays alone as float64 columns (zstd, as formats/parquet.py), the
least a Parquet export of the samples costs.

Machines here are shared: compare ratios from one run, not absolute times across runs.

    .venv/bin/python bench/export.py
"""

from __future__ import annotations

import gzip
import os
import time
import warnings
from pathlib import Path

from runhub import formats
from runhub.activity import Activity
from runhub.formats import FormatError, fit_encode

CORPUS = Path(os.environ.get("RUNHUB_CORPUS") or Path(__file__).resolve().parents[1].parent / "shared" / "corpus")
FORMATS = ("fit", "tcx", "gpx", "csv", "json", "parquet")


def _activities() -> list[Activity]:
    out: list[Activity] = []
    for p in sorted((CORPUS / "fit").iterdir()):
        data = p.read_bytes()
        if p.name.endswith(".gz"):
            data = gzip.decompress(data)
        try:
            out += formats.decode(data, filename=p.name)
        except FormatError:
            pass
    return out


def _encode_all(acts: list[Activity], fmt: str) -> float:
    """Seconds to write every activity in `fmt` (one a format cannot carry counts its refusal)."""
    t0 = time.perf_counter()
    for a in acts:
        try:
            formats.encode(a, fmt)
        except FormatError:
            pass
    return time.perf_counter() - t0


def main() -> None:
    from garmin_fit_sdk import Encoder

    warnings.simplefilter("ignore")
    acts = _activities()
    samples = sum(a.n_samples for a in acts)
    for fmt in FORMATS:  # warm: numba's kernels (the CRC), the SDK's profile
        _encode_all(acts[:2], fmt)
    best = {fmt: min(_encode_all(acts, fmt) for _ in range(3)) for fmt in FORMATS}
    print(f"{len(acts)} activities of the corpus's FIT files, {samples} samples; each format the fastest of 3:")
    for fmt, took in best.items():
        per_sample, per_activity = took / samples * 1e6, took / len(acts) * 1000
        print(f"  {fmt:7s} {took:6.2f} s = {per_sample:5.1f} us per sample, {per_activity:6.1f} ms per activity")
    rounds = []
    for _ in range(3):  # interleaved: runhub's FIT writer, then the plain Encoder
        ours = _encode_all(acts, "fit")
        real = fit_encode._encoder
        fit_encode._encoder = Encoder
        try:
            plain = _encode_all(acts, "fit")
        finally:
            fit_encode._encoder = real
        rounds.append((ours, plain))
    ours, plain = min(r[0] for r in rounds), min(r[1] for r in rounds)
    print(f"FIT writer: {ours:.2f} s against the Garmin SDK's Encoder used plainly {plain:.2f} s (same bytes, 3 "
          f"interleaved rounds, fastest of each): {plain / ours:.1f}x faster")
    rounds = [(_encode_all(acts, "parquet"), _bare_parquet(acts)) for _ in range(3)]
    ours, bare = min(r[0] for r in rounds), min(r[1] for r in rounds)
    print(f"Parquet writer: {ours:.3f} s against pyarrow writing the channel arrays alone {bare:.3f} s (3 interleaved "
          f"rounds, fastest of each): ratio {ours / bare:.2f}")


def _bare_parquet(acts: list[Activity]) -> float:
    """Seconds for pyarrow to write each activity's channels as float64 columns, nothing else."""
    import io

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    for a in acts:
        if a.n_samples:
            table = pa.table({k: pa.array(np.asarray(v, dtype=np.float64)) for k, v in a.channels.items()})
            pq.write_table(table, io.BytesIO(), compression="zstd")
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
