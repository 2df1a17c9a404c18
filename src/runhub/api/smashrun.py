"""The Smashrun API dialect (seeds/smashrun-api.txt, specs/smashrun-api-reference.md): translation
only. Numbers come from analysis (the stored summary and products, or analysis' longitudinal
functions over stored data); activity writes go through ingest; shapes live in smashrun_shapes.

Decisions the seed leaves open (documented in the OpenAPI description too):
- `/v1/{user}/...`: `my` or the caller's own userName; anyone else's name is a 404.
- POST answers what happened: `{"activityId", "status": created|updated|duplicate, "duplicateOf"}`
  (201 when created, 200 otherwise; a list when one upload held several activities).
- Deleted runs leave every list and search; `search/deleted?fromDate=` lists their ids for sync.
- `GET /my/stats/{year}/{year}` (smashrun-client 0.6 loses the month): answered as that year's
  only month with runs when there is exactly one, else a 400 saying why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError

from runhub import formats, ingest, sports, zones
from runhub.activity import EDITED, ActivityError
from runhub.api import smashrun_shapes as shapes
from runhub.api.deps import get_db, get_settings
from runhub.api.errors import ApiError, not_found
from runhub.auth.principal import Principal, require_scope
from runhub.config import Settings
from runhub.formats import FormatError, smashrun_json
from runhub.store import Database
from runhub.store import activities as repo
from runhub.store import body as body_repo
from runhub.store import goals as goals_repo
from runhub.store import products as products_repo
from runhub.store import users as users_repo
from runhub.units import decimal_shift

router = APIRouter(tags=["smashrun"])

MAX_ID = 2**63 - 1
MAX_COUNT = 1000
DEFAULT_PAGE_COUNT = 100
PATCHABLE = ("notes", "duration", "distance", "startDateTimeLocal")


# ---------------------------------------------------------------- plumbing


def json_response(obj: Any, status: int = 200) -> Response:
    """Every answer through the codec's dumps, so exact km text in recordings survives."""
    return Response(smashrun_json.dumps(obj), status_code=status, media_type="application/json")


def caller(scope: str) -> Callable[..., Principal]:
    """The principal for `scope`, with the `{user}` path segment checked: `my` or the caller's
    own userName. Anything else is a 404, like an id that is not yours."""
    needs = require_scope(scope)

    def dependency(user: str, principal: Principal = Depends(needs), db: Database = Depends(get_db)) -> Principal:
        if principal.user_id is None:
            raise ApiError(401, "unauthorized", "sign in: send a bearer token (Authorization header or access_token)")
        if user != "my":
            with db.connect() as conn:
                row = users_repo.get(conn, principal.user_id)
            if row is None or row.username != user:
                raise not_found("user")
        return principal

    dependency.__name__ = f"smashrun_{scope.replace(':', '_')}"
    return dependency


def owned_row(db: Database, activity_id: int, user_id: int) -> Any:
    if not 0 < activity_id <= MAX_ID:
        raise not_found()
    with db.connect() as conn:
        row = repo.get_row(conn, activity_id, user_id)
    if row is None:
        raise not_found()
    return row


async def read_body(request: Request, settings: Settings) -> tuple[bytes, str | None]:
    """Raw body or the first file of a multipart/form-data body; refuses oversized uploads
    before reading them when Content-Length says so, and while reading otherwise."""
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise too_large(int(declared), limit)
    ctype = request.headers.get("content-type", "").lower()
    if ctype.startswith("multipart/form-data"):
        try:
            form = await request.form(max_part_size=limit)
        except Exception as exc:  # python-multipart raises several types for broken bodies
            raise ApiError(400, "invalid_request", f"cannot read the multipart body: {exc}") from None
        for _, value in form.multi_items():
            if hasattr(value, "read"):
                data = await value.read()
                if len(data) > limit:
                    raise too_large(len(data), limit)
                return data, getattr(value, "filename", None)
        raise ApiError(400, "invalid_request", "the multipart body has no file part", field="file")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(size, limit)
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise ApiError(400, "invalid_request", "the body is empty: send activity JSON, GPX, TCX or FIT")
    return data, None


def too_large(size: int, limit: int) -> ApiError:
    return ApiError(413, "too_large", f"upload is {size} bytes, the limit is {limit}")


