"""The `runhub` command. Every import goes through ingest.py, like every API upload."""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from runhub.config import Settings, get_settings
from runhub.store import Database

if TYPE_CHECKING:
    from sqlalchemy import Connection


app = typer.Typer(
    help="runhub: your activities, exactly as recorded, through the APIs apps speak.", no_args_is_help=True
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the database.", no_args_is_help=True)
client_app = typer.Typer(help="Manage OAuth apps (clients).", no_args_is_help=True)
token_app = typer.Typer(help="Manage personal API tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(client_app, name="client")
app.add_typer(token_app, name="token")
app.add_typer(db_app, name="db")

console = Console(stderr=True)
# what file managers leave in every folder of a lifetime's copy (Finder's view settings, its folder
# icon and localised name; Explorer's thumbnails and view settings): not the runner's files
SKIP_NAMES = {".DS_Store", "Icon\r", ".localized", "Thumbs.db", "desktop.ini"}


def open_db(settings: Settings | None = None, *, upgrade: bool = True) -> Database:
    settings = settings or get_settings()
    settings.ensure_data_dir()
    db = Database(settings.db_url)
    if upgrade:
        db.upgrade()
    return db


def user_id_for(db: Database, username: str | None) -> int:
    from runhub.store import users

    with db.connect() as conn:
        if username is None:
            rows = conn.execute(users.users.select().order_by(users.users.c.id).limit(2)).all()
            if len(rows) != 1:
                console.print("[red]say which user with --user (there are several, or none: runhub user create)")
                raise typer.Exit(2)
            return int(rows[0].id)
        row = users.get_by_username(conn, username)
    if row is None:
        console.print(f"[red]no user {username!r} (create one with: runhub user create {username})")
        raise typer.Exit(2)
    return int(row.id)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema."""
    settings = get_settings()
    open_db(settings)
    console.print(f"database at {settings.db_url} is up to date")


@user_app.command("create")
def user_create(
    username: str,
    password: Annotated[str | None, typer.Option(help="Password; asked for when omitted.")] = None,
    email: Annotated[str | None, typer.Option()] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Give the admin role.")] = False,
) -> None:
    """Create a user."""
    from runhub.auth.passwords import hash_password
    from runhub.store import users

    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    db = open_db()
    try:
        with db.begin() as conn:
            uid = users.create_user(conn, username, hash_password(password), email=email, is_admin=admin)
    except users.UserExists as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None
    typer.echo(f"created user {username} (id {uid})")


@client_app.command("create")
def client_create(
    name: str,
    redirect_uri: Annotated[
        list[str], typer.Option("--redirect-uri", help="Allowed redirect URI (repeat); loopback ones accept any port.")
    ],
    public: Annotated[bool, typer.Option("--public", help="A public client (no secret; PKCE required).")] = False,
    client_id: Annotated[str | None, typer.Option("--client-id", help="Fixed id (Strava clients need digits).")] = None,
    client_secret: Annotated[str | None, typer.Option("--client-secret", help="Fixed secret.")] = None,
    dialect: Annotated[
        str, typer.Option(help="generic, smashrun (12-week tokens), strava or sweatstack.")
    ] = "generic",
    scope: Annotated[str | None, typer.Option(help="Scope granted when a request asks for none.")] = None,
    token_seconds: Annotated[int | None, typer.Option(help="Access token lifetime in seconds.")] = None,
    refresh_without_secret: Annotated[
        bool,
        typer.Option(
            "--refresh-without-secret",
            help="Accept refresh requests without client credentials (smashrun-client auto-refresh).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Register an app; prints its client id and secret (the secret is shown only now)."""
    from runhub.auth import scopes as sc
    from runhub.auth.clients import ClientError, validate_client_fields
    from runhub.store import oauth

    try:
        validate_client_fields(redirect_uri, client_id, client_secret, public, dialect)
        if scope:
            sc.expand(scope)
    except (ClientError, sc.UnknownScope) as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from None
    db = open_db()
    try:
        with db.begin() as conn:
            cid, secret = oauth.create_client(
                conn,
                name,
                redirect_uri,
                is_public=public,
                client_id=client_id,
                client_secret=client_secret,
                dialect=dialect,
                default_scope=sc.normalize(scope) if scope else None,
                token_seconds=token_seconds,
                refresh_without_secret=refresh_without_secret,
            )
    except oauth.ClientExists as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps({"client_id": cid, "client_secret": secret, "name": name, "public": public}))
    else:
        typer.echo(f"client_id: {cid}")
        if secret:
            typer.echo(f"client_secret: {secret}  (shown once)")


@client_app.command("list")
def client_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List registered apps."""
    from runhub.store import oauth

    db = open_db()
    with db.connect() as conn:
        rows = oauth.list_clients(conn)
    for r in rows:
        item = {"client_id": r.client_id, "name": r.name, "public": r.is_public, "redirect_uris": r.redirect_uris}
        typer.echo(json.dumps(item) if as_json else f"{r.client_id}\t{r.name}\t{' '.join(r.redirect_uris)}")


@client_app.command("delete")
def client_delete(client_id: str) -> None:
    """Delete an app and every token it holds."""
    from runhub.store import oauth

    db = open_db()
    with db.begin() as conn:
        oauth.delete_client(conn, client_id)
    typer.echo(f"deleted client {client_id}")


@token_app.command("create")
def token_create(
    username: str,
    scope: Annotated[list[str], typer.Option("--scope", help="Scope (repeat; canonical or any dialect's name).")],
    name: Annotated[str, typer.Option(help="A label to recognise it by.")] = "cli token",
    days: Annotated[int | None, typer.Option(help="Expire after this many days (default: never).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a personal API token for a user; printed once."""
    from datetime import UTC, datetime, timedelta

    from runhub.auth import scopes as sc
    from runhub.auth.tokens import create_personal_token

    db = open_db()
    uid = user_id_for(db, username)
    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    try:
        with db.begin() as conn:
            token, tid = create_personal_token(conn, uid, " ".join(scope), name=name, expires_at=expires)
    except sc.UnknownScope as exc:
        console.print(f"[red]unknown scope {exc}; known: {', '.join(sc.supported())}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "token": token,
                    "id": tid,
                    "user_id": uid,
                    "scope": sc.normalize(" ".join(scope)),
                    "expires_at": expires.isoformat() if expires else None,
                }
            )
        )
    else:
        typer.echo(token)


