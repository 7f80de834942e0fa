"""A queued job whose answer never came, made by a slow OhMyGPT after all: the queue reads
the account's first page and follows the task it finds there (sending nothing again)."""

from __future__ import annotations

from test_errors import inject, sent

from mj_tui.core.models import ProviderKind
from mj_tui.core.queue import JobState
from mj_tui.core.queue_runner import QueueRunner


async def test_an_unknown_job_is_settled_when_its_task_shows_up_on_the_first_page(make_service, control):
    service = make_service(ProviderKind.OHMYGPT, request_timeout=1.0)
    runner = QueueRunner(service, service.job_queue)
    batch = runner.add_prompts(["a late heron"])
    # the server makes the task but answers late, and the list it could be found in
    # fails just then (every retry of the look-up)
    inject(control, {"kind": "slow_answer", "seconds": 3}, path_contains="/imagine")
    inject(control, *[{"kind": "http", "status": 500}] * 3, path_contains="query-mj-tasks")
    await runner.step()
    (job,) = runner.queue.jobs(runner.namespace, batch=batch)
    assert job.state == JobState.UNKNOWN
    submits = sent(control, "/imagine")
    await runner.step()  # the list answers now: the task is there, and it is followed
    (job,) = runner.queue.jobs(runner.namespace, batch=batch)
    assert job.state in (JobState.SUBMITTED, JobState.RUNNING, JobState.DONE)
    task = service.get_cached(job.task_id)
    assert task is not None and task.prompt == "a late heron"
    await runner.run(batch=batch)
    (job,) = runner.queue.jobs(runner.namespace, batch=batch)
    assert job.state == JobState.DONE
    assert sent(control, "/imagine") == submits == 1  # made once, never sent again
