"""Activity rows <-> the canonical Activity. Every function takes the caller's connection, so
ingest decides where the transaction begins and ends."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson
from sqlalchemy import (
    Connection,
    LargeBinary,
    Row,
    String,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    union_all,
    update,
)

from runhub.activity import EDITED, REANALYSED, Activity, Lap, Summary
from runhub.analysis.longitudinal import answer, envelope, grid_index
from runhub.analysis.mean_max import CURVE_MIN_LEN, GRID
from runhub.formats.export_lists import AsListed
from runhub.store import blob
from runhub.store.filters import in_window
from runhub.store.statements import InsertRows, Prepared
from runhub.store.tables import (
    UTCDateTime,
    activities,
    activity_curves,
    activity_originals,
    activity_products,
    activity_streams,
    superseded_files,
    users,
)

# the blob's series (beside the channels: list queries never load them): Activity.rr_intervals,
# and each column of Activity.pool_lengths under LENGTH_SERIES + its name
RR_SERIES = "rr_intervals"
LENGTH_SERIES = "length_"
# Activity attributes kept in the `meta` JSON column, besides laps, pauses and device_summary.
META_FIELDS = (
    "name",
    "notes",
    "how_felt",
    "terrain",
    "weather_type",
    "humidity",
    "wind_speed",
    "body_weight",
    "calories",
    "device_type",
    "device_name",
    "app_version",
    "songs",
    "heart_rate_recovery",
    "tags",
    "private",
    "commute",
    "trainer",
    "manual",
    "is_race",
    "app_metadata",
    "extras",
)


def jsonable(value: Any) -> Any:
    """Plain JSON for a database JSON column: NaN/inf become null, numpy scalars Python numbers.

    Most values already are plain JSON (numbers, strings, lists, dicts): the json module checks
    that at C speed and the value is returned as it is; only otherwise is it walked in Python."""
    try:
        json.dumps(value, allow_nan=False)
    except (ValueError, TypeError):
        return _jsonable(value)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(_fields(value))
    return value


def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass's fields, shallow (dataclasses.asdict deep-copies every nested value)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _meta_fields(a: Activity) -> dict[str, Any]:
    meta = {name: getattr(a, name) for name in META_FIELDS}
    meta["pauses"] = [int(p) for p in a.pauses]
    meta["laps"] = [_fields(lap) for lap in a.laps]
    meta["device_summary"] = a.device_summary
    return meta


def _row_values(a: Activity, json_value: Callable[[Any], Any] = jsonable) -> dict[str, Any]:
    """The activity's own columns; `json_value` makes the JSON columns' values (plain JSON for
    `conn.execute`, JSON text for the prepared statements: `_json_text`)."""
    s = a.summary
    return {
        "start_utc": a.start,
        "utc_offset": a.utc_offset,
        "timezone": a.timezone,
        "sport": a.sport,
        "name": a.name,
        "distance": s.distance,
        "elapsed_time": s.elapsed_time,
        "timer_time": s.timer_time,
        "moving_time": s.moving_time,
        "n_samples": a.n_samples,
        "has_gps": a.has_gps,
        "summary": json_value(s.to_dict()),
        "meta": json_value(_meta_fields(a)),
        "multisport_group": (a.extras or {}).get("multisport_group"),
    }


# Columns an ingest writes (every activities column but id and deleted_at).
_ROW_KEYS = (
    "start_utc", "utc_offset", "timezone", "sport", "name", "distance", "elapsed_time", "timer_time",
    "moving_time", "n_samples", "has_gps", "summary", "meta", "multisport_group",
)  # fmt: skip
_INSERT_ACTIVITY = Prepared(
    insert(activities).returning(activities.c.id),
    _ROW_KEYS + ("owner_id", "client_id", "client_key", "external_id", "content_hash", "possible_duplicate_of",
                 "created_at", "updated_at"),
)  # fmt: skip
_UPDATE_ACTIVITY = Prepared(
    update(activities).where(activities.c.id == bindparam("b_id")),
    _ROW_KEYS + ("external_id", "content_hash", "updated_at"),
)
# the bytes an activity is about to be overwritten from, kept (holding_bytes): one statement, on
# overwrites only
_SUPERSEDE = Prepared(
    insert(superseded_files).from_select(
        ["activity_id", "content_hash", "owner_id"],
        select(activities.c.id, activities.c.content_hash, activities.c.owner_id).where(
            activities.c.id == bindparam("b_id"),
            activities.c.content_hash.is_not(None),
            activities.c.content_hash != func.coalesce(bindparam("b_new", type_=String), literal_column("''")),
            ~exists().where(superseded_files.c.activity_id == activities.c.id,
                            superseded_files.c.content_hash == activities.c.content_hash),
        ),
    )
)
_INSERT_STREAM = Prepared(insert(activity_streams))
_INSERT_ORIGINAL = Prepared(insert(activity_originals))
_INSERT_PRODUCTS = InsertRows(activity_products, [c.name for c in activity_products.columns])
_INSERT_CURVES = InsertRows(activity_curves, [c.name for c in activity_curves.columns])
_TOUCH_USER = Prepared(
    update(users).where(users.c.id == bindparam("b_owner")).values(data_updated_at=bindparam("b_now"))
)
_CLEAR_ANALYSIS, _CLEAR_ORIGINAL = (
    [Prepared(delete(t).where(t.c.activity_id == bindparam("b_id"))) for t in tables]
    for tables in ((activity_streams, activity_products, activity_curves), (activity_originals,))
)
_CLEAR = _CLEAR_ANALYSIS + _CLEAR_ORIGINAL
_SEEN = (activities.c.id == bindparam("b_id"), activities.c.updated_at == bindparam("b_seen", type_=UTCDateTime))
_REWRITE_ACTIVITY = Prepared(update(activities).where(*_SEEN), _ROW_KEYS + ("updated_at",))
# the same guard for a run whose row stays: it locks the row (PostgreSQL) and says it is as read
_UNCHANGED_SINCE = Prepared(update(activities).where(*_SEEN).values(id=activities.c.id))


def insert_activity(
    conn: Connection,
    a: Activity,
    *,
    owner_id: int,
    client_id: str | None,
    content_hash: str | None,
    possible_duplicate_of: int | None = None,
    now: datetime | None = None,
    client_key: str | None = None,
) -> int:
    """`client_key`: whose runs this one is for dedupe (ingest.dedupe_source); the client's id when None."""
    now = now or datetime.now(UTC)
    values = _row_values(a, _json_text)
    values["owner_id"] = owner_id
    values["client_id"] = client_id
    values["client_key"] = client_key if client_key is not None else client_id or ""
    values["external_id"] = a.external_id
    values["content_hash"] = content_hash
    values["possible_duplicate_of"] = possible_duplicate_of
    values["created_at"] = values["updated_at"] = now
    activity_id = int(_INSERT_ACTIVITY.execute(conn, values).scalar_one())
    _write_streams(conn, activity_id, a)
    touch_user(conn, owner_id, now)
    return activity_id


