"""The durable job queue: its store and its runner, over real HTTP to the emulator.

Every state a job passes through, the slot limit and the caps held against a real server
(its own "queue full" included), a person's commands, follow-ups that write real files,
and two runners on one history file as two processes would share it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from dataclasses import replace
from subprocess import PIPE

import pytest
from PIL import Image
from support.keys import fresh_key
from test_errors import inject, sent

from mj_tui.core.config import default_profile
from mj_tui.core.credentials import Secret
from mj_tui.core.errors import PromptRefused
from mj_tui.core.history import History
from mj_tui.core.images import ImageCache
from mj_tui.core.models import ProviderKind
from mj_tui.core.queue import FollowUps, JobKind, JobQueue, JobState, NewJob
from mj_tui.core.queue_runner import QueueEvent, QueueRunner
from mj_tui.core.service import MjService

SUBMIT = {ProviderKind.OHMYGPT: "/imagine", ProviderKind.MJPROXY: "/submit/imagine"}
ACTION = {ProviderKind.OHMYGPT: "/action", ProviderKind.MJPROXY: "/submit/action"}


def runner_of(service: MjService, events: list[QueueEvent] | None = None) -> QueueRunner:
    return QueueRunner(service, service.job_queue, on_event=None if events is None else events.append)


async def drive(runner: QueueRunner, until, *, timeout: float = 10.0, check=None) -> None:
    """Poll and step, as the TUI's tick does, until `until()` holds (or fail at the deadline).
    `check()` runs after every step: an invariant that must hold all along."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, f"not reached in {timeout}s: {runner.queue.counts(runner.namespace)}"
        await runner.service.poll()
        await runner.step()
        if check is not None:
            check()
        await asyncio.sleep(0.01)


def states(runner: QueueRunner, batch: int | None = None) -> dict[JobState, int]:
    return {s: n for s, n in runner.queue.counts(runner.namespace, batch=batch).items() if n}


def out(runner: QueueRunner) -> int:
    counts = runner.queue.counts(runner.namespace)
    return sum(counts[s] for s in JobState if s.active)


def freeze(control) -> None:
    control.post("/_emulator/clock", json={"freeze": True})


def advance(control, seconds: float) -> None:
    control.post("/_emulator/clock", json={"advance": seconds})


async def server_prompts(service: MjService) -> list[str]:
    """Every imagine the emulator made for this key, from its own list (OhMyGPT keeps one)."""
    prompts: list[str] = []
    page = 1
    while True:
        listed = await service.provider.list_page(page, 20)
        prompts += [t.prompt for t in listed.tasks if t.action == "IMAGINE"]
        if page >= listed.pages:
            return prompts
        page += 1


def made(control, dialect: str) -> int:
    """Tasks the emulator holds in a dialect (all keys: compare before and after)."""
    return int(control.get("/_emulator/state").json()["tasks"][dialect])


# -- states ---------------------------------------------------------------------------------


async def test_a_job_passes_every_state_to_done(make_service, control, kind):
    control.post("/_emulator/config", json={"job_seconds": 10})
    freeze(control)
    service = make_service(kind)
    events: list[QueueEvent] = []
    runner = runner_of(service, events)
    batch = runner.add_prompts(["a lantern in fog"])
    (job,) = runner.queue.jobs(service.namespace, batch=batch)
    assert job.state == JobState.QUEUED and job.batch == batch
    await runner.step()
    job = runner.queue.job(job.id)
    assert job.state == JobState.SUBMITTED and job.task_id and sent(control, SUBMIT[kind]) >= 1
    advance(control, 4)  # started, not finished
    await drive(runner, lambda: runner.queue.job(job.id).state == JobState.RUNNING)
    advance(control, 20)
    await drive(runner, lambda: runner.queue.job(job.id).state == JobState.DONE)
    seen = [e.job.state for e in events if e.job.id == job.id]
    assert seen == [JobState.SENDING, JobState.SUBMITTED, JobState.RUNNING, JobState.DONE]
    done = runner.queue.job(job.id)
    assert done.finished and done.owner == "" and done.lease_until is None


# -- the limit ------------------------------------------------------------------------------


