"""Queue soak: a prompt file through `mj-tui batch`, killed again and again, faults on.

A real emulator process (`python -m mj_tui emulator`) answers with its random faults on
(5xx answers, dropped connections, garbled answers, latency). `mj-tui batch FILE --yes`
runs the file, is SIGKILLed at a random moment, and is started again, at least KILLS
times, then left to finish; the same command resumes the same batch each time. Then the
faults are turned off and what the server made is compared with what the queue says:

- submits per prompt: how many tasks the server made of each (unique) prompt. Exactly 1
  for every job the queue finished; 0 or 1 for a job left unknown (the answer never came
  and the request may not have reached the app); never 2;
- jobs lost: a prompt of the file with no job, or a task the server made whose job
  neither holds its id nor waits for a person (must be 0);
- jobs finished, and jobs left unknown (for a person: retry or drop).

OhMyGPT's list gives the server's tasks per prompt. midjourney-proxy has no list: the
tasks the queue holds ids of are fetched, and the server's task count says how many it
made besides (those can only be unknown jobs, made once).

`python benchmarks/queue_soak.py [--jobs N] [--kills K] [--provider ohmygpt|mjproxy|both]`
(or `python -m benchmarks queue-soak`)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a file: the repository's root is where mj_tui is
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.common import Report, service_for, verdict
from mj_tui.core.models import ProviderKind

JOBS = 200
KILLS = 10
FAULTS = {"error_rate": 0.03, "drop_rate": 0.03, "malformed_rate": 0.03, "latency_seconds": 0.05}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Emulator:
    """`python -m mj_tui emulator` in a process of its own, on a free loopback port."""

    def __init__(self, scratch: Path):
        self.url = f"http://127.0.0.1:{_free_port()}"
        port = self.url.rsplit(":", 1)[1]
        args = ["--port", port, "--job-seconds", "0.3", "--grid-size", "256", "--random-seed", "7"]
        args += ["--queue-limit", "1000", "--proxy-concurrency", "1000", "--proxy-queue-size", "1000"]
        self.log = open(scratch / "emulator.log", "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mj_tui", "emulator", *args], stdout=self.log, stderr=subprocess.STDOUT
        )
        self.control = httpx.Client(base_url=self.url, timeout=10)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.control.get("/_emulator/state").raise_for_status()
                break
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the emulator did not start: see {self.log.name}") from None
                time.sleep(0.05)

    def tune(self, **changes: object) -> None:
        self.control.post("/_emulator/config", json=changes).raise_for_status()

    def state(self) -> dict:
        return self.control.get("/_emulator/state").json()

    def stop(self) -> None:
        self.control.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@dataclass
class Outcome:
    kills: int = 0
    starts: int = 0
    exit_code: int | None = None
    seconds: float = 0.0


def _batch_until_done(cmd: list[str], env: dict[str, str], kills: int, rng: random.Random, data_dir: Path) -> Outcome:
    """Start the batch; SIGKILL it at a random moment, `kills` times; start it again each
    time, until it ends by itself with nothing left it would do."""
    outcome = Outcome()
    started = time.perf_counter()
    while True:
        outcome.starts += 1
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # anywhere from the start-up (before any send) to well into the run
            code = proc.wait(timeout=rng.uniform(0.2, 2.5) if outcome.kills < kills else 1800)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            outcome.kills += 1
            continue
        outcome.exit_code = code
        left = [s for _, s, _ in _queue_rows(data_dir) if s in ("queued", "sending", "submitted", "running")]
        if code not in (0, 1) or not left:  # finished (or failed for a reason no restart cures)
            break
    outcome.seconds = time.perf_counter() - started
    return outcome


def _queue_rows(data_dir: Path) -> list[tuple[str, str, str | None]]:
    if not (data_dir / "history.sqlite3").exists():  # killed before the queue was made
        return []
    try:
        with sqlite3.connect(data_dir / "history.sqlite3") as db:
            return [(str(p), str(s), t) for p, s, t in db.execute("SELECT prompt, state, task_id FROM queue_jobs")]
    except sqlite3.OperationalError:  # killed before the queue's table was made
        return []


async def _server_tasks(kind: ProviderKind, url: str, key: str, ids: list[str], scratch: Path) -> dict[str, str]:
    """task id -> prompt, as the server has them (faults off by now)."""
    service = service_for(kind, url, key, scratch)
    try:
        if kind == ProviderKind.OHMYGPT:
            found: dict[str, str] = {}
            page = 1
            while True:
                listed = await service.provider.list_page(page, 20)
                found.update({t.id: t.prompt for t in listed.tasks})
                if page >= listed.pages:
                    return found
                page += 1
        tasks = []
        for start in range(0, len(ids), 50):
            tasks += await service.provider.fetch_many(ids[start : start + 50])
        return {t.id: t.prompt for t in tasks}
    finally:
        await service.aclose()
        service.history.close()


def soak(kind: ProviderKind, jobs: int, kills: int, report: Report, seed: int) -> bool:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="mj-queue-soak-") as tmp:
        scratch = Path(tmp)
        emulator = Emulator(scratch)
        try:
            key = f"sk-queue-soak-{kind.value}"
            emulator.control.post("/_emulator/accounts", json={"key": key, "balance": 1e12}).raise_for_status()
            emulator.tune(**FAULTS)
            config = scratch / "config.toml"
            config.write_text(
                f'default_profile = "{kind.value}"\n[profiles.{kind.value}]\nprovider = "{kind.value}"\n'
                "poll_interval = 0.2\nqueue_limit = 10\nrequest_timeout = 5\n"
            )
            env = {
                **os.environ,
                "MJ_TUI_CONFIG": str(config),
                "MJ_TUI_DATA_DIR": str(scratch / "data"),
                "MJ_TUI_CACHE_DIR": str(scratch / "cache"),
                "MJ_TUI_API_KEY": key,
                "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            }
            run_id = f"{os.getpid()}-{seed}"
            prompts = [f"queue soak {kind.value} {run_id} number {n}" for n in range(jobs)]
            path = scratch / "prompts.txt"
            path.write_text("".join(p + "\n" for p in prompts))
            cmd = [sys.executable, "-m", "mj_tui", "--provider", kind.value, "--base-url", emulator.url]
            outcome = _batch_until_done([*cmd, "batch", str(path), "--yes"], env, kills, rng, scratch / "data")

            emulator.tune(error_rate=0.0, drop_rate=0.0, malformed_rate=0.0, latency_seconds=0.0)
            rows = _queue_rows(scratch / "data")
            ids = [t for _, _, t in rows if t and not t.startswith("unconfirmed-")]
            server = asyncio.run(_server_tasks(kind, emulator.url, key, ids, scratch))
            made_total = int(emulator.state()["tasks"][kind.value])
        finally:
            emulator.stop()

    by_prompt = {p: (s, t) for p, s, t in rows}
    states = Counter(s for _, s, _ in rows)
    made = Counter(server.values())
    unknown = {p for p, (s, _) in by_prompt.items() if s == "unknown"}
    missing = [p for p in prompts if p not in by_prompt]
    held_ids = {t for _, _, t in rows if t}
    orphan_tasks = [i for i in server if i not in held_ids and server[i] not in unknown]
    if kind == ProviderKind.MJPROXY:
        # no list: tasks made besides those the queue holds can only be its unknown jobs'
        besides = made_total - len(server)
        twice = sum(1 for n in made.values() if n > 1) + max(0, besides - len(unknown))
        lost = len(missing) + max(0, besides - len(unknown))
    else:
        twice = sum(1 for p in prompts if made[p] > 1)
        lost = len(missing) + len(orphan_tasks)
    finished_once = sum(1 for p in prompts if by_prompt.get(p, ("", ""))[0] == "done" and made[p] == 1)
    done = states["done"]
    label = kind.label
    report.add(
        f"{label}: kills / starts",
        f"{outcome.kills} / {outcome.starts}",
        f">= {kills} kills",
        verdict(outcome.kills >= kills),
    )
    report.add(f"{label}: jobs finished", f"{done} of {jobs}")
    report.add(
        f"{label}: finished, made exactly once", f"{finished_once} of {done}", "all", verdict(finished_once == done)
    )
    report.add(f"{label}: prompts made twice", str(twice), "0", verdict(twice == 0))
    report.add(f"{label}: jobs lost", str(lost), "0", verdict(lost == 0))
    if kind == ProviderKind.OHMYGPT:
        made_unknown = sum(1 for p in unknown if made[p] == 1)
        note = f"{made_unknown} of them made"
    else:
        note = f"server made {max(0, made_total - len(server))} besides"
    report.add(f"{label}: jobs left unknown (a person)", str(len(unknown)), note)
    left = {s: n for s, n in states.items() if s not in ("done", "unknown")}
    report.add(f"{label}: other end states", ", ".join(f"{n} {s}" for s, n in sorted(left.items())) or "none")
    report.add(f"{label}: last exit code", str(outcome.exit_code), "0, or 1 with jobs unknown/failed")
    report.add(f"{label}: wall time", f"{outcome.seconds:.0f} s", f"{outcome.seconds / max(1, jobs) * 1000:.0f} ms/job")
    return twice == 0 and lost == 0 and finished_once == done


def run(jobs: int = JOBS, kills: int = KILLS, providers: tuple[ProviderKind, ...] | None = None) -> Report:
    kinds = providers or (ProviderKind.OHMYGPT, ProviderKind.MJPROXY)
    report = Report(f"Queue soak: {jobs} jobs through `mj-tui batch`, faults on, SIGKILLed at least {kills} times")
    for n, kind in enumerate(kinds):
        soak(kind, jobs, kills, report, seed=11 + n)
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=JOBS)
    parser.add_argument("--kills", type=int, default=KILLS)
    parser.add_argument("--provider", choices=["ohmygpt", "mjproxy", "both"], default="both")
    args = parser.parse_args(argv)
    kinds = (ProviderKind.OHMYGPT, ProviderKind.MJPROXY) if args.provider == "both" else (ProviderKind(args.provider),)
    started = time.perf_counter()
    report = run(args.jobs, args.kills, kinds)
    report.print()
    print(f"  ({time.perf_counter() - started:.0f} s)")
    return 1 if any(row[3] == "OVER BUDGET" for row in report.rows) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
