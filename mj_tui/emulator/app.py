"""The ASGI application: both dialects, image hosting and the /_emulator control routes."""

from __future__ import annotations

import dataclasses
from typing import Any, TypedDict

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import images, mjproxy, ohmygpt
from .config import Account, EmulatorConfig
from .engine import Engine
from .faults import FaultMiddleware, FaultState
from .hooks import Hooks
from .model import MJPROXY, OHMYGPT
from .wire import read_json

# Fields that may be changed at run time through POST /_emulator/config.
TUNABLE = {
    "job_seconds",
    "grid_size",
    "queue_limit",
    "proxy_concurrency",
    "proxy_queue_size",
    "open_access",
    "remix",
    "proxy_admin",
    "video_enabled",
    "hd_video",
    "proxy_uploads",
    "proxy_daily_limit",
    "hook_attempts",
    "hook_backoff",
    "hook_timeout",
    "banned_words",
    "moderated_words",
    "error_rate",
    "drop_rate",
    "malformed_rate",
    "latency_seconds",
}


class ClockJSON(TypedDict):
    now: float
    frozen: bool


async def _body(request: Request) -> dict[str, Any] | JSONResponse:
    # Values stay Any: the control routes pass them to float(), bool() and setattr() as they came.
    try:
        return await read_json(request)
    except ValueError:
        return JSONResponse({"error": "body must be a JSON object"}, 400)


def _clock_json(engine: Engine) -> ClockJSON:
    return {"now": engine.clock.now(), "frozen": engine.clock.frozen}


async def clock(request: Request) -> JSONResponse:
    """{"advance": seconds} and/or {"freeze": true|false}; GET reads the clock."""
    engine: Engine = request.app.state.engine
    if request.method == "POST":
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            if "freeze" in body:
                engine.clock.freeze(bool(body["freeze"]))
            if "advance" in body:
                engine.clock.advance(float(body["advance"]))
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
    return JSONResponse(_clock_json(engine))


async def faults(request: Request) -> JSONResponse:
    """{"next": [{"kind": ...}, ...], "path_contains": "optional"}: consumed one per matching request."""
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body
    entries = body.get("next", [])
    if not isinstance(entries, list):
        return JSONResponse({"error": "next must be a list"}, 400)
    fs: FaultState = request.app.state.faults
    try:
        pending = fs.push(entries, body.get("path_contains"))
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, 400)
    return JSONResponse({"pending": pending})


async def reset(request: Request) -> JSONResponse:
    """Drop queued faults, zero the request counters and unfreeze the clock. Tasks are kept."""
    request.app.state.faults.reset()
    request.app.state.engine.clock.freeze(False)
    return JSONResponse({"ok": True})


async def state(request: Request) -> JSONResponse:
    engine: Engine = request.app.state.engine
    fs: FaultState = request.app.state.faults
    with engine.lock:
        engine.settle()
        counts = {OHMYGPT: 0, MJPROXY: 0}
        for dialect, _ in engine.tasks:
            counts[dialect] += 1
        unfinished = sum(len(engine.unfinished(owner, dialect)) for owner, dialect in list(engine._active))
        charged: dict[str, float] = {}
        for entry in engine.ledger:
            charged[entry["key"]] = charged.get(entry["key"], 0.0) + entry["amount"]
        accounts = {k: {**dataclasses.asdict(a), "charged": charged.get(k, 0.0)} for k, a in engine.accounts.items()}
        return JSONResponse(
            {
                "requests": dict(fs.requests),
                "requests_total": sum(fs.requests.values()),
                "faults_pending": fs.pending(),
                "clock": _clock_json(engine),
                "tasks": {"total": len(engine.tasks), **counts, "unfinished": unfinished},
                "accounts": accounts,
                "ledger": engine.ledger[-100:],
            }
        )


async def accounts(request: Request) -> JSONResponse:
    """{"key": "...", "balance"?, "mj_permission"?, "admin"?, "queue_limit"?}: create or update an account."""
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body
    key = str(body.get("key") or "")
    if not key:
        return JSONResponse({"error": "key is required"}, 400)
    engine: Engine = request.app.state.engine
    with engine.lock:
        account = engine.accounts.setdefault(key, Account())
        for f in dataclasses.fields(Account):
            if f.name in body:
                setattr(account, f.name, body[f.name])
        return JSONResponse({"key": key, **dataclasses.asdict(account)})


#: the most tasks one POST /_emulator/history may add per dialect
SEED_MAX = 200_000


async def history(request: Request) -> JSONResponse:
    """{"key": "...", "count": N}: N more finished tasks per dialect in that key's history
    (a large paged history to sync: OhMyGPT pages it, midjourney-proxy lists it by id)."""
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body
    key, count = body.get("key"), body.get("count")
    if not isinstance(key, str) or not key:
        return JSONResponse({"error": "key is required"}, 400)
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= SEED_MAX:
        return JSONResponse({"error": f"count must be a whole number from 0 to {SEED_MAX}"}, 400)
    engine: Engine = request.app.state.engine
    engine.seed_history(key, count)
    with engine.lock:
        totals = {dialect: len(engine._order.get((key, dialect), [])) for dialect in (OHMYGPT, MJPROXY)}
    return JSONResponse({"key": key, "added": count, "tasks": totals})


async def tune(request: Request) -> JSONResponse:
    """Change tunable config fields at run time, e.g. {"remix": true, "job_seconds": 3}."""
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body
    unknown = set(body) - TUNABLE
    if unknown:
        return JSONResponse({"error": f"not tunable: {sorted(unknown)}"}, 400)
    cfg: EmulatorConfig = request.app.state.engine.config
    for name, value in body.items():
        setattr(cfg, name, value)
    return JSONResponse({name: getattr(cfg, name) for name in sorted(TUNABLE)})


async def hooks(request: Request) -> JSONResponse:
    """The callbacks sent so far (oldest first; each with its URL less the query string,
    the task's status, the tries it took and the last answer's HTTP status)."""
    hooks: Hooks = request.app.state.hooks
    return JSONResponse({"deliveries": list(hooks.deliveries), "watching": hooks.watching})


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    config = config or EmulatorConfig()
    engine = Engine(config)
    fault_state = FaultState(config)
    control = [
        Route("/_emulator/clock", clock, methods=["GET", "POST"]),
        Route("/_emulator/faults", faults, methods=["POST"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/state", state, methods=["GET"]),
        Route("/_emulator/accounts", accounts, methods=["POST"]),
        Route("/_emulator/config", tune, methods=["POST"]),
        Route("/_emulator/history", history, methods=["POST"]),
        Route("/_emulator/hooks", hooks, methods=["GET"]),
    ]
    app = Starlette(
        routes=[*control, *ohmygpt.routes(), *mjproxy.routes(), *images.routes()],
        middleware=[Middleware(FaultMiddleware, state=fault_state)],
    )
    app.state.engine = engine
    app.state.hooks = Hooks(engine, {OHMYGPT: ohmygpt.task_json, MJPROXY: mjproxy.task_json})
    app.state.faults = fault_state
    app.state.config = config
    return app