async def test_the_limit_is_never_passed_and_the_rest_flow_as_slots_free(make_service, control, kind):
    freeze(control)  # nothing finishes until the clock moves
    service = make_service(kind, queue_limit=3)
    runner = runner_of(service)
    runner.add_prompts([f"limit {i} of eight" for i in range(8)])
    await runner.step()
    await runner.step()  # a second step sends nothing more: every slot is taken
    assert states(runner) == {JobState.SUBMITTED: 3, JobState.QUEUED: 5}
    assert sent(control, SUBMIT[kind]) == 3
    peak = []

    def moving_clock():
        peak.append(out(runner))
        advance(control, 1)

    await drive(runner, lambda: states(runner) == {JobState.DONE: 8}, check=moving_clock)
    assert max(peak) == 3
    assert sent(control, SUBMIT[kind]) == 8  # no refusal, no second send
    jobs = runner.queue.jobs(service.namespace)
    assert all(j.task_id for j in jobs) and len({j.task_id for j in jobs}) == 8


async def test_a_server_queue_full_puts_the_job_back_at_the_head_and_the_limit_is_learned(
    make_service, control, kind, monkeypatch
):
    from mj_tui.core import queue_runner

    monkeypatch.setattr(queue_runner, "BACKOFF_FIRST", 0.05)  # the wait is policy, not under test here
    freeze(control)
    key = fresh_key()
    if kind == ProviderKind.OHMYGPT:
        control.post("/_emulator/accounts", json={"key": key, "queue_limit": 2})
    else:  # one worker and a waiting line of one: the third is refused
        control.post("/_emulator/config", json={"proxy_concurrency": 1, "proxy_queue_size": 1})
    service = make_service(kind, key=key, queue_limit=5)  # the profile believes in five
    events: list[QueueEvent] = []
    runner = runner_of(service, events)
    runner.add_prompts([f"full {i}" for i in range(4)])
    made_before = made(control, kind.value)
    await runner.step()
    assert sent(control, SUBMIT[kind]) == 3 and made(control, kind.value) - made_before == 2
    queued = runner.queue.jobs(service.namespace, states=[JobState.QUEUED])
    assert [j.prompt for j in queued] == ["full 2", "full 3"]  # the refused one first, not last
    assert "queue is full" in queued[0].error and queued[0].task_id is None
    assert any("queue is full" in e.message for e in events)
    assert runner.limit == 2
    await runner.step()  # what it learned: no more requests while two are out
    assert sent(control, SUBMIT[kind]) == 3

    def moving_clock():
        assert out(runner) <= 2
        advance(control, 1)

    await drive(runner, lambda: states(runner) == {JobState.DONE: 4}, check=moving_clock)
    assert sent(control, SUBMIT[kind]) == 5  # the refused one went again once; nothing twice
    assert made(control, kind.value) - made_before == 4


# -- a person's commands --------------------------------------------------------------------


async def test_pause_holds_everything_and_resume_lets_it_go(make_service, control, kind):
    service = make_service(kind)
    runner = runner_of(service)
    runner.queue.pause(service.namespace, "lunch")
    runner.add_prompts(["paused one", "paused two"])
    await runner.step()
    assert sent(control, SUBMIT[kind]) == 0 and states(runner) == {JobState.QUEUED: 2}
    assert runner.queue.paused(service.namespace) == "lunch" and runner.summary().paused == "lunch"
    await asyncio.wait_for(runner.run(), 5)  # a paused queue with nothing out: run returns
    assert sent(control, SUBMIT[kind]) == 0
    runner.queue.resume(service.namespace)
    assert runner.queue.paused(service.namespace) is None
    await asyncio.wait_for(runner.run(), 10)
    assert states(runner) == {JobState.DONE: 2} and sent(control, SUBMIT[kind]) == 2


