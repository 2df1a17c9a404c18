"""Import the whole corpus through ingest.py and print:

- files/s and samples/s of the full ingest (decode, validate, analyse, store);
- the split by stage, timed on the public functions (formats.decode, ingest.prepare, and the
  rest of ingest_bytes: validation, dedupe, store);
- the ratio of runhub's full FIT ingest time to the decode-only time of the fastest FIT decoder
  (fitfast.records) on the same FIT files in the same run (target < 2), with fitdecode and the
  Garmin SDK for scale;
- the GPX figure: ms of ingest per hour of activity for the 2.3 h Strava GPX, against
  FitTrackee's ~0.45 s per upload of a 1-hour GPX (target: 10x faster, <= 45 ms per hour).

Machines here are shared: compare ratios from one run, not absolute times across runs.

    .venv/bin/python bench/ingest_files.py
"""

from __future__ import annotations

import gzip
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from runhub import formats
from runhub.auth.passwords import hash_password
from runhub.ingest import ingest_bytes, prepare
from runhub.store import Database, users

CORPUS = Path(os.environ.get("RUNHUB_CORPUS") or Path(__file__).resolve().parents[1].parent / "shared" / "corpus")
FITTRACKEE_GPX_S = 0.45  # FitTrackee: ~0.45 s per upload of a 1-hour GPX
GPX = "sweatpy_4078723797_strava.gpx"


def _fit_files() -> list[bytes]:
    out = []
    for p in sorted((CORPUS / "fit").iterdir()):
        data = p.read_bytes()
        out.append(gzip.decompress(data) if p.name.endswith(".gz") else data)
    return out


def _time(fn, items) -> float:
    t0 = time.perf_counter()
    for x in items:
        try:
            fn(x)
        except BaseException as exc:  # fitfast raises a pyo3 PanicException on some broken files
            if isinstance(exc, KeyboardInterrupt):
                raise
    return time.perf_counter() - t0


def _stages(data: bytes, name: str) -> tuple[float, float, int]:
    """(decode s, analyse s, samples) for one non-archive file; zeros when it does not decode."""
    try:
        if formats.sniff(data) in ("gzip", "zip"):
            return 0.0, 0.0, 0
        t0 = time.perf_counter()
        acts = formats.decode(data, filename=name, sport="running") if formats.sniff(data) == "csv" \
            else formats.decode(data, filename=name)
        t1 = time.perf_counter()
        for a in acts:
            a.validate()
            prepare(a)
        return t1 - t0, time.perf_counter() - t1, sum(a.n_samples for a in acts)
    except Exception:
        return 0.0, 0.0, 0


def main() -> None:
    import fitdecode
    import fitfast
    from garmin_fit_sdk import Decoder, Stream

    warnings.simplefilter("ignore")
    files = [p for k in ("fit", "tcx", "gpx", "csv") for p in sorted((CORPUS / k).iterdir())]
    fits = _fit_files()

    def fd(b):
        with fitdecode.FitReader(b, check_crc=fitdecode.CrcCheck.DISABLED) as r:
            for _ in r:
                pass

    def sdk(b):
        Decoder(Stream.from_byte_array(bytearray(b))).read()

    fast_records = _time(fitfast.records, fits)
    print(f"FIT decode only, {len(fits)} files: fitfast.records {fast_records:.3f} s, "
          f"fitfast.parse {_time(fitfast.parse, fits):.3f} s, fitdecode {_time(fd, fits):.3f} s, "
          f"garmin-fit-sdk {_time(sdk, fits):.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(os.environ.get("RUNHUB_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3")
        db.upgrade()

        def new_user() -> int:
            with db.begin() as conn:
                return users.create_user(conn, f"bench-{time.time_ns()}", hash_password("x"))

        uid = new_user()
        fit_time = 0.0
        total = 0.0
        status: dict[str, int] = {}
        for p in files:
            data = p.read_bytes()
            t0 = time.perf_counter()
            results = ingest_bytes(db, uid, data, filename=p.name, sport="running")
            dt = time.perf_counter() - t0
            total += dt
            if p.parent.name == "fit":
                fit_time += dt
            for r in results:
                status[r.status] = status.get(r.status, 0) + 1
        # stage split: decode and analyse again on their own (untimed above); store = the rest
        dec = ana = 0.0
        samples = 0
        for p in files:
            d, a, n = _stages(p.read_bytes(), p.name)
            dec, ana, samples = dec + d, ana + a, samples + n
        print(f"ingest: {len(files)} files in {total:.2f} s -> {len(files) / total:.1f} files/s; results {status}")
        print(f"samples: {samples} -> {samples / total:.0f} samples/s")
        print(f"stages (whole corpus): decode {dec:.3f} s ({dec / total:.0%}), analyse {ana:.3f} s "
              f"({ana / total:.0%}), validate + dedupe + store {total - dec - ana:.3f} s "
              f"({(total - dec - ana) / total:.0%})")
        print(f"FIT files: full ingest {fit_time:.3f} s / fitfast.records decode {fast_records:.3f} s "
              f"= ratio {fit_time / fast_records:.1f} (target < 2)")

        gpx = (CORPUS / "gpx" / GPX).read_bytes()
        (a,) = formats.decode(gpx, filename=GPX)
        hours = float(a.channels["time"][-1]) / 3600
        runs = []
        for _ in range(5):  # each into a fresh account, so none is a duplicate
            u = new_user()
            t0 = time.perf_counter()
            (r,) = ingest_bytes(db, u, gpx, filename=GPX)
            runs.append(time.perf_counter() - t0)
            assert r.status == "created", r
        d_runs, a_runs = zip(*(_stages(gpx, GPX)[:2] for _ in range(5)), strict=True)
        ingest_s, dec_s, ana_s = statistics.median(runs), statistics.median(d_runs), statistics.median(a_runs)
        per_hour = ingest_s / hours
        print(f"GPX {GPX} ({len(gpx) / 1e6:.1f} MB, {a.n_samples} points, {hours:.2f} h): ingest median "
              f"{ingest_s * 1000:.0f} ms = {per_hour * 1000:.0f} ms per hour of activity "
              f"(decode {dec_s / hours * 1000:.0f}, analyse {ana_s / hours * 1000:.0f}, "
              f"validate + store {(ingest_s - dec_s - ana_s) / hours * 1000:.0f} ms per hour); "
              f"FitTrackee ~{FITTRACKEE_GPX_S * 1000:.0f} ms per 1 h GPX -> {FITTRACKEE_GPX_S / per_hour:.1f}x faster "
              f"(target 10x, <= {FITTRACKEE_GPX_S * 100:.0f} ms per hour)")
        db.dispose()


if __name__ == "__main__":
    main()
