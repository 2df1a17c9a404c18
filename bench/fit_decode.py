"""fit.decode against fitfast.records alone on the corpus FIT files, same run: per file (best of N
rounds each) and as whole-corpus loops (best of N).

    .venv/bin/python bench/fit_decode.py [rounds]

Prints the totals, their ratio, the engine each file went through (a refused file: refused by the
structural verdict, by fitdecode, or for its content), where fit.decode spends beyond
fitfast.records (the message walk, fitfast.parse on the split-off messages, build_activities, the
verdicts), and the files where it spends most.
"""

from __future__ import annotations

import gzip
import os
import sys
import time
import warnings
from pathlib import Path

CORPUS = Path(os.environ.get("RUNHUB_CORPUS") or Path(__file__).resolve().parents[1].parent / "shared" / "corpus")


def _files() -> list[tuple[str, bytes]]:
    out = []
    for p in sorted((CORPUS / "fit").iterdir()):
        data = p.read_bytes()
        out.append((p.name, gzip.decompress(data) if p.name.endswith(".gz") else data))
    return out


def _best(fn, data: bytes, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        try:
            fn(data)
        except BaseException as exc:  # fitfast raises a pyo3 PanicException on some broken files
            if isinstance(exc, KeyboardInterrupt):
                raise
        best = min(best, time.perf_counter() - t0)
    return best


def _loop(fn, files: list[tuple[str, bytes]]) -> float:
    t0 = time.perf_counter()
    for _, data in files:
        try:
            fn(data)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
    return time.perf_counter() - t0


def main() -> None:
    import fitfast

    from runhub.formats import FormatError, fit, fit_verdict

    warnings.simplefilter("ignore")
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    files = _files()
    rows = []
    parts = dict.fromkeys(("walk", "parse", "build", "refusals"), 0.0)
    for name, data in files:
        rec = _best(lambda d: fitfast.records(d, "record"), data, rounds)
        dec = _best(fit.decode, data, rounds)
        try:
            m = fit.read_messages(data)
            engine = m.engine
        except FormatError:
            try:
                fit._check_header(data, name)
            except FormatError:
                engine = "refused: header"
            else:
                engine = "refused: " + ("verdict" if fit_verdict.verdict(data) is not None else "fitdecode")
            parts["refusals"] += dec
        else:
            try:
                fit.build_activities(m)
            except FormatError:
                engine = "refused: content"
            parts["build"] += _best(lambda _, m=m: fit.build_activities(m), data, rounds)
            if engine == "fitfast" or engine == "refused: content":
                buf = fit._fitfast_bytes(data)[0]
                parts["walk"] += _best(fit._scan, buf, rounds)
                try:
                    others = fit._scan(buf).others or buf
                except ValueError:
                    others = buf
                parts["parse"] += _best(fitfast.parse, others, rounds)
        rows.append((name, rec, dec, engine))
    rec_total = sum(r[1] for r in rows)
    dec_total = sum(r[2] for r in rows)
    print(f"{len(files)} FIT files, best of {rounds}: fitfast.records {rec_total:.3f} s, "
          f"fit.decode {dec_total:.3f} s, ratio {dec_total / rec_total:.2f}")
    loop_rec = min(_loop(lambda d: fitfast.records(d, "record"), files) for _ in range(rounds))
    loop_dec = min(_loop(fit.decode, files) for _ in range(rounds))
    print(f"  whole-corpus loop, best of {rounds}: records {loop_rec:.3f} s, decode {loop_dec:.3f} s, "
          f"ratio {loop_dec / loop_rec:.2f}")
    read = [r for r in rows if not r[3].startswith("refused")]
    r_rec, r_dec = sum(r[1] for r in read), sum(r[2] for r in read)
    print(f"  the {len(read)} files runhub reads: records {r_rec:.3f} s, decode {r_dec:.3f} s, "
          f"ratio {r_dec / r_rec:.2f}")
    engines: dict[str, int] = {}
    for r in rows:
        engines[r[3]] = engines.get(r[3], 0) + 1
    print("  engines:", ", ".join(f"{k} {v}" for k, v in sorted(engines.items())))
    print("  beyond records (sums of per-file bests, ms):", ", ".join(f"{k} {v * 1000:.1f}" for k, v in parts.items()))
    print("  most time beyond fitfast.records:")
    for name, rec, dec, engine in sorted(rows, key=lambda r: r[1] - r[2])[:8]:
        print(f"    {name[:55]:55} records {rec * 1000:6.1f} ms  decode {dec * 1000:6.1f} ms  ({engine})")


if __name__ == "__main__":
    main()