async def test_move_up_and_down_changes_the_sending_order(make_service, control):
    service = make_service(ProviderKind.OHMYGPT)
    events: list[QueueEvent] = []
    runner = runner_of(service, events)
    runner.queue.pause(service.namespace)
    runner.add_prompts(["first", "second", "third", "fourth"])
    ids = {j.prompt: j.id for j in runner.queue.jobs(service.namespace)}
    assert runner.queue.move(ids["fourth"], -2)
    assert runner.queue.move(ids["first"], 1)
    assert not runner.queue.move(ids["fourth"], -1)  # already at the head
    assert not runner.queue.move(ids["third"], 1)  # already at the end
    assert not runner.queue.move(ids["first"], 0)
    order = [j.prompt for j in runner.queue.jobs(service.namespace, states=[JobState.QUEUED])]
    assert order == ["fourth", "first", "second", "third"]
    runner.queue.resume(service.namespace)
    await asyncio.wait_for(runner.run(), 10)
    assert [e.job.prompt for e in events if e.message == "sending"] == order
    assert not runner.queue.move(ids["first"], -1)  # done: no longer in the line
    assert list(reversed(await server_prompts(service))) == order


async def test_a_queued_job_cancelled_is_never_sent(make_service, control, kind):
    service = make_service(kind)
    runner = runner_of(service)
    runner.add_prompts(["keep me", "drop me", "keep me too"])
    drop = next(j for j in runner.queue.jobs(service.namespace) if j.prompt == "drop me")
    assert "removed" in await runner.cancel(drop.id)
    assert runner.queue.job(drop.id).state == JobState.CANCELLED
    assert "nothing to cancel" in await runner.cancel(drop.id)
    await asyncio.wait_for(runner.run(), 10)
    assert states(runner) == {JobState.DONE: 2, JobState.CANCELLED: 1}
    assert sent(control, SUBMIT[kind]) == 2
    if kind == ProviderKind.OHMYGPT:
        assert sorted(await server_prompts(service)) == ["keep me", "keep me too"]


async def test_retry_only_takes_a_failed_cancelled_or_unknown_job(make_service, control, kind):
    service = make_service(kind)
    runner = runner_of(service)
    runner.queue.pause(service.namespace)
    runner.add_prompts(["waiting", "a forbidden cat", "given up"])
    jobs = {j.prompt: j for j in runner.queue.jobs(service.namespace)}
    assert "only a failed" in runner.retry(jobs["waiting"].id)  # queued: nothing to retry
    await runner.cancel(jobs["given up"].id)
    runner.queue.resume(service.namespace)
    await asyncio.wait_for(runner.run(), 10)
    failed = runner.queue.job(jobs["a forbidden cat"].id)  # the emulator's moderation fails it later
    assert failed.state == JobState.FAILED and "forbidden" in failed.error
    done = runner.queue.job(jobs["waiting"].id)
    assert done.state == JobState.DONE and "only a failed" in runner.retry(done.id)
    assert runner.queue.job(done.id).state == JobState.DONE
    before = sent(control, SUBMIT[kind])
    for job in (failed, jobs["given up"]):
        assert "queued again" in runner.retry(job.id)
        again = runner.queue.job(job.id)
        assert again.state == JobState.QUEUED and again.error == "" and again.task_id is None
    await asyncio.wait_for(runner.run(), 10)
    assert sent(control, SUBMIT[kind]) == before + 2
    assert runner.queue.job(jobs["given up"].id).state == JobState.DONE


async def test_an_unknown_job_waits_for_a_person_then_retry_sends_it_once_more(make_service, control):
    # midjourney-proxy cannot be searched: an answer that never came leaves the job unknown
    service = make_service(ProviderKind.MJPROXY)
    runner = runner_of(service)
    runner.add_prompts(["lost in transit"])
    inject(control, {"kind": "drop"}, path_contains="/submit/imagine")
    await runner.step()
    (job,) = runner.queue.jobs(service.namespace)
    assert job.state == JobState.UNKNOWN and job.task_id.startswith("unconfirmed-")
    for _ in range(3):  # never sent again by itself, however often it steps
        await runner.service.poll()
        await runner.step()
    assert sent(control, "/submit/imagine") == 1
    await asyncio.wait_for(runner.run(), 5)  # nothing the queue does by itself: it returns
    assert "queued again" in runner.retry(job.id)
    await asyncio.wait_for(runner.run(), 10)
    assert runner.queue.job(job.id).state == JobState.DONE and sent(control, "/submit/imagine") == 2