@token_app.command("revoke")
def token_revoke(token_id: str) -> None:
    """Revoke a token by its id."""
    from runhub.store import oauth

    db = open_db()
    with db.begin() as conn:
        oauth.revoke(conn, token_id)
    typer.echo(f"revoked {token_id}")


def _expand(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, OSError]]]:
    """The files of an import, and the folders among them that could not be listed."""
    files: list[Path] = []
    unlisted: list[tuple[Path, OSError]] = []
    for path in paths:
        if path.is_dir():
            found, cannot = _files_in(path)
            files.extend(found)
            unlisted.extend(cannot)
        elif path.exists():
            files.append(path)
        else:
            console.print(f"[red]{path}: no such file or folder")
            raise typer.Exit(2)
    return files, unlisted


def _files_in(folder: Path) -> tuple[list[Path], list[tuple[Path, OSError]]]:
    """Every file under `folder`, in path order, through linked folders too (a lifetime's folder
    often links to another disk's; rglob passed them by without a word), each folder once (a link
    back up is no loop). A link to nothing is kept: its import fails, naming where it points (a
    disk not mounted), rather than the file going missing silently. Pipes and devices are not
    files: passed by. A folder that cannot be listed (no permission) is returned with its error,
    which rglob and os.walk drop: its runs would be missing without a word."""
    found: list[Path] = []
    unlisted: list[tuple[Path, OSError]] = []
    seen: set[str] = set()

    def cannot_list(exc: OSError) -> None:
        unlisted.append((Path(exc.filename), exc))

    for root, dirs, names in os.walk(folder, onerror=cannot_list, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs.clear()
            continue
        seen.add(real)
        for name in names:
            p = Path(root, name)
            if name not in SKIP_NAMES and not name.startswith("._") and (p.is_file() or not p.exists()):
                found.append(p)
    return sorted(found), sorted(unlisted, key=lambda u: u[0])


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (recursive).")],
    user: Annotated[str | None, typer.Option("--user", help="Owner (default: the only user).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line per file.")] = False,
    sport: Annotated[str | None, typer.Option(help="Sport for files that do not say which: a CSV without a sport "
                                                   "column, a GPX without a type, a TCX of Sport \"Other\", a FIT of "
                                                   "sport generic.")] = None,
    jobs: Annotated[
        int | None,
        typer.Option(help="Processes that decode and analyse ahead of the store (default: one per CPU, up to 8, "
                     "for 500 files or more, where it pays for their start-up; else 1: all in this process)."),
    ] = None,
) -> None:
    """Import activity files (FIT, TCX, GPX, CSV, Smashrun JSON, .gz, .zip; account exports of Strava, Garmin,
    Runkeeper and Apple Health)."""
    from runhub.ingest import IngestResult, ingest_paths, unreadable

    settings = get_settings()
    db = open_db(settings)
    owner = user_id_for(db, user)
    files, unlisted = _expand(paths)
    if jobs is None:
        # measured on a 2-CPU machine (the corpus copied n times, `runhub import --jobs 1` vs `2`): 1,104 files
        # 10.7-11.4 -> 9.0-9.2 s, 552 files 7.0-7.2 -> 6.0-6.4 s, 276 files 4.0-4.8 -> 4.1-4.3 s (even: each
        # process starts numba and runhub, ~2 s)
        jobs = min(os.cpu_count() or 1, 8) if len(files) >= 500 else 1
    results: list[IngestResult] = []
    with _progress(quiet=as_json) as progress:
        task = progress.add_task("importing", total=len(files))

        def report(r: IngestResult) -> None:
            if as_json:
                sys.stdout.write(json.dumps(r.to_dict()) + "\n")
            else:
                _print_result(progress.console, r)
            results.append(r)

        for folder, exc in unlisted:  # a failed line each: none of its files could be imported
            report(unreadable(folder, exc))
        stream = ingest_paths(
            db, owner, files, client_id="runhub-cli", sport=sport, max_bytes=settings.max_upload_bytes, workers=jobs
        )
        for path, file_results in stream:
            for r in file_results:
                r.filename = r.filename or str(path)
                report(r)
            progress.advance(task)
    if not as_json:
        _summary_table(results)
        marked = sum(1 for r in results if r.status == "created" and r.duplicate_of is not None)
        if marked:
            console.print(f"{marked} of the runs created the account already held from another recorder (marked "
                          f"possible duplicates; both count in totals): `runhub duplicates"
                          f"{f' --user {user}' if user else ''}` lists them and keeps the fuller of each",
                          highlight=False, soft_wrap=True)
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


