"""Plain server-rendered pages: sign-up/in/out, consent, connected apps, developer apps,
personal tokens, profile settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from runhub.auth import sessions

env = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape())


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the signed-in user and a CSRF token; never cached, never framed."""
    context.setdefault("user", sessions.session_user(request))
    context.setdefault("csrf", sessions.csrf_token(request))
    html = env.get_template(name).render(**context)
    response = HTMLResponse(
        html,
        status_code=status,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "frame-ancestors 'none'",
        },
    )
    return sessions.finish(request, response)


def safe_next(value: str | None, default: str = "/settings/profile") -> str:
    """Only same-site paths: no scheme, no host, no protocol-relative `//evil` (open redirects)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value