async def test_a_prompt_the_linter_refuses_is_never_queued(make_service, control, kind):
    service = make_service(kind)
    runner = runner_of(service)
    with pytest.raises(PromptRefused):
        runner.add_prompts(["a fine cat", "a cat --ar 0:1", "another fine cat"])
    assert states(runner) == {}  # all or nothing: the good ones are not queued either
    await runner.step()
    assert sent(control, SUBMIT[kind]) == 0


# -- follow-ups -----------------------------------------------------------------------------


async def test_follow_ups_upscale_every_quadrant_and_save_pictures_that_carry_the_prompt(
    make_service, control, kind, tmp_path
):
    service = make_service(kind)
    runner = runner_of(service)
    folder = tmp_path / "saved"
    runner.add_prompts(["a heron at dawn"], follow_ups=FollowUps((1, 2, 3, 4), str(folder)))
    await drive(runner, lambda: not runner.summary().busy, timeout=20)
    jobs = runner.queue.jobs(service.namespace)
    kinds = sorted(j.kind.value for j in jobs)
    assert kinds == ["imagine"] + ["save"] * 5 + ["upscale"] * 4
    assert all(j.state == JobState.DONE for j in jobs), [(j.prompt, j.state, j.error) for j in jobs]
    upscales = [j for j in jobs if j.kind == JobKind.UPSCALE]
    assert sorted(j.detail for j in upscales) == ["1", "2", "3", "4"]
    assert sent(control, ACTION[kind]) == 4 and sent(control, SUBMIT[kind]) == 1
    files = sorted(p for p in folder.iterdir() if p.is_file())
    assert len(files) == 5
    for path in files:
        with Image.open(path) as picture:
            picture.load()
            assert picture.text["Description"] == "a heron at dawn"  # type: ignore[attr-defined]


# -- caps -----------------------------------------------------------------------------------

CAPPED = {
    # OhMyGPT's own token table: an imagine in Fast is 14,000 tokens
    ProviderKind.OHMYGPT: {},
    # midjourney-proxy publishes no prices: the profile says what a job costs
    ProviderKind.MJPROXY: {"prices": (("imagine", 7000.0), ("upscale", 1750.0)), "price_unit": "credits"},
}
PRICE = {ProviderKind.OHMYGPT: 14000.0, ProviderKind.MJPROXY: 7000.0}


async def test_a_batch_cap_holds_the_batch_with_a_reason_and_sends_nothing_over(make_service, control, kind):
    service = make_service(kind, **CAPPED[kind])
    runner = runner_of(service)
    price = PRICE[kind]
    capped = runner.add_prompts(["capped a", "capped b", "capped c"], cap=price * 2.5)
    (job,) = runner.queue.jobs(service.namespace, batch=capped)[:1]
    assert job.cost == price
    await asyncio.wait_for(runner.run(), 10)  # held with nothing out: it returns
    assert states(runner, capped) == {JobState.DONE: 2, JobState.QUEUED: 1}
    assert "would pass its cap" in runner.held and f"batch #{capped}" in runner.held
    assert sent(control, SUBMIT[kind]) == 2
    assert runner.queue.batch_spend(service.namespace, capped) == (price * 2, 0.0)
    # another batch is not held by this one's cap
    free = runner.add_prompts(["uncapped"])
    await asyncio.wait_for(runner.run(), 10)
    assert states(runner, free) == {JobState.DONE: 1} and sent(control, SUBMIT[kind]) == 3
    assert states(runner, capped)[JobState.QUEUED] == 1


async def test_the_daily_cap_holds_the_queue_counting_what_is_still_running(make_service, control, kind):
    freeze(control)  # the first job stays out: its cost counts while it runs
    price = PRICE[kind]
    service = make_service(kind, daily_cap=price * 1.5, **CAPPED[kind])
    runner = runner_of(service)
    runner.add_prompts(["daily one", "daily two"])
    await runner.step()
    assert states(runner) == {JobState.SUBMITTED: 1, JobState.QUEUED: 1}
    assert "today's cap" in runner.held
    summary = runner.summary()
    assert summary.committed == price and summary.daily_cap == price * 1.5
    control.post("/_emulator/clock", json={"freeze": False})
    await asyncio.wait_for(runner.run(), 10)
    assert states(runner) == {JobState.DONE: 1, JobState.QUEUED: 1} and "today's cap" in runner.held
    assert runner.summary().spent_today == price
    assert sent(control, SUBMIT[kind]) == 1