def _print_result(out: Console, r: object) -> None:
    from runhub.ingest import IngestResult

    assert isinstance(r, IngestResult)
    colours = {"created": "green", "updated": "cyan", "duplicate": "yellow", "skipped": "blue", "failed": "red"}
    colour = colours[r.status]
    detail = f"activity {r.activity_id}" if r.activity_id is not None else (r.error or "")
    if r.filename and detail.startswith(f"{r.filename}: "):  # the line names the file already
        detail = detail[len(r.filename) + 2:]
    if r.status == "created" and r.duplicate_of is not None:
        detail += f" (possible duplicate of {r.duplicate_of})"
    out.print(f"[{colour}]{r.status:9}[/] {r.filename}  {detail}", highlight=False, soft_wrap=True)


def _summary_table(results: list[object]) -> None:
    table = Table(title="import summary")
    table.add_column("status")
    table.add_column("files", justify="right")
    for status in ("created", "updated", "duplicate", "skipped", "failed"):
        table.add_row(status, str(sum(1 for r in results if getattr(r, "status", None) == status)))
    console.print(table)


# `--format original`: the file as it was imported or uploaded, byte for byte (stored compressed)
ORIGINAL = "original"


def _encoded(conn: Connection, activity_id: int, owner_id: int | None, fmt: str) -> tuple[bytes, str] | str:
    """(the activity written in `fmt`, the file extension), or why not. Its timer is made explicit
    (`make_timer_explicit`): the exported file's timer is the one runhub shows."""
    from runhub import formats
    from runhub.analysis.timebase import make_timer_explicit
    from runhub.store import activities as repo

    a = repo.load_activity(conn, activity_id, owner_id)
    if a is None:
        return "no such activity"
    make_timer_explicit(a, fmt)
    try:
        return formats.encode(a, fmt), fmt
    except formats.FormatError as exc:  # the format cannot carry it
        return exc.message


def _exported(conn: Connection, activity_id: int, owner_id: int | None, fmt: str) -> tuple[bytes, str] | str:
    """(the file `export` writes for the activity in `fmt`, its extension), or why not."""
    return _original(conn, activity_id, owner_id) if fmt == ORIGINAL else _encoded(conn, activity_id, owner_id, fmt)


