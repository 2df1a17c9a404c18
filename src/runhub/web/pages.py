"""Account pages. Every POST checks the CSRF token; every settings page needs a session."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select, update
from starlette.responses import RedirectResponse, Response

from runhub.auth import scopes as sc
from runhub.auth import sessions
from runhub.auth.clients import ClientError, validate_client_fields
from runhub.auth.passwords import hash_password, verify_password
from runhub.auth.tokens import create_personal_token
from runhub.store import oauth as repo
from runhub.store import users
from runhub.store.tables import users as users_table
from runhub.web import render, safe_next

router = APIRouter(include_in_schema=False)
USERNAME = re.compile(r"^[A-Za-z0-9._-]{2,64}$")
MIN_PASSWORD = 10

UNIT_CHOICES = [
    ("unit_distance", "Distance", [("k", "kilometres"), ("m", "miles")]),
    ("unit_weight", "Weight", [("k", "kilograms"), ("p", "pounds")]),
    ("unit_elevation", "Elevation", [("m", "metres"), ("f", "feet")]),
    ("unit_temperature", "Temperature", [("c", "Celsius"), ("f", "Fahrenheit")]),
    ("hemisphere", "Hemisphere", [("n", "northern"), ("s", "southern")]),
]


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    out: dict[str, Any] = {}
    for k, v in form.multi_items():
        if isinstance(v, str):
            if k in out:
                out[k] = (out[k] if isinstance(out[k], list) else [out[k]]) + [v]
            else:
                out[k] = v
    return out


def _forbidden(request: Request) -> Response:
    return render(
        request, "error.html", 403, title="Form expired", message="Reload the page and try again (CSRF check failed)."
    )


def _signin_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)


async def _signed_in_form(request: Request) -> tuple[dict[str, Any], Any] | Response:
    """The posted form and its signed-in user, or the response that refuses it (sign in, or CSRF)."""
    form = await _form(request)
    user = sessions.session_user(request)
    if user is None:
        return _signin_redirect(request)
    if not sessions.check_csrf(request, form.get("csrf_token")):
        return _forbidden(request)
    return form, user


@router.get("/")
def home(request: Request) -> Response:
    user = sessions.session_user(request)
    return RedirectResponse("/settings/profile" if user else "/signin", status_code=303)


@router.get("/signin")
def signin_page(request: Request, next: str = "") -> Response:
    return render(request, "signin.html", next=safe_next(next))


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await _form(request)
    if not sessions.check_csrf(request, form.get("csrf_token")):
        return _forbidden(request)
    username, password = str(form.get("username", "")), str(form.get("password", ""))

    def check() -> Any:
        with request.app.state.db.connect() as conn:
            row = users.get_by_username(conn, username)
        return row if row is not None and verify_password(row.password_hash, password) else None

    row = await run_in_threadpool(check)
    next_url = safe_next(str(form.get("next", "")))
    if row is None:
        return render(request, "signin.html", 400, next=next_url, error="Wrong username or password.")
    response = RedirectResponse(next_url, status_code=303)
    await run_in_threadpool(sessions.start_session, request, response, int(row.id))
    return response


@router.get("/signup")
def signup_page(request: Request, next: str = "") -> Response:
    return render(request, "signup.html", next=safe_next(next))


@router.post("/signup")
async def signup(request: Request) -> Response:
    form = await _form(request)
    if not sessions.check_csrf(request, form.get("csrf_token")):
        return _forbidden(request)
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    email = str(form.get("email", "")).strip() or None
    next_url = safe_next(str(form.get("next", "")))
    if not USERNAME.match(username):
        return render(request, "signup.html", 400, next=next_url, error="Usernames are 2-64 letters, digits, . _ -")
    if len(password) < MIN_PASSWORD:
        return render(request, "signup.html", 400, next=next_url, error=f"Use at least {MIN_PASSWORD} characters.")

    def create() -> int | None:
        pw = hash_password(password)
        with request.app.state.db.begin() as conn:
            first = conn.execute(select(func.count()).select_from(users_table)).scalar_one() == 0
            try:  # the first account administers the server
                return users.create_user(conn, username, pw, email=email, is_admin=first)
            except users.UserExists:
                return None

    uid = await run_in_threadpool(create)
    if uid is None:
        return render(request, "signup.html", 400, next=next_url, error="That username is taken.")
    response = RedirectResponse(next_url, status_code=303)
    await run_in_threadpool(sessions.start_session, request, response, uid)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    form = await _form(request)
    if not sessions.check_csrf(request, form.get("csrf_token")):
        return _forbidden(request)
    response = RedirectResponse("/signin", status_code=303)
    await run_in_threadpool(sessions.end_session, request, response)
    return response


# --- profile ---


@router.get("/settings/profile")
def profile_page(request: Request, notice: str = "") -> Response:
    user = sessions.session_user(request)
    if user is None:
        return _signin_redirect(request)
    return render(
        request, "profile.html", settings=users.settings_of(user), choices=UNIT_CHOICES, notice=notice or None
    )


def _int_or_none(value: Any, low: int, high: int) -> int | None:
    try:
        n = int(str(value))
    except ValueError:
        return None
    return n if low <= n <= high else None


@router.post("/settings/profile")
async def profile_save(request: Request) -> Response:
    got = await _signed_in_form(request)
    if isinstance(got, Response):
        return got
    form, user = got
    changes: dict[str, Any] = {}
    for key, _, options in UNIT_CHOICES:
        if form.get(key) in {v for v, _ in options}:
            changes[key] = form[key]
    language = str(form.get("language", "")).strip()
    if re.match(r"^[a-z]{2}(-[A-Za-z]{2})?$", language):
        changes["language"] = language
    tz = str(form.get("timezone", "")).strip()
    if tz:
        from runhub import zones

        if zones.zone(tz) is not None:
            changes["timezone"] = tz
        else:
            return render(
                request,
                "profile.html",
                400,
                settings=users.settings_of(user),
                choices=UNIT_CHOICES,
                error=f"Unknown time zone {tz!r}.",
            )
    changes["resting_heart_rate"] = _int_or_none(form.get("resting_heart_rate"), 20, 150)
    changes["max_heart_rate"] = _int_or_none(form.get("max_heart_rate"), 80, 250)
    changes["ftp"] = _int_or_none(form.get("ftp"), 0, 2000)
    username = str(form.get("username", user.username)).strip()
    if not USERNAME.match(username):
        return render(
            request,
            "profile.html",
            400,
            settings=users.settings_of(user),
            choices=UNIT_CHOICES,
            error="Usernames are 2-64 letters, digits, . _ -",
        )

    def save() -> str | None:
        with request.app.state.db.begin() as conn:
            if username != user.username and users.get_by_username(conn, username) is not None:
                return "That username is taken."
            conn.execute(
                update(users_table)
                .where(users_table.c.id == user.id)
                .values(
                    username=username,
                    first_name=str(form.get("first_name", ""))[:100],
                    last_name=str(form.get("last_name", ""))[:100],
                    email=str(form.get("email", "")).strip()[:254] or None,
                )
            )
            users.update_settings(conn, int(user.id), changes)
        return None

    problem = await run_in_threadpool(save)
    if problem:
        return render(
            request, "profile.html", 400, settings=users.settings_of(user), choices=UNIT_CHOICES, error=problem
        )
    return RedirectResponse("/settings/profile?notice=Saved.", status_code=303)


# --- connected apps ---


@router.get("/settings/apps")
def apps_page(request: Request) -> Response:
    user = sessions.session_user(request)
    if user is None:
        return _signin_redirect(request)
    with request.app.state.db.connect() as conn:
        apps = repo.connected_apps(conn, int(user.id))
    for app in apps:
        app["lines"] = sc.describe(app["canonical"])
    return render(request, "apps.html", apps=apps)


@router.post("/settings/apps/revoke")
async def apps_revoke(request: Request) -> Response:
    got = await _signed_in_form(request)
    if isinstance(got, Response):
        return got
    form, user = got

    def revoke() -> None:
        with request.app.state.db.begin() as conn:
            repo.revoke_client_for_user(conn, int(user.id), str(form.get("client_id", "")))

    await run_in_threadpool(revoke)
    return RedirectResponse("/settings/apps", status_code=303)


# --- personal tokens ---


def _tokens_page(request: Request, user: Any, status: int = 200, **extra: Any) -> Response:
    with request.app.state.db.connect() as conn:
        rows = repo.personal_tokens(conn, int(user.id))
    return render(request, "tokens.html", status, tokens=rows, all_scopes=list(sc.CANONICAL.items()), **extra)


@router.get("/settings/tokens")
def tokens_page(request: Request) -> Response:
    user = sessions.session_user(request)
    if user is None:
        return _signin_redirect(request)
    return _tokens_page(request, user)


@router.post("/settings/tokens")
async def tokens_create(request: Request) -> Response:
    got = await _signed_in_form(request)
    if isinstance(got, Response):
        return got
    form, user = got
    chosen = form.get("scope", [])
    chosen = [chosen] if isinstance(chosen, str) else chosen
    days = _int_or_none(form.get("days"), 1, 3650)
    expires = datetime.now(UTC) + timedelta(days=days) if days else None

    def create() -> str:
        with request.app.state.db.begin() as conn:
            return create_personal_token(
                conn, int(user.id), chosen, name=str(form.get("name", "token"))[:200], expires_at=expires
            )[0]

    try:
        token = await run_in_threadpool(create)
    except sc.UnknownScope:
        return await run_in_threadpool(_tokens_page, request, user, 400, error="Choose at least one scope.")
    return await run_in_threadpool(_tokens_page, request, user, new_token=token)


@router.post("/settings/tokens/revoke")
async def tokens_revoke(request: Request) -> Response:
    got = await _signed_in_form(request)
    if isinstance(got, Response):
        return got
    form, user = got

    def revoke() -> None:
        with request.app.state.db.begin() as conn:
            row = repo.get_token(conn, str(form.get("token_id", "")))
            if row is not None and int(row.user_id) == int(user.id):
                repo.revoke(conn, row.id)

    await run_in_threadpool(revoke)
    return RedirectResponse("/settings/tokens", status_code=303)


# --- developer apps ---


def _developer_page(request: Request, user: Any, status: int = 200, **extra: Any) -> Response:
    with request.app.state.db.connect() as conn:
        # administrators see every app (including CLI-registered ones); others their own
        rows = repo.list_clients(conn, None if user.is_admin else int(user.id))
    return render(request, "developer.html", status, clients=rows, **extra)


def _may_manage(request: Request, user: Any, client_id: str) -> bool:
    with request.app.state.db.connect() as conn:
        row = repo.get_client(conn, client_id)
    return row is not None and (bool(user.is_admin) or row.owner_id == user.id)


@router.get("/settings/developer")
def developer_page(request: Request) -> Response:
    user = sessions.session_user(request)
    if user is None:
        return _signin_redirect(request)
    return _developer_page(request, user)


@router.post("/settings/developer")
async def developer_create(request: Request) -> Response:
    got = await _signed_in_form(request)
    if isinstance(got, Response):
        return got
    form, user = got
    uris = [u.strip() for u in str(form.get("redirect_uris", "")).splitlines() if u.strip()]
    public = form.get("kind") == "public"
    name = str(form.get("name", "")).strip()[:200] or "app"
    try:
        validate_client_fields(uris, None, None, public, "generic")
    except ClientError as exc:
        return await run_in_threadpool(_developer_page, request, user, 400, error=str(exc))

    def create() -> tuple[str, str | None]:
        with request.app.state.db.begin() as conn:
            return repo.create_client(conn, name, uris, is_public=public, owner_id=int(user.id))

    cid, secret = await run_in_threadpool(create)
    return await run_in_threadpool(
        _developer_page,
        request,
        user,
        new_secret=secret,
        new_secret_for=name,
        notice=f"Registered {name}: client id {cid}",
    )


@router.post("/settings/developer/rotate")
async def developer_rotate(request: Request) -> Response:
    got = await _signed_in_form(request)
    if isinstance(got, Response):
        return got
    form, user = got
    cid = str(form.get("client_id", ""))
    if not await run_in_threadpool(_may_manage, request, user, cid):
        return render(request, "error.html", 404, title="No such app", message="")

    def rotate() -> str:
        with request.app.state.db.begin() as conn:
            return repo.rotate_secret(conn, cid)

    secret = await run_in_threadpool(rotate)
    return await run_in_threadpool(_developer_page, request, user, new_secret=secret, new_secret_for=cid)


@router.post("/settings/developer/delete")
async def developer_delete(request: Request) -> Response:
    got = await _signed_in_form(request)
    if isinstance(got, Response):
        return got
    form, user = got
    cid = str(form.get("client_id", ""))
    if cid == "client" or not await run_in_threadpool(_may_manage, request, user, cid):
        return render(request, "error.html", 404, title="No such app", message="")

    def delete() -> None:
        with request.app.state.db.begin() as conn:
            repo.delete_client(conn, cid)

    await run_in_threadpool(delete)
    return RedirectResponse("/settings/developer", status_code=303)