# -- two processes, one queue ----------------------------------------------------------------


async def test_two_runners_on_one_history_file_send_each_prompt_once(emulator, control, tmp_path, kind):
    control.post("/_emulator/config", json={"job_seconds": 0.2})
    key = fresh_key()
    services = []
    for n in range(2):  # as a TUI and a headless batch would: each its own connections
        profile = replace(default_profile("test", kind), base_url=emulator, poll_interval=0.01, request_timeout=5.0)
        services.append(
            MjService(
                profile,
                Secret(key),
                history=History(tmp_path / "shared.sqlite3"),
                images=ImageCache(tmp_path / f"i{n}"),
            )
        )
    try:
        runners = [runner_of(s) for s in services]
        prompts = [f"shared prompt {i}" for i in range(9)]
        runners[0].add_prompts(prompts)
        made_before = made(control, kind.value)
        peak = []

        async def watch() -> None:
            while True:
                peak.append(out(runners[0]))
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        await asyncio.wait_for(asyncio.gather(*(r.run() for r in runners)), 30)
        watcher.cancel()
        assert states(runners[1]) == {JobState.DONE: 9}
        assert max(peak) <= 3
        assert sent(control, SUBMIT[kind]) == 9 and made(control, kind.value) - made_before == 9
        if kind == ProviderKind.OHMYGPT:
            assert sorted(await server_prompts(services[0])) == sorted(prompts)
    finally:
        for service in services:
            await service.aclose()
            service.history.close()


# -- damage ---------------------------------------------------------------------------------


async def test_a_corrupt_row_is_skipped_not_fatal(make_service, control, kind):
    service = make_service(kind)
    runner = runner_of(service)
    runner.add_prompts(["before the damage"])
    # rows no version of mj-tui writes: an unknown kind, a created time that is not a number
    with sqlite3.connect(service.history.path) as db:
        for kind_text, created in (("teleport", 1.0), ("imagine", "yesterday")):
            db.execute(
                "INSERT INTO queue_jobs (profile, batch, position, kind, prompt, state, created) "
                "VALUES (?, 1, 0, ?, 'damaged', 'queued', ?)",
                (service.namespace, kind_text, created),
            )
    runner.add_prompts(["after the damage"])
    assert runner.queue.unread_rows(service.namespace) == 2
    await asyncio.wait_for(runner.run(), 10)
    jobs = runner.queue.jobs(service.namespace)
    assert sorted(j.prompt for j in jobs) == ["after the damage", "before the damage"]
    assert all(j.state == JobState.DONE for j in jobs)
    assert sent(control, SUBMIT[kind]) == 2


def test_the_store_survives_being_reopened_and_a_job_is_taken_once(tmp_path):
    first = JobQueue(tmp_path / "q.sqlite3")
    first.add("p", "file", [NewJob("one"), NewJob("two")])
    second = JobQueue(tmp_path / "q.sqlite3")
    claims = [first.claim("p", limit=5).job, second.claim("p", limit=5).job, first.claim("p", limit=5).job]
    assert sorted(j.prompt for j in claims if j) == ["one", "two"] and claims[2] is None
    assert {j.state for j in second.jobs("p")} == {JobState.SENDING}
    first.close()
    second.close()


