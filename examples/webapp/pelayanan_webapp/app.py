"""The web app: FastAPI routes over server-rendered Jinja2 pages.

Every worker process calls `create_app` once (``uvicorn --factory``): it builds the
worker's own desk and starts the periodic ``desk.tick`` task.  All workers tick; the
library fires each SLA event exactly once however many call it together.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData, UploadFile
from starlette.middleware.sessions import SessionMiddleware

from pelayanan import Actor, PelayananError, RequestError, ServiceDesk, UnknownRequestError
from pelayanan.audit.export import write_export
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.receipt import Receipt, check_receipt
from pelayanan.hosting import http_status, log_reports, prove_entry
from pelayanan_webapp.clock import make_clock
from pelayanan_webapp.config import WebSettings
from pelayanan_webapp.i18n import LANGUAGES, translator
from pelayanan_webapp.jsonlog import configure_logging
from pelayanan_webapp.service import SERVICE, build_desk, sla_events, unit_requests
from pelayanan_webapp.users import User, UserTable

HERE = Path(__file__).resolve().parent
log = logging.getLogger("pelayanan_webapp")

#: The complaint form's fields: public ones, then the personal ones the SOP seals.
PUBLIC_FIELDS = ("subject", "category", "region")
PERSONAL_FIELDS = ("nama", "nik", "telepon", "alamat", "uraian")


class ForbiddenError(Exception):
    """The signed-in user (or nobody) may not open this page."""


class BadCSRFError(Exception):
    """A form came without this session's CSRF token."""