def _original(conn: Connection, activity_id: int, owner_id: int | None) -> tuple[bytes, str] | str:
    """(the file the activity was imported or uploaded from, byte for byte, its extension), or why
    not. A file of several activities (a multisport FIT) is kept with the first of them."""
    from runhub.store import activities as repo

    row = repo.get_row(conn, activity_id, owner_id)
    if row is None:
        return "no such activity"
    found = repo.load_original(conn, activity_id)
    if found is not None:
        return found[0], found[1]
    if row.multisport_group is not None:
        return "no file of its own: it is a part of a multisport file, which is kept with its first part"
    return "no original file (it was not imported or uploaded as a file); write it with --format json, fit, ..."


@app.command("export")
def export(
    activity_id: Annotated[int | None, typer.Argument(help="Activity id.")] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", help="json, fit, tcx, gpx, csv, parquet, or original (the file imported, as it was)."),
    ] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default: standard output).")] = None,
    all_to: Annotated[
        Path | None, typer.Option("--all", help="Export every activity of --user into this folder.")
    ] = None,
    user: Annotated[str | None, typer.Option("--user")] = None,
) -> None:
    """Export one activity, or a whole account with --all DIR."""
    from runhub import formats
    from runhub.store import activities as repo

    if fmt not in formats.ENCODERS and fmt != ORIGINAL:
        console.print(f"[red]cannot write {fmt!r}; formats: {', '.join(sorted(formats.ENCODERS))}, {ORIGINAL}")
        raise typer.Exit(2)
    db = open_db()
    if all_to is not None:
        owner = user_id_for(db, user)
        all_to.mkdir(parents=True, exist_ok=True)
        with db.connect() as conn:
            rows = repo.list_rows(conn, owner, newest_first=False)
        refused: list[tuple[int, str]] = []
        written = 0
        files_of: set[str] = set()  # the multisport groups whose file is written (`_original`)
        for row in rows:
            with db.connect() as conn:
                made = _exported(conn, row.id, owner, fmt)
            if isinstance(made, str):
                if fmt == ORIGINAL and row.multisport_group in files_of:
                    continue  # a part of a multisport file, written with the part that holds the file
                refused.append((row.id, made))
                continue
            data, ext = made
            if row.multisport_group is not None:
                files_of.add(row.multisport_group)
            (all_to / f"{row.start_utc.strftime('%Y%m%d-%H%M%S')}-{row.id}.{ext}").write_bytes(data)
            written += 1
        typer.echo(f"exported {written} activities to {all_to}")
        for aid, why in refused:
            console.print(f"[red]not exported: activity {aid}: {why}", soft_wrap=True)
        if refused:
            raise typer.Exit(1)
        return
    if activity_id is None:
        console.print("[red]give an activity id, or --all DIR")
        raise typer.Exit(2)
    owner_id = user_id_for(db, user) if user else None
    with db.connect() as conn:
        made = _exported(conn, activity_id, owner_id, fmt)
    if isinstance(made, str):
        console.print(f"[red]activity {activity_id}: {made}", soft_wrap=True)
        raise typer.Exit(1)
    data = made[0]
    if output is None:
        sys.stdout.buffer.write(data)
        if fmt == "json":
            sys.stdout.write("\n")
    else:
        output.write_bytes(data)