def replace_activity(
    conn: Connection,
    activity_id: int,
    a: Activity,
    *,
    content_hash: str | None,
    now: datetime | None = None,
    owner_id: int | None = None,
) -> None:
    """Overwrite a stored activity in place (same id): the seed's update by the same app.
    `owner_id`, when the caller knows it, saves looking it up."""
    now = now or datetime.now(UTC)
    values = _row_values(a, _json_text)
    values["external_id"] = a.external_id
    values["content_hash"] = content_hash
    values["updated_at"] = now
    values["b_id"] = activity_id
    _SUPERSEDE.execute(conn, {"b_id": activity_id, "b_new": content_hash})
    _UPDATE_ACTIVITY.execute(conn, values)
    for stmt in _CLEAR:
        stmt.execute(conn, {"b_id": activity_id})
    _write_streams(conn, activity_id, a)
    if owner_id is None:
        owner_id = conn.execute(select(activities.c.owner_id).where(activities.c.id == activity_id)).scalar_one()
    touch_user(conn, owner_id, now)


def update_fields(conn: Connection, activity_id: int, a: Activity, now: datetime | None = None) -> None:
    """Write the row of an edited activity (summary and metadata), keeping streams and products."""
    now = now or datetime.now(UTC)
    values = _row_values(a) | {"updated_at": now}
    values.pop("n_samples")
    values.pop("has_gps")
    conn.execute(update(activities).where(activities.c.id == activity_id).values(**values))
    owner = conn.execute(select(activities.c.owner_id).where(activities.c.id == activity_id)).scalar_one()
    _refresh_products(conn, activity_id, a, owner)
    touch_user(conn, owner, now)