def result_object(r: ingest.IngestResult) -> dict[str, Any]:
    out: dict[str, Any] = {"activityId": r.activity_id, "status": r.status, "duplicateOf": r.duplicate_of}
    if r.format:
        out["format"] = r.format
    if r.status in ("failed", "skipped"):  # skipped: an Apple Health export's route, read with its workout
        out["error"] = r.error
        out["detail"] = r.error_detail
    return out


def failed_error(r: ingest.IngestResult) -> ApiError:
    detail = dict(r.error_detail or {})
    message = detail.pop("message", None) or r.error or "invalid activity"
    where = {k: v for k, v in detail.items() if k in ("format", "location", "field", "index", "file")}
    return ApiError(400, "invalid_activity", message, **where)


# ---------------------------------------------------------------- activities: write


@router.post("/{user}/activities", summary="Upload a run: activity JSON, GPX, TCX (sniffed) or FIT (multipart)")
async def post_activity(
    request: Request,
    principal: Principal = Depends(caller("activity:write")),
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    data, filename = await read_body(request, settings)
    results = await run_in_threadpool(
        ingest.ingest_bytes,
        db,
        principal.user_id,
        data,
        filename=filename,
        client_id=principal.client_id,
        max_bytes=settings.max_upload_bytes,
    )
    if not results:
        raise ApiError(400, "invalid_activity", "the upload holds no activity")
    if all(r.status == "failed" for r in results):
        if "too large" in (results[0].error or ""):
            raise too_large(len(data), settings.max_upload_bytes)
        raise failed_error(results[0])
    status = 201 if any(r.status == "created" for r in results) else 200
    if len(results) == 1:
        return json_response(result_object(results[0]), status)
    return json_response([result_object(r) for r in results], status)


def _decode_one(data: bytes) -> Any:
    fmt = formats.sniff(data)
    if fmt == "json":
        obj = smashrun_json.loads(data)
        if not isinstance(obj, dict):
            raise ApiError(400, "invalid_activity", "PUT takes one activity object")
        return obj, smashrun_json.from_object(obj), fmt
    decoded = formats.decode(data, fmt)
    if len(decoded) != 1:
        raise ApiError(400, "invalid_activity", f"PUT takes one activity; this {fmt} file holds {len(decoded)}")
    return None, decoded[0], fmt


async def _put(request: Request, path_id: int | None, principal: Principal, db: Database, settings: Settings) -> Any:
    data, filename = await read_body(request, settings)
    try:
        obj, a, fmt = _decode_one(data)
    except (FormatError, ActivityError):
        raise
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ApiError(400, "invalid_activity", f"cannot read this file ({type(exc).__name__}: {exc})") from None
    body_id = a.id if obj is not None and obj.get("activityId") is not None else None
    if path_id is None and body_id is None:
        raise ApiError(
            400, "invalid_activity", "PUT /my/activities needs the activityId of the run", field="activityId"
        )
    if path_id is not None and body_id is not None and path_id != body_id:
        raise ApiError(
            400,
            "invalid_activity",
            f"activityId {body_id} in the body is not {path_id} of the path",
            field="activityId",
        )
    activity_id = path_id if path_id is not None else int(body_id or 0)
    owned_row(db, activity_id, principal.user_id)
    a.id = None
    try:
        result = await run_in_threadpool(
            ingest.ingest_activity,
            db,
            principal.user_id,
            a,
            client_id=principal.client_id,
            original=data,
            fmt=fmt,
            filename=filename,
            replace_id=activity_id,
        )
    except IntegrityError:
        raise ApiError(
            409, "conflict", "another of your runs from this app has the same externalId", field="externalId"
        ) from None
    if result.status == "failed":
        raise failed_error(result)
    return json_response(result_object(result))


@router.put("/{user}/activities/{activity_id:int}", summary="Replace a run with a full activity object")
async def put_activity(
    request: Request,
    activity_id: int,
    principal: Principal = Depends(caller("activity:write")),
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    return await _put(request, activity_id, principal, db, settings)


@router.put("/{user}/activities", summary="Replace a run; activityId in the body (what smashrun-client sends)")
async def put_activity_body_id(
    request: Request,
    principal: Principal = Depends(caller("activity:write")),
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    return await _put(request, None, principal, db, settings)


@router.patch("/{user}/activities/{activity_id:int}", summary="Change notes, duration, distance or start time")
async def patch_activity(
    request: Request,
    activity_id: int,
    principal: Principal = Depends(caller("activity:patch")),
    db: Database = Depends(get_db),
) -> Response:
    raw = await request.body()
    obj = smashrun_json.loads(raw or b"null")
    if not isinstance(obj, dict) or not obj:
        raise ApiError(400, "invalid_request", f"PATCH takes a JSON object with some of {', '.join(PATCHABLE)}")
    other = sorted(set(obj) - set(PATCHABLE) - {"activityId"})
    if other:
        raise ApiError(
            400,
            "not_patchable",
            f"PATCH changes only {', '.join(PATCHABLE)}; use PUT with the full object for {', '.join(other)}",
            field=other[0],
        )
    if obj.get("activityId") is not None and obj["activityId"] != activity_id:
        raise ApiError(400, "invalid_request", "activityId in the body does not match the path", field="activityId")
    for key in ("duration", "distance", "startDateTimeLocal"):
        if key in obj and obj[key] is None:
            raise ApiError(400, "invalid_request", f"{key} cannot be null", field=key)
    user_id = principal.user_id
    assert user_id is not None

    def apply() -> Any:
        with db.begin() as conn:
            row = repo.get_row(conn, activity_id, user_id) if 0 < activity_id <= MAX_ID else None
            if row is None:
                raise not_found()
            a = repo.row_to_activity(row)
            # Validate and convert through the codec: the same rules and units as a POST.
            probe = {
                "startDateTimeLocal": obj.get(
                    "startDateTimeLocal", smashrun_json.format_local_time(a.start, a.utc_offset)
                ),
                "distance": obj.get("distance", _km_or_zero(a.summary.distance)),
                "duration": obj.get("duration", a.summary.timer_time or 0),
            }
            if obj.get("notes") is not None:
                probe["notes"] = obj["notes"]
            checked = smashrun_json.from_object(probe)
            if "startDateTimeLocal" in obj:
                a.start, a.utc_offset = checked.start, checked.utc_offset
            if "distance" in obj:
                a.summary.distance = checked.summary.distance
            if "duration" in obj:
                a.summary.timer_time = checked.summary.timer_time
            if "notes" in obj:
                a.notes = checked.notes
            # what was edited outlives a reanalysis (runhub.reanalyse)
            a.extras[EDITED] = sorted(set(a.extras.get(EDITED, [])) | (set(obj) & set(PATCHABLE)))
            a.validate()
            repo.update_fields(conn, activity_id, a)
            row = repo.get_row(conn, activity_id, user_id)
            return shapes.summary_object(row, repo.row_to_activity(row))

    return json_response(await run_in_threadpool(apply))


def _km_or_zero(m: float | None) -> Any:
    return decimal_shift(m, -3) if m is not None else 0


@router.delete("/{user}/activities/{activity_id:int}", status_code=204, summary="Flag a run as deleted")
def delete_activity(
    activity_id: int,
    principal: Principal = Depends(caller("activity:delete")),
    db: Database = Depends(get_db),
) -> Response:
    if not 0 < activity_id <= MAX_ID:
        raise not_found()
    assert principal.user_id is not None
    with db.begin() as conn:
        if not repo.mark_deleted(conn, activity_id, principal.user_id):
            raise not_found()
    return Response(status_code=204)


# ---------------------------------------------------------------- activities: read


PAGE_MAX = 10**9  # page x count stays an offset a database takes (a larger page was a server error)


class Paging:
    """page (0-based) / count / fromDate (UTC unix seconds; fromDateUTC accepted too)."""

    def __init__(
        self,
        page: int | None = Query(None, ge=0, le=PAGE_MAX, description="0-based page index"),
        count: int | None = Query(None, ge=1, le=MAX_COUNT, description="page size"),
        fromDate: int | None = Query(None, description="UTC unix seconds: runs added or modified since"),  # noqa: N803
        fromDateUTC: int | None = Query(None, description="alias of fromDate"),  # noqa: N803
    ) -> None:
        since = fromDate if fromDate is not None else fromDateUTC
        try:
            self.since = datetime.fromtimestamp(since, UTC) if since is not None else None
        except (OverflowError, OSError, ValueError):
            raise ApiError(400, "invalid_request", f"fromDate {since} is not a unix time", field="fromDate") from None
        if page is None and count is None:
            self.offset, self.limit = 0, None
        else:
            self.limit = count or DEFAULT_PAGE_COUNT
            self.offset = (page or 0) * self.limit


def _rows(db: Database, user_id: int, paging: Paging, *, deleted: bool = False) -> Any:
    with db.connect() as conn:
        rows = repo.list_rows(
            conn,
            user_id,
            offset=paging.offset,
            limit=paging.limit,
            changed_since=paging.since,
            include_deleted=deleted,
        )
    if deleted:
        rows = [r for r in rows if r.deleted_at is not None]
    return rows


def _summaries(rows: Any) -> list[dict[str, Any]]:
    return [shapes.summary_object(r, repo.row_to_activity(r)) for r in rows]


@router.get("/{user}/activities", summary="All runs as summaries, newest first")
def list_activities(
    principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    with db.connect() as conn:
        rows = repo.list_rows(conn, principal.user_id)
    return json_response(_summaries(rows))


@router.get("/{user}/activities/search", summary="Run summaries, paged and filtered by change date")
def search(
    paging: Paging = Depends(), principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    return json_response(_summaries(_rows(db, principal.user_id, paging)))


@router.get("/{user}/activities/search/ids", summary="Run ids, paged and filtered by change date")
def search_ids(
    paging: Paging = Depends(), principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    return json_response([r.id for r in _rows(db, principal.user_id, paging)])


@router.get("/{user}/activities/search/briefs", summary="activityId, startDateTimeLocal, distance (km), duration")
def search_briefs(
    paging: Paging = Depends(), principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    return json_response([shapes.brief_object(r) for r in _rows(db, principal.user_id, paging)])


@router.get("/{user}/activities/search/extended", summary="Run summaries plus every extended field")
def search_extended(
    paging: Paging = Depends(), principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    rows = _rows(db, principal.user_id, paging)
    extended = _extended_for(db, principal.user_id, rows)
    out = []
    for r in rows:
        a = repo.row_to_activity(r)
        out.append(shapes.summary_object(r, a) | shapes.extended_fields(a, extended.get(r.id)))
    return json_response(out)


@router.get("/{user}/activities/search/deleted", summary="Ids of runs deleted since fromDate (for sync)")
def search_deleted(
    paging: Paging = Depends(), principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    return json_response([r.id for r in _rows(db, principal.user_id, paging, deleted=True)])


EXTENDED_PRODUCT = "extended"
POLYLINE_TOLERANCE_M = 1.0  # analysis' "visually lossless" full-resolution polyline


def _extended_for(db: Database, user_id: int, rows: Any) -> dict[int, Any]:
    """The extended product of each listed run, in one query over the page's start range."""
    if not rows:
        return {}
    starts = [r.start_utc for r in rows]
    wanted = {r.id for r in rows}
    with db.connect() as conn:
        found = products_repo.load_products(
            conn, user_id, EXTENDED_PRODUCT, start_from=min(starts), start_to=max(starts) + timedelta(microseconds=1)
        )
    return {aid: value for aid, _, _, value in found if aid in wanted}


@router.get("/{user}/activities/{activity_id:int}", summary="One run in full: recordings, pauses, laps, extended")
def get_activity(
    activity_id: int, principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    if not 0 < activity_id <= MAX_ID:
        raise not_found()
    with db.connect() as conn:
        row = repo.get_row(conn, activity_id, principal.user_id)
        if row is None:
            raise not_found()
        a = repo.row_to_activity(row, repo.load_channels(conn, activity_id) if row.n_samples else None)
        products = products_repo.load_activity_products(conn, activity_id)
    return json_response(shapes.detail_object(row, a, products.get(EXTENDED_PRODUCT)))


# ---------------------------------------------------------------- per-run products


def _products(db: Database, activity_id: int, user_id: int) -> dict[str, Any]:
    owned_row(db, activity_id, user_id)
    with db.connect() as conn:
        return products_repo.load_activity_products(conn, activity_id)


@router.get("/{user}/activities/{activity_id:int}/notables", summary="What was notable about this run")
def notables(
    activity_id: int, principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    row = owned_row(db, activity_id, principal.user_id)
    from runhub.analysis import notables as notables_analysis

    with db.connect() as conn:
        rows = repo.run_rows(
            conn, principal.user_id, start_to=row.start_utc + timedelta(microseconds=1), with_summary=True
        )
        efforts = products_repo.load_products(
            conn, principal.user_id, "best_efforts", start_to=row.start_utc + timedelta(microseconds=1)
        )
    by_id = {aid: value for aid, _, _, value in efforts}
    history = [shapes.notable_run(r, by_id.get(r.id)) for r in rows]
    this = next(h for h in history if h.id == activity_id)
    found = notables_analysis.notables(this, [h for h in history if h.id != activity_id])
    return json_response([shapes.notable_object(n) for n in found])


@router.get("/{user}/activities/{activity_id:int}/splits/{unit}", summary="Splits per km or per mile")
def splits(
    activity_id: int,
    unit: str,
    principal: Principal = Depends(caller("activity:read")),
    db: Database = Depends(get_db),
) -> Response:
    if unit not in ("km", "mi"):
        raise ApiError(404, "not_found", f"splits are per km or mi, not {unit!r}")
    products = _products(db, activity_id, principal.user_id)
    return json_response(shapes.split_objects(products.get(f"splits_{unit}"), unit))


@router.get("/{user}/activities/{activity_id:int}/polyline", summary="Google encoded polyline of the track")
def polyline(
    activity_id: int, principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    from runhub.analysis.extended import encoded_polyline

    row = owned_row(db, activity_id, principal.user_id)
    with db.connect() as conn:
        ch = repo.load_channels(conn, activity_id) if row.n_samples and row.has_gps else {}
    line = None
    if "latitude" in ch and "longitude" in ch:
        line = encoded_polyline(ch["latitude"], ch["longitude"], tolerance_m=POLYLINE_TOLERANCE_M)
    return json_response({"polyline": line})


@router.get("/{user}/activities/{activity_id:int}/polyline/svg", summary="The track as an SVG path")
def polyline_svg(
    activity_id: int, principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    products = _products(db, activity_id, principal.user_id)
    return json_response(shapes.svg_path(products.get("summary_polyline")))


@router.get("/{user}/activities/{activity_id:int}/polyline/geojson", summary="The track as a GeoJSON Feature")
def polyline_geojson(
    activity_id: int, principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    row = owned_row(db, activity_id, principal.user_id)
    with db.connect() as conn:
        a = repo.row_to_activity(row, repo.load_channels(conn, activity_id) if row.n_samples else None)
    return json_response(shapes.geojson(a))


@router.get("/{user}/badges", summary="Badges earned (runhub awards none: always [])")
def badges(principal: Principal = Depends(caller("activity:read"))) -> Response:
    return json_response([])


# ---------------------------------------------------------------- stats and goals


def _local_date_bounds(year: int, month: int | None) -> tuple[datetime, datetime]:
    """A UTC window wide enough for every run whose *local* date falls in the period (+-14 h);
    analysis filters by local date exactly."""
    if not 1 <= year <= 9998:
        raise ApiError(400, "invalid_request", f"year {year} is out of range", field="year")
    if month is None:
        lo, hi = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    else:
        lo = datetime(year, month, 1, tzinfo=UTC)
        hi = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return lo - timedelta(hours=14), hi + timedelta(hours=14)


def _stats(db: Database, user_id: int, year: int | None, month: int | None) -> Any:
    from runhub.analysis import stats as stats_analysis

    bounds = _local_date_bounds(year, month) if year is not None else (None, None)
    with db.connect() as conn:
        rows = repo.run_rows(conn, user_id, start_from=bounds[0], start_to=bounds[1])
        user = users_repo.get(conn, user_id)
    today = datetime.now(_user_zone(users_repo.settings_of(user))).date()
    facts = [shapes.run_fact(r) for r in rows if sports.is_running(r.sport)]
    return shapes.stats_object(stats_analysis.smashrun_stats(facts, year=year, month=month, today=today))


@router.get("/{user}/stats", summary="All-time stats")
def stats_all(principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)) -> Response:
    return json_response(_stats(db, principal.user_id, None, None))


@router.get("/{user}/stats/{year:int}", summary="Stats of one year")
def stats_year(
    year: int, principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    return json_response(_stats(db, principal.user_id, year, None))


@router.get("/{user}/stats/{year:int}/{month:int}", summary="Stats of one month (January = 1)")
def stats_month(
    year: int, month: int, principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    if 1 <= month <= 12:
        return json_response(_stats(db, principal.user_id, year, month))
    if month != year:
        raise ApiError(400, "invalid_request", f"month {month} is not 1..12", field="month")
    # smashrun-client 0.6 get_stats(year, month) requests /stats/{year}/{year}: the month is lost.
    lo, hi = _local_date_bounds(year, None)
    with db.connect() as conn:
        rows = repo.run_rows(conn, principal.user_id, start_from=lo, start_to=hi)
    months = {
        (r.start_utc + timedelta(seconds=r.utc_offset)).month
        for r in rows
        if (r.start_utc + timedelta(seconds=r.utc_offset)).year == year and sports.is_running(r.sport)
    }
    if len(months) == 1:
        return json_response(_stats(db, principal.user_id, year, months.pop()))
    raise ApiError(
        400,
        "ambiguous_month",
        f"/stats/{year}/{year} does not say which month (smashrun-client 0.6 repeats the year); "
        f"request /stats/{year}/<month 1-12>",
        field="month",
    )


def _check_period(year: int, month: int | None) -> None:
    if not 1 <= year <= 9998:
        raise ApiError(400, "invalid_request", f"year {year} is out of range", field="year")
    if month is not None and not 1 <= month <= 12:
        raise ApiError(400, "invalid_request", f"month {month} is not 1..12", field="month")


def _goal(db: Database, user_id: int, year: int, month: int | None) -> Any:
    from runhub.analysis import stats as stats_analysis

    _check_period(year, month)
    with db.connect() as conn:
        goal = goals_repo.get_goal(conn, user_id, year, month or 0)
        if goal is None:
            return None
        lo, hi = _local_date_bounds(year, month)
        rows = repo.run_rows(conn, user_id, start_from=lo, start_to=hi)
    facts = [shapes.run_fact(r) for r in rows if sports.is_running(r.sport)]
    run = stats_analysis.goal_progress(facts, year=year, month=month)
    return {"goalText": goal.text, "goalKilometers": shapes.km(goal.distance), "kilometers": shapes.km(run)}


@router.get("/{user}/goals/{year:int}", summary="The goal for a year and progress (null when none is set)")
def goal_year(
    year: int, principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    return json_response(_goal(db, principal.user_id, year, None))


@router.get("/{user}/goals/{year:int}/{month:int}", summary="The goal for a month and progress (null when none)")
def goal_month(
    year: int, month: int, principal: Principal = Depends(caller("activity:read")), db: Database = Depends(get_db)
) -> Response:
    return json_response(_goal(db, principal.user_id, year, month))


async def _set_goal(request: Request, user_id: int, year: int, month: int | None, db: Database) -> Any:
    _check_period(year, month)
    obj = smashrun_json.loads(await request.body() or b"null")
    if not isinstance(obj, dict):
        raise ApiError(400, "invalid_request", "send a JSON object with goalText and/or goalKilometers")
    extra = sorted(set(obj) - {"goalText", "goalKilometers"})
    if extra:
        raise ApiError(400, "invalid_request", f"unknown field {extra[0]}", field=extra[0])
    text = obj.get("goalText")
    if text is not None and (not isinstance(text, str) or len(text) > 800):
        raise ApiError(400, "invalid_request", "goalText is a string of at most 800 characters", field="goalText")
    kms = obj.get("goalKilometers")
    distance = None
    if kms is not None:
        if isinstance(kms, bool) or not isinstance(kms, int | float) and not hasattr(kms, "scaleb"):
            raise ApiError(400, "invalid_request", "goalKilometers is a number", field="goalKilometers")
        distance = float(decimal_shift(kms, 3))
        if not math.isfinite(distance) or not 0 < distance <= 1e9:
            raise ApiError(400, "invalid_request", "goalKilometers is outside 0..1,000,000", field="goalKilometers")
    with db.begin() as conn:
        goals_repo.set_goal(conn, user_id, year, month or 0, text or None, distance)
    return _goal(db, user_id, year, month)


@router.put("/{user}/goals/{year:int}", summary="Set (or clear, with nulls) the goal for a year")
async def put_goal_year(
    request: Request,
    year: int,
    principal: Principal = Depends(caller("activity:write")),
    db: Database = Depends(get_db),
) -> Response:
    return json_response(await _set_goal(request, principal.user_id, year, None, db))


@router.put("/{user}/goals/{year:int}/{month:int}", summary="Set (or clear, with nulls) the goal for a month")
async def put_goal_month(
    request: Request,
    year: int,
    month: int,
    principal: Principal = Depends(caller("activity:write")),
    db: Database = Depends(get_db),
) -> Response:
    return json_response(await _set_goal(request, principal.user_id, year, month, db))


# ---------------------------------------------------------------- body and user


def _weight(row: Any) -> dict[str, Any]:
    return {"date": row.date, "weightInKilograms": shapes.number(row.weight_kg)}


def _user_zone(settings: dict[str, Any]) -> ZoneInfo:
    return zones.zone(settings.get("timezone")) or ZoneInfo("UTC")


@router.get("/{user}/body/weight", summary="Every weight measurement (kg), oldest first")
def weights(principal: Principal = Depends(caller("body:read")), db: Database = Depends(get_db)) -> Response:
    with db.connect() as conn:
        return json_response([_weight(r) for r in body_repo.list_weights(conn, principal.user_id)])


@router.get("/{user}/body/weight/latest", summary="The latest weight measurement (null when none)")
def weight_latest(principal: Principal = Depends(caller("body:read")), db: Database = Depends(get_db)) -> Response:
    with db.connect() as conn:
        row = body_repo.latest_weight(conn, principal.user_id)
    return json_response(None if row is None else _weight(row))


@router.post("/{user}/body/weight", status_code=201, summary="Record a weight: weightInKilograms, optional date")
async def post_weight(
    request: Request, principal: Principal = Depends(caller("body:write")), db: Database = Depends(get_db)
) -> Response:
    obj = smashrun_json.loads(await request.body() or b"null")
    if not isinstance(obj, dict):
        raise ApiError(400, "invalid_request", 'send {"weightInKilograms": 90, "date": "2015-04-01"}')
    extra = sorted(set(obj) - {"weightInKilograms", "date"})
    if extra:
        raise ApiError(400, "invalid_request", f"unknown field {extra[0]}", field=extra[0])
    kg = obj.get("weightInKilograms")
    if kg is None or isinstance(kg, bool) or not (isinstance(kg, int | float) or hasattr(kg, "scaleb")):
        raise ApiError(400, "invalid_request", "weightInKilograms is a required number", field="weightInKilograms")
    value = float(kg)
    if not math.isfinite(value) or not 20 <= value <= 400:
        raise ApiError(400, "invalid_request", f"{kg} kg is outside 20..400", field="weightInKilograms")
    with db.connect() as conn:
        user = users_repo.get(conn, principal.user_id)
    if obj.get("date") is None:
        day = datetime.now(_user_zone(users_repo.settings_of(user))).date()
    else:
        text = obj["date"]
        try:
            day = date.fromisoformat(text[:10]) if isinstance(text, str) else None
        except ValueError:
            day = None
        if day is None:
            raise ApiError(400, "invalid_request", f"date {text!r} is not YYYY-MM-DD", field="date")
    with db.begin() as conn:
        body_repo.add_weight(conn, principal.user_id, day.isoformat(), value)
    return json_response({"date": day.isoformat(), "weightInKilograms": shapes.number(value)}, 201)


@router.get("/{user}/userinfo", summary="The signed-in user: names, units, heart rates, time zone, dates")
def userinfo(principal: Principal = Depends(caller("profile:read")), db: Database = Depends(get_db)) -> Response:
    with db.connect() as conn:
        user = users_repo.get(conn, principal.user_id)
        if user is None:
            raise not_found("user")
        newest = repo.list_rows(conn, principal.user_id, limit=1)
    s = users_repo.settings_of(user)
    zone = _user_zone(s)
    now = datetime.now(zone)
    with_dst = now.utcoffset() or timedelta(0)
    dst = now.dst() or timedelta(0)
    last_run = newest[0] if newest else None
    return json_response(
        {
            "id": user.id,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "userName": user.username,
            "dateTimeUTCOfLastRun": shapes.utc_text(last_run.start_utc) if last_run else None,
            "dateTimeUTCOfLastRunDataUpdated": shapes.utc_text(user.data_updated_at),
            "unitDistance": s.get("unit_distance"),
            "unitWeight": s.get("unit_weight"),
            "unitElevation": s.get("unit_elevation"),
            "unitTemperature": s.get("unit_temperature"),
            "languageCode": s.get("language"),
            "hemisphere": s.get("hemisphere"),
            "restingHeartRate": s.get("resting_heart_rate"),
            "maxHeartRate": s.get("max_heart_rate"),
            "followerCount": 0,
            "followingCount": 0,
            "timeZoneOffsetMinutes": int((with_dst - dst).total_seconds() // 60),
            "timeZoneOffsetMinutesDST": int(with_dst.total_seconds() // 60),
            "registrationDateUTC": shapes.utc_text(user.created_at),
            "proBadgeDateUTC": None,
        }
    )
