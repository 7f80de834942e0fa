"""The queue's jobs carry callback URLs when mj-tui listens: the emulator delivers each
task's progress there (real HTTP both ways), and the queue finishes with fewer polls."""

from __future__ import annotations

from mj_tui.core.queue import JobState
from mj_tui.core.queue_runner import QueueRunner


async def test_queued_jobs_are_followed_by_callbacks_as_well_as_polls(make_service, kind, control):
    control.post("/_emulator/config", json={"job_seconds": 0.6})
    service = make_service(kind, poll_interval=0.3)
    listener = await service.listen("127.0.0.1", 0)
    runner = QueueRunner(service, service.job_queue)
    batch = runner.add_prompts(["a called-back owl", "a called-back cat"])
    await runner.run(batch=batch)
    counts = runner.queue.counts(runner.namespace, batch=batch)
    assert counts[JobState.DONE] == 2
    deliveries = control.get("/_emulator/hooks").json()["deliveries"]
    ours = [d for d in deliveries if d["url"].startswith(listener.base_url)]
    assert ours and all(d["delivered"] for d in ours)
    assert listener.received >= 2 and service.callbacks >= 2
    assert service.poll_every == service.profile.poll_interval * 4  # callbacks flow: polls slow down
    # every job had its own URL (its task ids are the ones delivered)
    task_ids = {j.task_id for j in runner.queue.jobs(runner.namespace, batch=batch)}
    assert {str(d["taskId"]) for d in ours} <= task_ids


async def test_a_callback_for_a_task_this_profile_does_not_know_changes_nothing(make_service, kind):
    service = make_service(kind)
    await service.listen("127.0.0.1", 0)
    stranger = service.provider.parse_callback(
        {"id": "999", "status": "SUCCESS", "prompt": "not ours", "progress": "100%"}
        if kind.value == "mjproxy"
        else {"taskId": "999", "status": "SUCCESS", "prompt": "not ours", "progress": 100}
    )
    service._called_back("job-1", stranger)
    assert service.get_cached(stranger.id) is None and service.callbacks == 0
