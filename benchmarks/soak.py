"""Soak: many paid jobs through a faulty server, and processes killed mid-flight.

Part one sends 100 prompts per dialect through the service against the emulator with its
faults on (5xx answers, dropped connections, garbled answers, latency). Part two starts
`mj-tui imagine` processes and kills them (SIGKILL) at random moments, then runs
`mj-tui tasks` once, as a person would after a crash. Both then compare what the server
made with what the client knows:

- created on the server, per prompt: never more than once (duplicates must be 0);
- known to the client: by its task id, or as an "unconfirmed" entry for a person to
  resolve (lost must be 0: a prompt the server made that the client knows nothing of);
- crashes (an exception that is not one of the core's own errors) must be 0.

`python -m benchmarks soak`
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mj_tui.core.errors import MjError, OutcomeUnknown, QueueFull, RateLimited
from mj_tui.core.history import History
from mj_tui.core.models import ProviderKind, Status
from mj_tui.emulator import Account, EmulatorConfig, running_emulator

from .common import Report, service_for, verdict

JOBS = 100  # per dialect, in-process
KILLS = 10  # per dialect, processes killed mid-flight


@dataclass
class Tally:
    sent: int = 0
    known: set[str] = field(default_factory=set)  # prompts the client has a task id for
    unconfirmed: set[str] = field(default_factory=set)  # prompts kept for a person to resolve
    refused: int = 0  # clear refusals (nothing made), sent again by this harness later
    failed: Counter[str] = field(default_factory=Counter)  # other errors, by title (not resent)
    crashes: list[str] = field(default_factory=list)


def _server_prompts(engine, dialect: str, key: str, prefix: str) -> Counter[str]:
    with engine.lock:
        return Counter(
            t.prompt.split(" --")[0]
            for (d, _), t in engine.tasks.items()
            if d == dialect and t.owner == key and t.prompt.startswith(prefix)
        )


async def _many(kind: ProviderKind, url: str, key: str) -> Tally:
    service = service_for(kind, url, key)
    tally = Tally()
    try:
        for n in range(JOBS):
            prompt = f"soak {kind.value} {n}"
            while True:
                tally.sent += 1
                try:
                    await service.imagine(prompt)
                    tally.known.add(prompt)
                except OutcomeUnknown:
                    tally.unconfirmed.add(prompt)  # never resent: a person decides
                except (QueueFull, RateLimited):
                    tally.refused += 1  # refused outright: nothing was made, so trying later is safe
                    await asyncio.sleep(0.05)
                    continue
                except MjError as exc:
                    tally.failed[exc.title] += 1  # a refusal of this prompt: counted, not resent
                except Exception as exc:  # anything else is a bug
                    tally.crashes.append(f"{type(exc).__name__}: {exc}")
                break
        deadline = time.monotonic() + 120
        while service.in_flight and time.monotonic() < deadline:
            try:
                await service.poll()
            except MjError:
                pass  # reads retry on the next tick
            except Exception as exc:
                tally.crashes.append(f"{type(exc).__name__}: {exc}")
                break
            await asyncio.sleep(0.02)
    finally:
        await service.aclose()
        service.history.close()
    return tally


def _killed(kind: ProviderKind, url: str, key: str, scratch: Path) -> Tally:
    """Processes killed at random moments, then one `mj-tui tasks` to settle what they left."""
    env = {
        **os.environ,
        "MJ_TUI_API_KEY": key,
        "MJ_TUI_DATA_DIR": str(scratch / "data"),
        "MJ_TUI_CACHE_DIR": str(scratch / "cache"),
        "MJ_TUI_CONFIG": str(scratch / "none.toml"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    base = [sys.executable, "-m", "mj_tui", "--provider", kind.value, "--base-url", url]
    rng = random.Random(11)
    tally = Tally()
    for n in range(KILLS):
        prompt = f"killed {kind.value} {n}"
        proc = subprocess.Popen([*base, "imagine", prompt], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.2, 1.2))  # start-up is ~0.3-0.6 s: before, during and after the request
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        tally.sent += 1
    settle = subprocess.run([*base, "tasks", "--page-size", "20"], env=env, capture_output=True, text=True)
    if settle.returncode != 0 or "Traceback" in settle.stderr:
        tally.crashes.append(settle.stderr.strip()[-300:])
    path = scratch / "data" / "history.sqlite3"
    with sqlite3.connect(path) as db:  # the one profile these runs used
        namespaces = [row[0] for row in db.execute("SELECT DISTINCT profile FROM tasks")]
    history = History(path)
    try:
        tasks = [t for ns in namespaces for t in history.page(ns, 1, 1000).tasks]
    finally:
        history.close()
    for task in tasks:
        (tally.unconfirmed if task.status == Status.UNCONFIRMED else tally.known).add(task.prompt.split(" --")[0])
    return tally


def _rows(report: Report, label: str, made: Counter[str], tally: Tally) -> None:
    duplicates = sum(n - 1 for n in made.values() if n > 1)
    lost = sorted(p for p in made if p not in tally.known and p not in tally.unconfirmed)
    unconfirmed_made = sum(1 for p in tally.unconfirmed if p in made)
    report.add(f"{label}: prompts sent / created on the server", f"{tally.sent} / {sum(made.values())}")
    report.add(
        f"{label}: known by id / unconfirmed (of which made)",
        f"{len(tally.known)} / {len(tally.unconfirmed)} ({unconfirmed_made})",
    )
    if tally.failed:
        report.add(f"{label}: refused (not made, not resent)", ", ".join(f"{n} {t}" for t, n in tally.failed.items()))
    report.add(f"{label}: duplicates (a prompt made twice)", str(duplicates), "0", verdict(duplicates == 0))
    report.add(f"{label}: lost (made, unknown to the client)", str(len(lost)), "0", verdict(not lost))
    report.add(f"{label}: crashes", str(len(tally.crashes)), "0", verdict(not tally.crashes))
    for crash in tally.crashes[:3]:
        print(f"    crash: {crash}")


def run() -> Report:
    report = Report(f"Soak: {JOBS} jobs per dialect through faults; {KILLS} processes killed mid-flight per dialect")
    config = EmulatorConfig(
        job_seconds=0.05,
        grid_size=256,
        error_rate=0.05,
        drop_rate=0.05,
        malformed_rate=0.05,
        latency_seconds=0.02,
        random_seed=7,
        proxy_concurrency=1000,
        proxy_queue_size=1000,
    )
    # the emulator's server logs a traceback for every request whose client hung up (the
    # faults and the kills do that on purpose): not news here
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    started = time.perf_counter()
    with running_emulator(config) as url:
        engine = url.engine
        for kind in (ProviderKind.OHMYGPT, ProviderKind.MJPROXY):
            key = f"sk-soak-{kind.value}"
            with engine.lock:
                engine.accounts[key] = Account(balance=1e9, queue_limit=1000)
            tally = asyncio.run(_many(kind, url, key))
            made = _server_prompts(engine, kind.value, key, "soak ")
            _rows(report, f"{kind.label}, faults", made, tally)
        for kind in (ProviderKind.OHMYGPT, ProviderKind.MJPROXY):
            key = f"sk-killed-{kind.value}"
            with engine.lock:
                engine.accounts[key] = Account(balance=1e9, queue_limit=1000)
            with tempfile.TemporaryDirectory() as tmp:
                tally = _killed(kind, url, key, Path(tmp))
            made = _server_prompts(engine, kind.value, key, "killed ")
            _rows(report, f"{kind.label}, SIGKILL", made, tally)
    report.add("wall time", f"{time.perf_counter() - started:.0f} s")
    return report