def _refresh_products(conn: Connection, activity_id: int, a: Activity, owner_id: int) -> None:
    """After an edit: the products' denormalised start and sport (longitudinal queries filter on
    them) and the `facts` product (local start, distance, times) that stats, goals and notables
    read. Curves and other products depend on the streams only and stay."""
    from runhub.analysis import facts

    for table in (activity_products, activity_curves):
        conn.execute(update(table).where(table.c.activity_id == activity_id).values(start_utc=a.start, sport=a.sport))
    p = activity_products.c
    data = _json_bytes(facts(a, a.summary))
    done = conn.execute(
        update(activity_products)
        .where(p.activity_id == activity_id, p.kind == "facts")
        .values(encoding="json", data=data)
    ).rowcount
    if not done:
        conn.execute(
            insert(activity_products).values(
                activity_id=activity_id,
                kind="facts",
                owner_id=owner_id,
                start_utc=a.start,
                sport=a.sport,
                encoding="json",
                data=data,
            )
        )


def stored_form(a: Activity) -> dict[str, Any]:
    """The activity as its row and streams would store it (plain JSON values; the channel blob's
    bytes): two activities with equal forms are stored alike."""
    return _row_values(a) | {"streams": _streams(a)}


def rewrite_analysis(conn: Connection, activity_id: int, a: Activity, products: dict[str, Any], owner_id: int,
                     seen: datetime, now: datetime | None) -> bool:
    """Write a reanalysed run (runhub.reanalyse) over its streams and products and, when it
    changed (`now`: its updated_at), its row. Its id, file, keys and dedupe columns stay. Nothing
    is written, and False returned, when the run changed since it was read (its updated_at is no
    longer `seen`: an edit or an upload meanwhile, which the reanalysis knew nothing of)."""
    if now is not None:
        values = _row_values(a, _json_text) | {"updated_at": now, "b_id": activity_id, "b_seen": seen}
        if not _REWRITE_ACTIVITY.execute(conn, values).rowcount:
            return False
        touch_user(conn, owner_id, now)
    elif not _UNCHANGED_SINCE.execute(conn, {"b_id": activity_id, "b_seen": seen}).rowcount:
        return False
    for stmt in _CLEAR_ANALYSIS:
        stmt.execute(conn, {"b_id": activity_id})
    _write_streams(conn, activity_id, a)
    save_products(conn, activity_id, a, owner_id, products)
    return True


def _streams(a: Activity) -> bytes | None:
    """The channel blob of a run with samples: its channels and its series (RR intervals, lengths)."""
    if not a.channels:
        return None
    series = {LENGTH_SERIES + name: col for name, col in a.pool_lengths.items()}
    if a.rr_intervals is not None:
        series[RR_SERIES] = a.rr_intervals
    return blob.encode(a.channels, series)


def _write_streams(conn: Connection, activity_id: int, a: Activity) -> None:
    data = _streams(a)
    if data is not None:
        _INSERT_STREAM.execute(conn, {"activity_id": activity_id, "data": data})


def save_original(conn: Connection, activity_id: int, data: bytes, fmt: str, filename: str | None) -> None:
    if filename is not None:  # the client's label, any text: PostgreSQL's text holds no NUL, UTF-8 no lone surrogate
        filename = filename.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    row = {"activity_id": activity_id, "filename": filename, "format": fmt, "size": len(data)}
    row["data"] = blob.compress(data)
    _INSERT_ORIGINAL.execute(conn, row)


def load_original(conn: Connection, activity_id: int) -> tuple[bytes, str, str | None] | None:
    row = conn.execute(
        select(activity_originals.c.data, activity_originals.c.format, activity_originals.c.filename).where(
            activity_originals.c.activity_id == activity_id
        )
    ).first()
    return None if row is None else (blob.decompress(row.data), row.format, row.filename)


def save_products(conn: Connection, activity_id: int, a: Activity, owner_id: int, products: dict[str, Any]) -> None:
    """Store an activity's analysis products: mean-max curves (`mm_<metric>` with
    `mm_<metric>_start`) in activity_curves, every other array as raw float64 and the rest as
    JSON in activity_products."""
    rows, curves = [], []
    for kind, value in products.items():
        if kind.startswith("mm_"):
            if not kind.endswith("_start"):
                curves.append(_curve_row(activity_id, a, owner_id, kind[3:], value, products.get(kind + "_start")))
            continue
        if isinstance(value, np.ndarray):
            encoding, data = "f8", np.ascontiguousarray(value, dtype="<f8").tobytes()
        else:
            encoding, data = "json", _json_bytes(value)
        rows.append({"kind": kind, "encoding": encoding, "data": data})
    common = {"activity_id": activity_id, "owner_id": owner_id, "start_utc": a.start, "sport": a.sport}
    if rows:
        _INSERT_PRODUCTS.execute(conn, rows, common)
    if curves:
        _INSERT_CURVES.execute(conn, curves, common)