def csrf_token(request: Request) -> str:
    """Return this session's CSRF token, making one on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def checked_form(request: Request) -> FormData:
    """Return the posted form after checking its CSRF token against the session's.

    Raises:
        BadCSRFError: the token is missing or not this session's.
    """
    form = await request.form()
    sent = form.get("csrf")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str):
        raise BadCSRFError
    if not secrets.compare_digest(sent, expected):
        raise BadCSRFError
    return form


class WebApp:
    """The routes' shared state: settings, this worker's desk, users and templates."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.clock = make_clock(settings.clock_file)
        self.desk: ServiceDesk = build_desk(settings.host, self.clock)
        self.users = UserTable(settings.users_db)
        self.templates = Jinja2Templates(directory=HERE / "templates")

    def user(self, request: Request) -> User | None:
        """Return the signed-in user, if any."""
        name = request.session.get("user")
        return self.users.get(name) if isinstance(name, str) else None

    def require(self, request: Request, role: str | None = None) -> User:
        """Return the signed-in user holding *role* (any role when ``None``).

        Raises:
            ForbiddenError: nobody is signed in, or the user lacks the role.
        """
        user = self.user(request)
        if user is None or (role is not None and role not in user.roles):
            raise ForbiddenError
        return user

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        """Render template *name* in the session's language."""
        lang = request.session.get("lang", "id")
        sop = self.desk.sops.get(SERVICE)
        return self.templates.TemplateResponse(
            request,
            name,
            {
                "t": translator(lang),
                "lang": lang,
                "user": self.user(request),
                "csrf": csrf_token(request),
                "sop": sop,
                **context,
            },
            status_code=status,
        )

    async def tick_forever(self) -> None:
        """Call ``desk.tick`` every few seconds, in this worker as in every other."""
        while True:
            await asyncio.sleep(self.settings.tick_seconds)
            try:
                fired = await run_in_threadpool(self.desk.tick, self.clock.now())
            except PelayananError:
                log.exception("tick failed")
                continue
            for event in fired:
                log.info(
                    "sla event",
                    extra={
                        "request": event.request_id,
                        "clock": event.clock,
                        "event": event.event,
                        "seq": event.seq,
                    },
                )


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the app for one worker process (settings from the environment by default)."""
    configure_logging()
    web = WebApp(settings if settings is not None else WebSettings.from_env())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ticker = asyncio.create_task(web.tick_forever())
        log.info("worker started", extra={"store": web.desk.store.__class__.__name__})
        yield
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        web.desk.store.close()

    app = FastAPI(title="pelayanan reference web app", lifespan=lifespan, docs_url=None)
    app.add_middleware(
        SessionMiddleware,
        secret_key=web.settings.session_secret,
        same_site="lax",
        session_cookie="pelayanan_session",
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.state.web = web
    _add_handlers(app, web)
    _citizen_routes(app, web)
    _status_routes(app, web)
    _account_routes(app, web)
    _officer_routes(app, web)
    _oversight_routes(app, web)
    return app


def _add_handlers(app: FastAPI, web: WebApp) -> None:
    @app.middleware("http")
    async def log_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response

    @app.exception_handler(ForbiddenError)
    async def forbidden(request: Request, exc: ForbiddenError) -> Response:
        if web.user(request) is None:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return web.render(request, "message.html", 403, message=translator(
            request.session.get("lang", "id"))("forbidden"))  # fmt: skip

    @app.exception_handler(BadCSRFError)
    async def bad_csrf(request: Request, exc: BadCSRFError) -> Response:
        t = translator(request.session.get("lang", "id"))
        return web.render(request, "message.html", 403, message=t("csrf"))

    @app.exception_handler(PelayananError)
    async def refused(request: Request, exc: PelayananError) -> Response:
        return web.render(request, "message.html", http_status(exc), message=str(exc))


def _citizen_routes(app: FastAPI, web: WebApp) -> None:
    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        return web.render(request, "home.html")

    @app.get("/lang/{code}")
    async def set_language(request: Request, code: str, next: str = "/") -> Response:
        if code in LANGUAGES:
            request.session["lang"] = code
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        return RedirectResponse(target, status_code=303)

    @app.get("/pengaduan", response_class=HTMLResponse)
    async def complaint_form(request: Request) -> Response:
        return web.render(
            request, "complaint.html", values={}, error=None, nonce=secrets.token_hex(8)
        )

    @app.post("/pengaduan")
    async def submit_complaint(request: Request) -> Response:
        form = await checked_form(request)
        values = {k: str(form.get(k, "")).strip() for k in (*PUBLIC_FIELDS, *PERSONAL_FIELDS)}
        data = {k: v for k, v in values.items() if v}
        # A citizen without an account: a fresh pseudonymous actor id per submission.
        citizen = web.user(request)
        actor_id = f"warga-web-{secrets.token_hex(6)}"
        actor = Actor(actor_id, {"citizen"}) if citizen is None else citizen.actor
        # The form's one-time nonce makes a double click or a resent form one complaint.
        nonce = str(form.get("nonce", "")).strip()
        try:
            result = await run_in_threadpool(
                web.desk.submit,
                SERVICE,
                actor=actor,
                data=data,
                idempotency_key=f"submit-{nonce}" if nonce else None,
            )
        except RequestError as exc:
            return web.render(
                request, "complaint.html", http_status(exc), values=values, error=str(exc),
                nonce=secrets.token_hex(8),
            )  # fmt: skip
        log.info("complaint submitted", extra={"request": result.request.id, "seq": result.seq})
        return RedirectResponse(
            f"/pengaduan/{result.request.id}/diterima?seq={result.seq}", status_code=303
        )

    @app.get("/pengaduan/{request_id}/diterima", response_class=HTMLResponse)
    async def submitted(request: Request, request_id: str, seq: int) -> Response:
        return web.render(request, "submitted.html", request_id=request_id, seq=seq)

    @app.get("/status/{request_id}/receipt.json")
    async def receipt(request_id: str, seq: int) -> Response:
        desk = web.desk

        def build() -> str:
            entry = next(desk.store.entries(desk.ledger, seq, seq + 1), None)
            if entry is None or json.loads(entry.data).get("request") != request_id:
                raise UnknownRequestError(request_id)
            return prove_entry(desk.store, desk.ledger, seq).to_json()

        text = await run_in_threadpool(build)
        return Response(
            text,
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="receipt-{request_id}.json"'},
        )


def _status_routes(app: FastAPI, web: WebApp) -> None:
    @app.get("/status", response_class=HTMLResponse)
    async def status_lookup(request: Request, nomor: str = "") -> Response:
        if nomor.strip():
            return RedirectResponse(f"/status/{nomor.strip()}", status_code=303)
        return web.render(request, "status_lookup.html")

    @app.get("/status/{request_id}", response_class=HTMLResponse)
    async def status(request: Request, request_id: str) -> Response:
        return await _status_page(request, request_id, None)

    @app.post("/status/{request_id}/receipt", response_class=HTMLResponse)
    async def check_uploaded_receipt(request: Request, request_id: str) -> Response:
        form = await checked_form(request)
        upload = form.get("receipt")
        raw = await upload.read() if isinstance(upload, UploadFile) else b""
        text = raw.decode("utf-8", "replace")
        try:
            parsed = Receipt.from_json(text)
            checked = check_receipt(parsed, web.settings.host.trusted_keys)
        except PelayananError as exc:
            return await _status_page(request, request_id, {"ok": False, "text": str(exc)})
        entry = json.loads(parsed.entry) if parsed.entry is not None else {}
        mine = entry.get("request") == request_id
        return await _status_page(
            request, request_id, {"ok": True, "mine": mine, "text": checked.summary()}
        )

    async def _status_page(
        request: Request, request_id: str, receipt_check: dict[str, Any] | None
    ) -> Response:
        desk = web.desk
        now = web.clock.now()
        reports = await run_in_threadpool(
            log_reports,
            desk.store,
            ledger=desk.ledger,
            sops=desk.sops,
            trusted_keys=web.settings.host.trusted_keys,
            at=now,
        )
        found = next((r for r in reports.open311 if r["service_request_id"] == request_id), None)
        return web.render(
            request,
            "status.html",
            200 if found is not None else 404,
            request_id=request_id,
            open311=found,
            receipt_check=receipt_check,
        )


def _account_routes(app: FastAPI, web: WebApp) -> None:
    @app.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request, next: str = "/inbox") -> Response:
        return web.render(request, "login.html", next=next, failed=False)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await checked_form(request)
        user = await run_in_threadpool(
            web.users.authenticate, str(form.get("username", "")), str(form.get("password", ""))
        )
        target = str(form.get("next", "/inbox"))
        if not target.startswith("/") or target.startswith("//"):
            target = "/inbox"
        if user is None:
            log.warning("login failed", extra={"username": str(form.get("username", ""))[:64]})
            return web.render(request, "login.html", 401, next=target, failed=True)
        lang = request.session.get("lang", "id")
        request.session.clear()  # a new session on sign-in: no fixation
        request.session.update({"user": user.username, "lang": lang})
        log.info("login", extra={"username": user.username})
        return RedirectResponse(target, status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await checked_form(request)
        request.session.clear()
        return RedirectResponse("/", status_code=303)


def _officer_routes(app: FastAPI, web: WebApp) -> None:
    @app.get("/inbox", response_class=HTMLResponse)
    async def inbox(request: Request) -> Response:
        user = web.require(request)
        return await _inbox_page(request, user, None, request.session.pop("flash", None), 200)

    @app.post("/inbox/{request_id}/{action}")
    async def act(request: Request, request_id: str, action: str) -> Response:
        user = web.require(request)
        form = await checked_form(request)
        data = {
            k: str(v).strip()
            for k, v in form.items()
            if k not in {"csrf", "justification", "nonce", "go"} and str(v).strip()
        }
        justification = str(form.get("justification", "")).strip() or None
        try:
            result = await run_in_threadpool(
                web.desk.act,
                request_id,
                action,
                actor=user.actor,
                data=data,
                justification=justification,
                # One key per rendered form: a resent form acts once, a new form again.
                idempotency_key=f"{user.username}-{form.get('nonce', secrets.token_hex(8))}",
            )
        except RequestError as exc:
            log.info(
                "action refused",
                extra={"request": request_id, "action": action, "error": type(exc).__name__},
            )
            return await _inbox_page(request, user, str(exc), None, http_status(exc))
        log.info("action", extra={"request": request_id, "action": action, "seq": result.seq})
        # Post/Redirect/Get: a reload never re-posts; the message rides in the session.
        request.session["flash"] = f"{request_id}: {action} -> {result.request.state}"
        return RedirectResponse("/inbox", status_code=303)

    async def _inbox_page(
        request: Request, user: User, error: str | None, done: str | None, status: int
    ) -> Response:
        desk = web.desk

        def rows() -> list[dict[str, Any]]:
            out = []
            for record in unit_requests(desk, user.units)[:100]:
                sop = desk.sops.get(record.sop_id, record.sop_version)
                actions = []
                for name in desk.allowed_actions(record.id, user.actor):
                    spec = sop.action(name, record.state)
                    fields = list(spec.requires) if spec is not None else []
                    needs_reason = spec is not None and spec.justification
                    actions.append({"name": name, "fields": fields, "reason": needs_reason})
                out.append({"record": record, "state": sop.state(record.state), "actions": actions})
            return out

        return web.render(
            request,
            "inbox.html",
            status,
            rows=await run_in_threadpool(rows),
            error=error,
            done=done,
            nonce=secrets.token_hex(8),
        )


def _oversight_routes(app: FastAPI, web: WebApp) -> None:
    @app.get("/dashboard", response_class=HTMLResponse)
    async def dashboard(request: Request) -> Response:
        user = web.require(request, "supervisor")
        desk = web.desk
        now = web.clock.now()

        def compute() -> dict[str, Any]:
            reports = log_reports(
                desk.store,
                ledger=desk.ledger,
                sops=desk.sops,
                trusted_keys=web.settings.host.trusted_keys,
                at=now,
            )
            mine = {r.id for r in unit_requests(desk, user.units)}
            return {
                "reports": reports,
                "at_risk": [i for i in reports.at_risk.items if i.request in mine],
                "events": list(sla_events(desk, mine)),
            }

        return web.render(request, "dashboard.html", **await run_in_threadpool(compute))

    @app.get("/audit", response_class=HTMLResponse)
    async def audit_page(request: Request) -> Response:
        web.require(request, "auditor")
        desk = web.desk
        head = await run_in_threadpool(desk.store.head, desk.ledger)
        return web.render(request, "audit.html", ledger=desk.ledger, size=head.size)

    @app.get("/audit/export.jsonl")
    async def export(request: Request) -> Response:
        web.require(request, "auditor")

        def dump() -> bytes:
            buffer = io.BytesIO()
            write_export(web.desk.store, buffer, ledgers=[web.desk.ledger])
            return buffer.getvalue()

        log.info("export downloaded", extra={"username": request.session.get("user")})
        return Response(
            await run_in_threadpool(dump),
            media_type="application/x-ndjson",
            headers={"Content-Disposition": 'attachment; filename="audit-export.jsonl"'},
        )

    @app.get("/audit/checkpoint.txt")
    async def checkpoint(request: Request) -> Response:
        web.require(request, "auditor")
        note = await run_in_threadpool(web.desk.store.latest_checkpoint, web.desk.ledger)
        return Response(
            note or "",
            media_type="text/plain",
            headers={"Content-Disposition": 'attachment; filename="checkpoint.txt"'},
        )

    @app.get("/audit/ledger-public.pem")
    async def public_key(request: Request) -> Response:
        web.require(request, "auditor")
        pems = b"".join(
            (k.key if isinstance(k, TrustedKey) else k).public_pem()
            for k in web.settings.host.trusted_keys
        )
        return Response(
            pems,
            media_type="application/x-pem-file",
            headers={"Content-Disposition": 'attachment; filename="ledger-public.pem"'},
        )