@app.command("duplicates")
def duplicates(
    user: Annotated[str | None, typer.Option("--user")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Keep the fuller recording of each run, delete the others.")]
    = False,
) -> None:
    """List the runs stored twice (the watch's FIT and Strava's GPX of one run, imported from both
    exports): of each, the recording to keep (more channels, then more samples) and the others."""
    from datetime import timedelta

    from runhub import duplicates as dupes

    db = open_db()
    owner = user_id_for(db, user)
    found = dupes.groups(db, owner)
    for group in found:
        for verdict, run in (("keep", group.keep), *(("delete" if delete else "other", r) for r in group.others)):
            local = run.start_utc + timedelta(seconds=run.utc_offset)
            km = f"{run.distance / 1000:.2f} km" if run.distance is not None else "no distance"
            source = " ".join(part for part in run.client_key.split("|")[1:] if part)
            typer.echo(f"{verdict:7} {run.id:>7}  {local:%Y-%m-%d %H:%M}  {run.sport:18} {km:>11}  "
                       f"{len(run.channels)} channels, {run.n_samples} samples  ({source or 'uploaded'})")
        typer.echo("")
    if not found:
        typer.echo("no run is stored twice")
    elif delete:
        typer.echo(f"deleted {dupes.delete_others(db, owner, found)} runs; kept {len(found)}")
    else:
        typer.echo(f"{len(found)} runs stored more than once; --delete keeps the one marked keep of each")


@app.command("reanalyse")
def reanalyse(
    user: Annotated[str | None, typer.Option("--user", help="One account's runs (default: the only user).")] = None,
    every_account: Annotated[bool, typer.Option("--all-users", help="The runs of every account.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per run.")] = False,
) -> None:
    """Bring stored runs up to this runhub's readers and analysis: each run imported from a file
    is read again from it (kept byte for byte), the others analysed again from their channels.
    Titles, notes, flags and what was edited since the import stay. Exits 1 if a run failed."""
    from runhub import reanalyse as re_

    db = open_db()
    owner = None if every_account else user_id_for(db, user)
    counts = {"changed": 0, "unchanged": 0, "failed": 0}
    rows = re_.runs(db, owner)
    with _progress(quiet=as_json) as progress:
        task = progress.add_task("reanalysing", total=len(rows))
        for out in re_.reanalyse(db, owner, dry_run=dry_run, rows=rows):
            counts[out.status] += 1
            progress.advance(task)
            if as_json:
                typer.echo(json.dumps(out.to_dict()))
            elif out.status != "unchanged":
                what = out.error or ", ".join(f"{k} {_figure(a)} -> {_figure(b)}" for k, (a, b) in out.changes.items())
                kept = f" (kept as edited: {', '.join(out.kept)})" if out.kept else ""
                what = what or "its channels, laps or what the file says"
                progress.console.print(f"{out.status:9} {out.activity_id:>7}  from its {out.source}: {what}{kept}",
                                       highlight=False, markup=False, soft_wrap=True)
    if not as_json:
        verb = "would change" if dry_run else "changed"
        typer.echo(f"{counts['changed']} {verb}, {counts['unchanged']} unchanged, {counts['failed']} failed")
    if counts["failed"]:
        raise typer.Exit(1)


def _progress(quiet: bool) -> Progress:
    """The progress bar of a long command, on a terminal only (and not under --json)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, disable=quiet or not console.is_terminal)


def _figure(x: object) -> str:
    return f"{x:.1f}" if isinstance(x, float) else str(x)


@app.command("demo")
def demo(
    username: Annotated[str, typer.Option(help="Demo user name.")] = "demo",
    password: Annotated[str, typer.Option(help="Demo user password.")] = "demo",
    runs: Annotated[int, typer.Option(help="How many runs to generate.")] = 12,
) -> None:
    """Create a demo user with generated sample runs (pauses, laps, heart rate), once."""
    from runhub import demo as demo_data
    from runhub.auth.passwords import hash_password
    from runhub.ingest import ingest_activity
    from runhub.store import users

    db = open_db()
    with db.begin() as conn:
        row = users.get_by_username(conn, username)
        uid = int(row.id) if row else users.create_user(conn, username, hash_password(password), first_name="Demo")
    created = 0
    for a in demo_data.sample_runs(runs):
        if ingest_activity(db, uid, a, client_id="runhub-demo").status == "created":
            created += 1
    typer.echo(f"demo user {username!r} (password {password!r}): {created} new sample runs")


@app.command("warm")
def warm() -> None:
    """Compile the numba kernels now (cached on disk; otherwise the first analysis compiles them)."""
    from runhub.demo import warm_up

    typer.echo(f"kernels ready in {warm_up():.1f} s")


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
) -> None:
    """Run the HTTP server."""
    import uvicorn

    from runhub.api.app import create_app

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    if not _is_loopback(host) and not _auth_ready():
        console.print(f"[red]refusing to listen on {host}: every endpoint needs tokens first; use 127.0.0.1")
        raise typer.Exit(2)
    if settings.test_approval and not _is_loopback(host):
        console.print("[red]RUNHUB_TEST_APPROVAL=1 is for tests: the server then only listens on loopback")
        raise typer.Exit(2)
    db = open_db(settings)
    console.print(f"runhub on http://{host}:{port}  data: {settings.data_dir}  database: {db.url}")
    uvicorn.run(create_app(settings, db), host=host, port=port, log_level="info")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _auth_ready() -> bool:
    """True once the OAuth server guards every endpoint (then any address may be served)."""
    try:
        from runhub.auth import oauth  # noqa: F401
    except ModuleNotFoundError:
        return False
    return True


if __name__ == "__main__":
    app()