# The write path dumps with orjson: ~6x the json module on an import's products (10.7 -> 1.8 ms a
# pass over the corpus FIT files, bench/ingest_files.py). Its options keep json's meaning (int keys
# become strings; NaN and inf become null, as `_jsonable` makes them); what it would write its own
# way (datetimes, dataclasses) or refuses (numpy values, ints past 64 bits) takes the old path:
# `_jsonable`, then the json module, whose encoder is built once (json.dumps with arguments
# builds one per call).
_ORJSON = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def _json_bytes(value: Any) -> bytes:
    """Compact JSON; NaN/inf become null (the fast path of `jsonable`: dump once when plain)."""
    try:
        return orjson.dumps(value, option=_ORJSON)
    except orjson.JSONEncodeError:
        return _ENCODER.encode(_jsonable(value)).encode()


def _json_text(value: Any) -> str:
    return _json_bytes(value).decode()


def _curve_row(
    activity_id: int, a: Activity, owner_id: int, metric: str, vals: np.ndarray, starts: np.ndarray | None
) -> dict[str, Any]:
    """One activity_curves row: float32 values NaN-padded to CURVE_MIN_LEN, float32 starts.

    float32 keeps 7 significant digits (0.0001 W at 1,000 W), far below what any sensor
    resolves, and halves what a longitudinal query reads; integer starts are exact."""
    v = np.asarray(vals, dtype=float)
    padded = np.full(max(len(v), CURVE_MIN_LEN), np.nan, dtype="<f4")
    padded[: len(v)] = v
    st = np.full(len(v), np.nan) if starts is None else np.asarray(starts, dtype=float)
    return {
        "activity_id": activity_id,
        "metric": metric,
        "owner_id": owner_id,
        "start_utc": a.start,
        "sport": a.sport,
        "n": len(v),
        "vals": padded.tobytes(),
        "starts": st.astype("<f4").tobytes(),
    }


def shortest(x: np.ndarray) -> list[float]:
    """float32 values as the shortest decimals that round-trip (250.123, not 250.12300109...)."""
    return [float(str(v)) if np.isfinite(v) else float("nan") for v in np.asarray(x, dtype=np.float32)]


