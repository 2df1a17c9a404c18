"""The Smashrun API dialect (seeds/smashrun-api.txt): translation only. Numbers come from
analysis products, writes go through ingest."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from runhub.api.deps import get_db
from runhub.api.errors import not_found
from runhub.auth.principal import Principal, require_scope
from runhub.formats import smashrun_json
from runhub.store import Database
from runhub.store import activities as repo

router = APIRouter(tags=["smashrun"])


@router.get("/my/activities/{activity_id}")
def get_activity(
    activity_id: int,
    principal: Principal = Depends(require_scope("activity:read")),
    db: Database = Depends(get_db),
) -> Response:
    with db.connect() as conn:
        a = repo.load_activity(conn, activity_id, principal.user_id)
    if a is None:
        raise not_found()
    return Response(smashrun_json.dumps(smashrun_json.to_object(a)), media_type="application/json")
