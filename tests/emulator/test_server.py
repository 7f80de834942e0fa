"""Starting and stopping the emulator, the public API and the seeded history."""

from __future__ import annotations

import ast
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest
from emu_helpers import OMG, client_for, load_image, omg_ok
from starlette.applications import Starlette

import mj_tui.emulator as emulator
from mj_tui.emulator import Account, EmulatorConfig, create_app, running_emulator, serve

PACKAGE = pathlib.Path(emulator.__file__).parent


def test_public_api_names() -> None:
    assert set(emulator.__all__) == {"EmulatorConfig", "Account", "create_app", "running_emulator", "serve"}
    assert callable(serve)
    config = EmulatorConfig()
    assert (config.job_seconds, config.grid_size, config.queue_limit) == (0.0, 1024, 3)
    assert (config.proxy_concurrency, config.proxy_queue_size, config.open_access) == (3, 10, True)
    assert (config.remix, config.seed_history, config.random_seed) == (False, 0, 0)
    assert config.accounts == {} and "forbidden" in config.moderated_words and "gore" in config.banned_words
    account = Account()
    assert (account.balance, account.mj_permission, account.admin, account.queue_limit) == (1_000_000, True, True, None)
    app = create_app()
    assert isinstance(app, Starlette) and app.state.engine.config.grid_size == 1024


def test_emulator_never_imports_the_client_side() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            # hooks.py is the one place the emulator is itself a client (it POSTs callbacks),
            # so it alone may use an HTTP client library
            forbidden = (
                ("mj_tui.core", "mj_tui.ui") if path.name == "hooks.py" else ("mj_tui.core", "mj_tui.ui", "httpx")
            )
            for name in names:
                assert not name.startswith(forbidden), (path.name, name)


def test_running_emulator_many_times_and_clean_shutdown() -> None:
    urls = []
    for _ in range(3):
        with running_emulator() as url:
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
            assert httpx.get(f"{url}/_emulator/state").status_code == 200
            urls.append(url)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/_emulator/state", timeout=2)
    assert len(set(urls)) >= 2


def test_explicit_port() -> None:
    with running_emulator() as first:
        port = int(first.rsplit(":", 1)[1])
    with running_emulator(port=port) as url:  # the port is free again and reusable
        assert url == f"http://127.0.0.1:{port}"


def test_python_dash_m_serves_and_prints_the_url() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mj_tui.emulator", "--port", "0", "--job-seconds", "6"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line)[0]
        deadline = time.monotonic() + 10
        while True:
            try:
                r = httpx.post(
                    f"{url}{OMG}/imagine",
                    json={"model": "midjourney", "prompt": "cli"},
                    headers={"Authorization": "Bearer sk-cli"},
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert r.json()["data"] == 1
        task = httpx.post(
            f"{url}{OMG}/query", json={"model": "midjourney", "taskId": 1}, headers={"Authorization": "Bearer sk-cli"}
        ).json()["data"]
        assert task["status"] in ("NOT_START", "SUBMITTED")  # --job-seconds 6 took effect
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_seed_history_of_10000_is_quick_and_lazy() -> None:
    started = time.monotonic()
    app = create_app(EmulatorConfig(seed_history=10_000, grid_size=128))
    elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed
    engine = app.state.engine
    assert engine._art == {} and len(engine.tasks) == 20_000


def test_seed_history_is_visible_to_the_demo_key(make_emu) -> None:
    url = make_emu(seed_history=50, demo_key="sk-demo")
    with client_for(url, "sk-demo") as c:
        page = c.post(f"{OMG}/query-mj-tasks", params={"page": 1, "pageSize": 20}, json={"model": "midjourney"}).json()[
            "data"
        ]
        assert page["total"] == 50 and len(page["tasks"]) == 20
        submits = [t["submitTime"] for t in page["tasks"]]
        assert submits == sorted(submits, reverse=True)  # newest first
        assert {t["status"] for t in page["tasks"]} <= {"SUCCESS", "FAILURE"}
        assert len({t["submitTime"][:10] for t in page["tasks"]}) > 1  # spread over past days
        shown = next(t for t in page["tasks"] if t["status"] == "SUCCESS")
        s3 = f"{url}/api/v1/content/mj-generated/{shown['imageS3Url']}"
        assert load_image(c, s3).size[0] > 0
        # New work continues after the history, and the proxy history is there too.
        assert omg_ok(c, "imagine", prompt="fresh") == 51
        # The proxy has no listing route: take ids from the engine, then fetch over HTTP.
        proxy_ids = url.engine._order[("sk-demo", "mjproxy")][-5:]
        listed = c.post("/mj/task/list-by-condition", json={"ids": proxy_ids}).json()
        assert [t["id"] for t in listed] == proxy_ids
        assert all(re.fullmatch(r"\d{16}", i) for i in proxy_ids)
        assert {t["status"] for t in listed} <= {"SUCCESS", "FAILURE"}
    with client_for(url, "sk-someone") as c:
        other = c.post(f"{OMG}/query-mj-tasks", json={"model": "midjourney"}).json()["data"]
        assert other == {"total": 0, "tasks": []}
