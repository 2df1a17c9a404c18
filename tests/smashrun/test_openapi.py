"""The OpenAPI description of the Smashrun dialect and its interactive docs."""

from __future__ import annotations

import httpx


def test_openapi_lists_every_smashrun_path_and_nothing_else(server) -> None:
    doc = httpx.get(f"{server.url}/v1/openapi.json").json()
    paths = set(doc["paths"])
    for path in (
        "/v1/{user}/activities",
        "/v1/{user}/activities/{activity_id}",
        "/v1/{user}/activities/search",
        "/v1/{user}/activities/search/ids",
        "/v1/{user}/activities/search/briefs",
        "/v1/{user}/activities/search/extended",
        "/v1/{user}/activities/search/deleted",
        "/v1/{user}/activities/{activity_id}/notables",
        "/v1/{user}/activities/{activity_id}/splits/{unit}",
        "/v1/{user}/activities/{activity_id}/polyline",
        "/v1/{user}/activities/{activity_id}/polyline/svg",
        "/v1/{user}/activities/{activity_id}/polyline/geojson",
        "/v1/{user}/stats",
        "/v1/{user}/stats/{year}/{month}",
        "/v1/{user}/goals/{year}/{month}",
        "/v1/{user}/body/weight",
        "/v1/{user}/body/weight/latest",
        "/v1/{user}/userinfo",
        "/v1/auth/{token}",
    ):
        assert path in paths, path
    assert all(p.startswith("/v1/") for p in paths)
    ops = doc["paths"]["/v1/{user}/activities/{activity_id}"]
    assert {"get", "put", "patch", "delete"} <= set(ops)
    assert "fromDate" in str(doc["paths"]["/v1/{user}/activities/search"])
    assert "bearer" in doc["components"]["securitySchemes"]


def test_interactive_docs(server) -> None:
    r = httpx.get(f"{server.url}/v1/docs")
    assert r.status_code == 200 and "/v1/openapi.json" in r.text and "swagger" in r.text.lower()