async def test_a_retried_job_whose_sender_died_before_sending_goes_again(make_service, control, kind):
    # the first send made a task that failed; the retry's sender died before its request
    # left: the journal's row is the first send's, and must not stand for the retry
    service = make_service(kind)
    runner = runner_of(service)
    runner.add_prompts(["a forbidden fox"])
    await asyncio.wait_for(runner.run(), 10)
    (job,) = runner.queue.jobs(service.namespace)
    assert job.state == JobState.FAILED
    first_task = job.task_id
    assert "queued again" in runner.retry(job.id)
    control.post("/_emulator/config", json={"moderated_words": []})  # the second try passes
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "import os; print(os.getpid())", stdout=PIPE)
    pid = int((await gone.communicate())[0])
    other = JobQueue(service.history.path)  # a process now gone took it, and died
    other.owner = f"{runner.queue.owner.rpartition(':')[0]}:{pid}"
    assert other.claim(service.namespace, limit=3).job.id == job.id
    other.close()
    before = sent(control, SUBMIT[kind])
    await asyncio.wait_for(runner.run(), 10)
    again = runner.queue.job(job.id)
    assert again.state == JobState.DONE and again.task_id != first_task
    assert sent(control, SUBMIT[kind]) == before + 1


def test_a_long_capped_batch_at_the_head_does_not_hold_the_batches_behind_it(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    held = queue.add("p", "big file", [NewJob(f"big {n}", cost=1.0) for n in range(300)], cap=0.5)
    queue.add("p", "small file", [NewJob("small", cost=1.0)])
    claim = queue.claim("p", limit=3)
    assert claim.job is not None and claim.job.prompt == "small"
    assert claim.capped and f"batch #{held}" in queue.claim("p", limit=3).held
    queue.close()


async def test_a_job_whose_sender_died_between_the_answer_and_the_history_is_followed(make_service, control, kind):
    # the dead process had its answer (the journal says which task) but never stored the
    # task in the history: the next runner must fetch it, not wait for it forever
    service = make_service(kind)
    runner = runner_of(service)
    runner.add_prompts(["answered, then killed"])
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "import os; print(os.getpid())", stdout=PIPE)
    pid = int((await gone.communicate())[0])
    other = JobQueue(service.history.path)
    other.owner = f"{runner.queue.owner.rpartition(':')[0]}:{pid}"
    job = other.claim(service.namespace, limit=3).job
    other.close()
    # what that process did before it died: the journal's row, the request, the answer
    entry = service.journal.begin(service.namespace, "imagine", job.prompt, ref=job.ref)
    answer = await service.provider.imagine(job.prompt, mode=None, images=())
    service.journal.done(entry, answer.task_id)
    assert service.get_cached(answer.task_id) is None
    await asyncio.wait_for(runner.run(), 10)
    done = runner.queue.job(job.id)
    assert done.state == JobState.DONE and done.task_id == answer.task_id
    assert sent(control, SUBMIT[kind]) == 1


async def test_a_prompt_file_expands_repeats_and_permutations_and_names_bad_lines(make_service, tmp_path):
    from mj_tui.core.models import Mode
    from mj_tui.core.prompt_file import read_prompt_file

    service = make_service(ProviderKind.MJPROXY)
    path = tmp_path / "p.txt"
    path.write_text(
        "# a comment\n\n@upscale 1,3\n@save ~/foxes\n@cap 1,000\n"
        "a red fox × 2\na {red, blue} bird\n@mode relax\na 4 x 4 grid\n"
        "a cat --ar 0:1\n@upscale 5\n\\@home in the woods\na {red, blue} bird\n"
    )
    parsed = read_prompt_file(path, plan=lambda text, mode: service.plan(text, mode=Mode(mode) if mode else None))
    assert [(j.line, j.prompt, j.mode) for j in parsed.jobs] == [
        (6, "a red fox", None),
        (6, "a red fox", None),
        (7, "a red bird", None),
        (7, "a blue bird", None),
        (9, "a 4 x 4 grid", "relax"),
        (12, "@home in the woods", "relax"),
    ]
    assert [b.line for b in parsed.bad] == [10, 11, 13]  # permutations need Fast: refused in Relax
    assert parsed.upscale == (1, 3) and parsed.cap == 1000 and parsed.save_to and parsed.save_to.endswith("foxes")
    again = read_prompt_file(path, plan=lambda text, mode: service.plan(text))
    assert again.source == parsed.source  # the same file: the same batch when run again
    path.write_text(path.read_text() + "one more\n")
    assert read_prompt_file(path, plan=lambda text, mode: service.plan(text)).source != parsed.source
