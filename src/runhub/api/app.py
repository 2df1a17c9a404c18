"""The application factory: one FastAPI app serving every dialect, the OAuth server and pages."""

from __future__ import annotations

from fastapi import FastAPI

from runhub import __version__
from runhub.api import errors
from runhub.config import Settings, get_settings
from runhub.store import Database


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    if db is None:
        settings.ensure_data_dir()
        db = Database(settings.db_url)
    app = FastAPI(title="runhub", version=__version__, docs_url="/docs", openapi_url="/openapi.json")
    app.state.settings = settings
    app.state.db = db
    errors.install(app)
    from runhub.auth.ratelimit import RateLimitHeaders

    app.add_middleware(RateLimitHeaders)
    from runhub.api import oauth as oauth_routes
    from runhub.web import pages

    app.include_router(oauth_routes.router)
    app.include_router(pages.router)

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    from runhub.api import smashrun

    app.include_router(smashrun.router, prefix="/v1")
    from runhub.api import smashrun_docs

    smashrun_docs.install(app)  # /v1/openapi.json and /v1/docs: the Smashrun dialect alone
    return app