def load_curve(conn: Connection, activity_id: int, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(grid durations, best averages, start offsets in s) of one stored curve, or None."""
    c = activity_curves.c
    row = conn.execute(select(c.n, c.vals, c.starts).where(c.activity_id == activity_id, c.metric == metric)).first()
    if row is None:
        return None
    n = row.n
    vals = np.array(shortest(np.frombuffer(row.vals, dtype="<f4", count=n)))
    return GRID[:n].copy(), vals, np.frombuffer(row.starts, dtype="<f4", count=n).astype(float)


def activity_mean_max(
    conn: Connection,
    activity_id: int,
    metric: str,
    durations: str | Sequence[int] | None = None,
    *,
    owner_id: int | None = None,
) -> list[dict[str, Any]] | None:
    """One activity's mean-max answer {duration, value, start (UTC)} (docs/metrics.md 2): grid
    durations from the stored curve; when any requested duration is off the grid, every one is
    computed exactly from the streams. Durations longer than the activity are left out; None
    when the activity (or its curve) does not exist, is deleted, or is not `owner_id`'s."""
    from runhub.analysis.geo import distance_stream
    from runhub.analysis.mean_max import mean_max, parse_durations
    from runhub.analysis.timebase import time_base

    row = get_row(conn, activity_id, owner_id)  # None when deleted or someone else's
    if row is None:
        return None
    d = parse_durations(durations)
    if np.isin(d, GRID).all():
        stored = load_curve(conn, activity_id, metric)
        if stored is None:
            return None
        grid, vals, starts = stored
        pos = np.searchsorted(grid, d)
        keep = pos < len(grid)
        t0 = row.start_utc
        return [
            {"duration": int(dur), "value": float(vals[i]), "start": t0 + timedelta(seconds=float(starts[i]))}
            for dur, i in zip(d[keep].tolist(), pos[keep].tolist(), strict=True)
            if np.isfinite(vals[i])
        ]
    a = load_activity(conn, activity_id, owner_id)
    if a is None or not a.has_streams or a.n_samples < 2:
        return None
    tb = time_base(a)
    x = distance_stream(a, tb) if metric == "speed" else a.channels.get(metric)
    if x is None:
        return None
    _, vals, starts = mean_max(tb, metric, x, d)
    return [
        {"duration": int(dur), "value": float(v), "start": row.start_utc + timedelta(seconds=float(s))}
        for dur, v, s in zip(d.tolist(), vals.tolist(), starts.tolist(), strict=True)
        if np.isfinite(v)
    ]


@contextmanager
def _binary_results(conn: Connection) -> Iterator[None]:
    """On PostgreSQL with psycopg 3, fetch the next statement's results in the binary protocol:
    bytea in the text protocol is hex, and decoding 2,000 curves of it took 80 ms of a 100 ms
    query (26 ms binary). Only the cursor's result format changes; parameters and result types
    are the same. Elsewhere a no-op."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        yield
        return
    import psycopg

    raw = conn.connection.driver_connection
    old = raw.cursor_factory

    class BinaryCursor(old):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.format = psycopg.pq.Format.BINARY

    raw.cursor_factory = BinaryCursor
    try:
        yield
    finally:
        raw.cursor_factory = old


MAX_SLICES = 32  # most column slices one longitudinal query selects before reading whole prefixes


def _float32_matrix(blobs: list[bytes], width: int) -> np.ndarray:
    """Stack float32 blobs of `width` values into a matrix; a shorter blob (a curve that ends
    before a requested grid point beyond the 6 h padding) is NaN-padded."""
    size = 4 * width
    if all(len(b) == size for b in blobs):
        return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), width)
    mat = np.full((len(blobs), width), np.nan, dtype="<f4")
    for i, b in enumerate(blobs):
        v = np.frombuffer(bytes(b), dtype="<f4")
        mat[i, : len(v)] = v
    return mat


def longitudinal_mean_max(
    conn: Connection,
    owner_id: int,
    metric: str,
    durations: str | Sequence[int] | None = None,
    *,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    sports: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Best `metric` average per duration over the owner's live activities in [start_from,
    start_to) of the given sports: {duration, value, activity_id, sport, start} (analysis.
    longitudinal). One indexed query reads the first columns of every curve as one float32
    matrix; a second one reads the start offsets of the winning activities only."""
    idx = grid_index(durations)
    if not len(idx):
        return []
    width = int(idx[-1]) + 1
    # contiguous runs of requested grid points. On PostgreSQL a sparse request (the 19
    # defaults) reads only its own 4-byte slices (the transfer, not the row visit, is the cost);
    # SQLite re-reads the blob for every substr, so there, and for dense requests ("all"), one
    # prefix of every curve is read
    cut = np.flatnonzero(np.diff(idx) != 1) + 1
    runs = [(int(r[0]), len(r)) for r in np.split(idx, cut)]
    if conn.dialect.name != "postgresql" or len(runs) > MAX_SLICES or 4 * len(idx) >= width:
        runs = [(0, width)]
    c = activity_curves.c
    slices = [func.substr(c.vals, 4 * r0 + 1, 4 * k, type_=LargeBinary) for r0, k in runs]
    q = (
        select(c.activity_id, *slices)
        .join(activities, activities.c.id == c.activity_id)
        .where(c.owner_id == owner_id, c.metric == metric, activities.c.deleted_at.is_(None))
    )
    q = in_window(q, c.start_utc, c.sport, start_from=start_from, start_to=start_to, sports=sports)
    with _binary_results(conn):
        rows = conn.execute(q.order_by(c.start_utc, c.activity_id)).all()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    parts = [_float32_matrix([r[1 + j] for r in rows], k) for j, (_r0, k) in enumerate(runs)]
    mat = parts[0] if len(parts) == 1 else np.hstack(parts)
    # a whole prefix was read: keep the requested columns (slices hold exactly those already)
    sub = mat[:, idx] if runs == [(0, width)] and len(idx) != width else mat
    best, who = envelope(sub)
    winners = sorted({ids[w] for w in who.tolist() if w >= 0})
    meta = {
        r.activity_id: (r.start_utc, r.sport, np.frombuffer(r.starts, dtype="<f4").tolist())
        for r in conn.execute(
            select(c.activity_id, c.start_utc, c.sport, c.starts).where(c.metric == metric, c.activity_id.in_(winners))
        )
    }
    clean = np.array(shortest(best))

    def provenance(row: int, gi: int) -> tuple[int, datetime, str, float]:
        aid = ids[row]
        when, sport, st = meta[aid]
        return aid, when, sport, st[gi] if gi < len(st) else float("nan")

    return answer(idx, clean, who, provenance)


def row_to_activity(row: Row[Any], channels: dict[str, np.ndarray] | None = None,
                    series: dict[str, np.ndarray] | None = None) -> Activity:
    """The run of a row, with the channels and series of its blob (`load_streams`) where given."""
    meta = dict(row.meta)
    laps = [Lap(**lap) for lap in meta.pop("laps", [])]
    pauses = meta.pop("pauses", [])
    device_summary = meta.pop("device_summary", None)
    kwargs = {k: v for k, v in meta.items() if k in META_FIELDS and v is not None}
    a = Activity(
        start=row.start_utc,
        sport=row.sport,
        utc_offset=row.utc_offset,
        timezone=row.timezone,
        channels=channels or {},
        pauses=pauses,
        laps=laps,
        summary=Summary.from_dict(row.summary),
        device_summary=device_summary,
        id=row.id,
        owner_id=row.owner_id,
        external_id=row.external_id,
        client_id=row.client_id,
        rr_intervals=(series or {}).get(RR_SERIES),
        pool_lengths={k[len(LENGTH_SERIES):]: v for k, v in (series or {}).items() if k.startswith(LENGTH_SERIES)},
        **kwargs,
    )
    return a


def get_row(
    conn: Connection, activity_id: int, owner_id: int | None = None, *, include_deleted: bool = False
) -> Row[Any] | None:
    q = select(activities).where(activities.c.id == activity_id)
    if owner_id is not None:
        q = q.where(activities.c.owner_id == owner_id)
    if not include_deleted:
        q = q.where(activities.c.deleted_at.is_(None))
    return conn.execute(q).first()


def load_streams(conn: Connection, activity_id: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(channels, series) of a run (`row_to_activity` takes both)."""
    data = conn.execute(
        select(activity_streams.c.data).where(activity_streams.c.activity_id == activity_id)
    ).scalar_one_or_none()
    return ({}, {}) if data is None else blob.unpack(data)


def load_channels(conn: Connection, activity_id: int) -> dict[str, np.ndarray]:
    return load_streams(conn, activity_id)[0]


def load_activity(
    conn: Connection, activity_id: int, owner_id: int | None = None, *, streams: bool = True
) -> Activity | None:
    """The activity, or None when it does not exist, is deleted, or belongs to someone else."""
    row = get_row(conn, activity_id, owner_id)
    if row is None:
        return None
    if not (streams and row.n_samples):
        return row_to_activity(row)
    return row_to_activity(row, *load_streams(conn, activity_id))


@dataclasses.dataclass
class Existing:
    """What ingest's dedupe needs to know about the owner's stored activities, from one query:
    the row with the same content key and the row with the same external id (same owner and
    client; deleted rows included), and the owner's live rows starting within the window,
    oldest start first."""

    by_content: Row[Any] | None
    by_external_id: Row[Any] | None
    candidates: list[Row[Any]]


def _existing_stmt() -> Any:
    c = activities.c
    cols = (c.id, c.client_key, c.start_utc, c.timer_time, c.distance)
    owner, key = c.owner_id == bindparam("b_owner"), c.client_key == bindparam("b_key")
    return union_all(
        select(literal_column("0").label("why"), *cols).where(owner, key, c.content_hash == bindparam("b_hash")),
        select(literal_column("1"), *cols).where(owner, key, c.external_id == bindparam("b_ext")),
        select(literal_column("2"), *cols).where(
            owner, c.deleted_at.is_(None), c.start_utc >= bindparam("b_lo"), c.start_utc <= bindparam("b_hi")
        ),
    )


# each branch is one index look-up: (owner, client_key, content_hash), (owner, client_key,
# external_id), (owner, start_utc); three queries cost three statement executions (three round
# trips on PostgreSQL) and the old ones selected every column, JSON included, for an id
_FIND_EXISTING = _existing_stmt()


def find_existing(
    conn: Connection,
    owner_id: int,
    client_key: str,
    *,
    content_hash: str | None,
    external_id: str | None,
    start: datetime,
    window: timedelta,
) -> Existing:
    """The dedupe look-ups of ingest in one statement (rows carry id, client_key, start_utc,
    timer_time and distance): by content and external id among `client_key`'s runs, by start among all."""
    rows = conn.execute(
        _FIND_EXISTING,
        {
            "b_owner": owner_id,
            "b_key": client_key,
            "b_hash": content_hash,
            "b_ext": external_id,
            "b_lo": start - window,
            "b_hi": start + window,
        },
    ).all()
    found = Existing(None, None, [])
    for row in rows:
        if row.why == 0:
            found.by_content = row
        elif row.why == 1:
            found.by_external_id = row
        else:
            found.candidates.append(row)
    found.candidates.sort(key=lambda r: (r.start_utc, r.id))
    return found


def rows_of_source(conn: Connection, owner_id: int, client_key: str) -> list[Row[Any]]:
    """`owner_id`'s runs (id, start_utc, elapsed_time) stored from `client_key` (ingest.dedupe_source)."""
    c = activities.c
    query = select(c.id, c.start_utc, c.elapsed_time).where(
        c.owner_id == owner_id, c.client_key == client_key, c.deleted_at.is_(None)).order_by(c.id)
    return list(conn.execute(query).all())


def runs_before(conn: Connection, owner_id: int, at: datetime, n_samples: int, lookback: timedelta) -> list[Row[Any]]:
    """`owner_id`'s live runs of `n_samples` samples starting at most `lookback` before `at` and not
    after it (id, client_key), the latest start first."""
    c = activities.c
    query = select(c.id, c.client_key).where(
        c.owner_id == owner_id, c.deleted_at.is_(None), c.n_samples == n_samples,
        c.start_utc >= at - lookback, c.start_utc <= at).order_by(c.start_utc.desc(), c.id)
    return list(conn.execute(query).all())


@dataclasses.dataclass
class PairedRun:
    """A run of a possible-duplicate pair, with what tells the fuller recording."""

    id: int
    start_utc: datetime
    utc_offset: int
    sport: str
    distance: float | None
    timer_time: float | None
    n_samples: int
    client_key: str  # its recorder (ingest.dedupe_source)
    deleted: bool
    channels: list[str]  # the measurements its blob holds (its time and timer left out)


def duplicate_pairs(conn: Connection, owner_id: int) -> list[tuple[PairedRun, PairedRun]]:
    """(run, a live run stored beside it as its possible duplicate) for each such pair of
    `owner_id`'s, in the order the duplicates were stored; the first run may since be deleted
    (the two stored beside it are still one run twice)."""
    c = activities.c
    # the blob's head only: its header names the channels (64 KB: some thousands of names)
    head = func.substr(activity_streams.c.data, 1, 65536, type_=LargeBinary).label("data")
    cols = (c.id, c.start_utc, c.utc_offset, c.sport, c.distance, c.timer_time, c.n_samples, c.client_key,
            c.deleted_at.is_not(None).label("deleted"), c.possible_duplicate_of, head)
    mine = select(*cols).select_from(activities.outerjoin(activity_streams, activity_streams.c.activity_id == c.id))
    mine = mine.where(c.owner_id == owner_id)
    dupes = conn.execute(mine.where(c.possible_duplicate_of.is_not(None), c.deleted_at.is_(None)).order_by(c.id)).all()
    marked = select(c.possible_duplicate_of).where(c.owner_id == owner_id, c.deleted_at.is_(None),
                                                   c.possible_duplicate_of.is_not(None))
    found = conn.execute(mine.where(c.id.in_(marked.scalar_subquery()))).all() if dupes else []

    def named(row: Row[Any]) -> PairedRun:
        names = blob.channel_names(row.data) if row.data is not None else []
        columns = {f.name: row._mapping[f.name] for f in dataclasses.fields(PairedRun)
                   if f.name not in ("deleted", "channels")}  # by name: the select's order may change
        return PairedRun(**columns, deleted=bool(row.deleted),
                         channels=[n for n in names if n not in ("time", "timer")])

    by_id = {row.id: named(row) for row in found}
    return [(by_id[d.possible_duplicate_of], named(d)) for d in dupes if d.possible_duplicate_of in by_id]


def holding_bytes(conn: Connection, owner_id: int, content_hash: str) -> int | None:
    """The activity of `owner_id` stored from a file with this content hash, whichever client or
    recorder stored it (deleted ones included: a re-import does not bring back a deleted run), or
    stored from it once and since overwritten by a newer file (superseded_files)."""
    c, s = activities.c, superseded_files.c
    query = select(c.id).where(c.owner_id == owner_id, c.content_hash == content_hash).order_by(c.id).limit(1)
    found = conn.execute(query).scalar()
    if found is None:
        query = select(s.activity_id).where(s.owner_id == owner_id, s.content_hash == content_hash).limit(1)
        found = conn.execute(query).scalar()
    return None if found is None else int(found)


def untouched_since_import(updated_at: datetime, created_at: datetime, extras: dict[str, Any]) -> bool:
    """Whether a run's row is as its import wrote it, or as `runhub reanalyse` rewrote it since
    (its updated_at is its created_at, or the time of that reanalysis): nothing else touched it."""
    return updated_at == created_at or extras.get(REANALYSED) == updated_at.isoformat()


def as_imported(conn: Connection, activity_id: int, content_hash: str) -> AsListed | None:
    """What an export's list sets of an activity still as a file import stored it from these bytes:
    the one activity of its file, not edited, overwritten or deleted since (its updated_at is its
    created_at, or the time `runhub reanalyse` rewrote it, which changes none of these); None
    otherwise."""
    c = activities.c
    row = conn.execute(select(c.name, c.meta, c.sport, c.updated_at, c.created_at).where(
        c.id == activity_id, c.content_hash == content_hash, c.deleted_at.is_(None), c.multisport_group.is_(None),
    )).first()
    if row is None:
        return None
    meta = row.meta or {}
    extras = meta.get("extras") or {}
    if not untouched_since_import(row.updated_at, row.created_at, extras) or (
            row.updated_at != row.created_at and EDITED in extras):
        return None
    return AsListed(row.name, meta.get("notes"), row.sport, bool(meta.get("commute")), meta.get("app_metadata") or {})


def mark_deleted(conn: Connection, activity_id: int, owner_id: int, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    res = conn.execute(
        update(activities)
        .where(activities.c.id == activity_id, activities.c.owner_id == owner_id, activities.c.deleted_at.is_(None))
        .values(deleted_at=now, updated_at=now)
    )
    if res.rowcount:
        touch_user(conn, owner_id, now)
    return bool(res.rowcount)


def list_rows(
    conn: Connection,
    owner_id: int,
    *,
    offset: int = 0,
    limit: int | None = None,
    changed_since: datetime | None = None,
    include_deleted: bool = False,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    sports: Sequence[str] | None = None,
    newest_first: bool = True,
) -> Sequence[Row[Any]]:
    q = select(activities).where(activities.c.owner_id == owner_id)
    if not include_deleted:
        q = q.where(activities.c.deleted_at.is_(None))
    if changed_since is not None:
        q = q.where(activities.c.updated_at >= changed_since)
    a = activities.c
    q = in_window(q, a.start_utc, a.sport, start_from=start_from, start_to=start_to, sports=sports)
    order = activities.c.start_utc.desc() if newest_first else activities.c.start_utc.asc()
    q = q.order_by(order, activities.c.id.desc() if newest_first else activities.c.id.asc())
    if limit is not None:
        q = q.limit(limit)
    if offset:
        q = q.offset(offset)
    return conn.execute(q).all()


def run_rows(
    conn: Connection,
    owner_id: int,
    *,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    with_summary: bool = False,
) -> Sequence[Row[Any]]:
    """(id, start_utc, utc_offset, sport, distance, timer_time[, summary]) of live activities,
    oldest first. Narrow on purpose: `list_rows` selects every column, and decoding the `meta`
    and `summary` JSON of 3,000 rows costs ~0.5 s on SQLite; stats need five plain columns."""
    c = activities.c
    cols = [c.id, c.start_utc, c.utc_offset, c.sport, c.distance, c.timer_time]
    if with_summary:
        cols.append(c.summary)
    q = select(*cols).where(c.owner_id == owner_id, c.deleted_at.is_(None))
    if start_from is not None:
        q = q.where(c.start_utc >= start_from)
    if start_to is not None:
        q = q.where(c.start_utc < start_to)
    return conn.execute(q.order_by(c.start_utc, c.id)).all()


def count(conn: Connection, owner_id: int) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(activities)
            .where(activities.c.owner_id == owner_id, activities.c.deleted_at.is_(None))
        ).scalar_one()
    )


def touch_user(conn: Connection, owner_id: int, now: datetime) -> None:
    _TOUCH_USER.execute(conn, {"b_owner": owner_id, "b_now": now})
