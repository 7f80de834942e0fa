"""Dialect a: OhMyGPT /api/v1/ai/draw/mj/* over a real socket."""

from __future__ import annotations

import re

import httpx
from emu_helpers import (
    OMG,
    SINGLE_IMAGE_LABELS,
    client_for,
    mask_url,
    omg,
    omg_error,
    omg_ok,
    omg_press,
    omg_task,
    png_url,
)
from seed_examples import GRID_LABELS, OHMYGPT_SUBMIT, OHMYGPT_TASK

from mj_tui.emulator import Account

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def labels(task: dict) -> list[str]:
    return [a["label"] or a["emoji"] for a in task["actions"]]


def test_imagine_envelope_and_task_match_the_seed(client: httpx.Client) -> None:
    r = omg(client, "imagine", prompt="a red fox --ar 3:2", type="FAST", webhook="https://example.org/hook")
    body = r.json()
    assert r.status_code == 200 and body.keys() == OHMYGPT_SUBMIT.keys()
    assert body["statusCode"] == 200 and body["message"] == "Success" and isinstance(body["data"], int)

    task = omg_task(client, body["data"])
    assert task.keys() == OHMYGPT_TASK.keys() and len(task) == 15
    assert task["taskId"] == body["data"] and task["taskType"] == "FAST"
    assert (task["status"], task["action"], task["progress"]) == ("SUCCESS", "IMAGINE", "100%")
    assert task["prompt"] == "a red fox --ar 3:2" and task["description"] == "/imagine a red fox --ar 3:2"
    assert task["failReason"] is None and task["webhookUrl"] == "https://example.org/hook"
    assert all(ISO.match(task[f]) for f in ("submitTime", "startTime", "finishTime"))
    assert all(a.keys() == OHMYGPT_TASK["actions"][0].keys() for a in task["actions"])
    assert labels(task) == GRID_LABELS
    h = re.search(UUID, task["actions"][0]["customId"])[0]
    assert task["actions"][4]["customId"] == f"MJ::JOB::reroll::0::{h}::SOLO"
    assert task["actions"][6]["customId"] == f"MJ::JOB::variation::2::{h}"
    assert task["imageS3Url"] == f"mj/{h}.png"
    # Discord-attachment-shaped, signed, served by the emulator itself.
    assert re.match(
        rf"^{client.base_url}/attachments/\d+/\d+/\w+_{h}\.png\?ex=[0-9a-f]+&is=[0-9a-f]+&hm=[0-9a-f]+",
        task["imageDcUrl"],
    )


def test_form_encoded_bodies_and_repeated_base64array(client: httpx.Client) -> None:
    form = {
        "model": "midjourney",
        "prompt": "a koi pond",
        "type": "NORMAL",
        "base64Array": [png_url(), png_url((10, 200, 10))],
    }  # sent as a repeated field
    r = client.post(f"{OMG}/imagine", data=form)
    assert r.status_code == 200, r.text
    tid = r.json()["data"]
    q = client.post(f"{OMG}/query", data={"model": "midjourney", "taskId": str(tid)}).json()["data"]
    assert q["taskType"] == "NORMAL" and q["prompt"] == "a koi pond"
    bad = client.post(f"{OMG}/imagine", data={"model": "midjourney", "prompt": "x", "base64Array": ["nope!"]})
    assert bad.status_code == 400 and "base64Array" in bad.json()["message"]


def test_task_ids_are_sequential_integers(client: httpx.Client) -> None:
    first = omg_ok(client, "imagine", prompt="one")
    second = omg_ok(client, "imagine", prompt="two")
    assert isinstance(first, int) and second == first + 1


def test_model_and_type_are_validated(client: httpx.Client) -> None:
    r = client.post(f"{OMG}/imagine", json={"prompt": "no model"})
    assert r.status_code == 400 and r.json() == {"statusCode": 400, "message": r.json()["message"], "data": None}
    assert "model" in r.json()["message"]
    r = client.post(f"{OMG}/imagine", json={"model": "gpt-4", "prompt": "x"})
    assert r.status_code == 400 and "midjourney" in r.json()["message"]
    assert "type" in omg_error(client, "imagine", prompt="x", type="TURBO")
    assert "prompt" in omg_error(client, "imagine", prompt="  ")
    r = client.post(f"{OMG}/imagine", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["statusCode"] == 400


def test_missing_or_unknown_keys_get_401(make_emu) -> None:
    url = make_emu(open_access=False, accounts={"sk-good": Account(), "sk-nomj": Account(mj_permission=False)})
    for headers in ({}, {"Authorization": "Bearer sk-unknown"}, {"Authorization": "sk-good"}):
        r = httpx.post(f"{url}{OMG}/imagine", json={"model": "midjourney", "prompt": "x"}, headers=headers)
        assert r.status_code == 401
        assert r.json()["statusCode"] == 401 and r.json()["data"] is None
        assert "invalid api key" in r.json()["message"].lower()
    r = httpx.post(
        f"{url}{OMG}/imagine", json={"model": "midjourney", "prompt": "x"}, headers={"Authorization": "Bearer sk-nomj"}
    )
    assert r.status_code == 401 and "midjourney permission" in r.json()["message"]
    with client_for(url, "sk-good") as c:
        assert isinstance(omg_ok(c, "imagine", prompt="allowed"), int)


def test_unknown_and_foreign_tasks_are_not_found(client: httpx.Client, emu: str) -> None:
    tid = omg_ok(client, "imagine", prompt="mine")
    assert "not found" in omg_error(client, "query", taskId="999999").lower()
    assert "taskId" in omg_error(client, "query", taskId="abc")
    with client_for(emu, "sk-someone-else") as other:
        assert "not found" in omg_error(other, "query", taskId=str(tid)).lower()
        assert "exist" in omg_error(
            other, "action", taskId=str(tid), customId=omg_task(client, tid)["actions"][0]["customId"], type="FAST"
        )


def test_paginated_query_newest_first_with_bounds(client: httpx.Client) -> None:
    ids = [omg_ok(client, "imagine", prompt=f"page test {i}") for i in range(7)]

    def page(**params: object) -> httpx.Response:
        return client.post(f"{OMG}/query-mj-tasks", params=params, data={"model": "midjourney"})

    first = page(page=1, pageSize=5).json()["data"]
    assert first["total"] == 7 and [t["taskId"] for t in first["tasks"]] == ids[::-1][:5]
    assert all(t.keys() == OHMYGPT_TASK.keys() for t in first["tasks"])
    assert [t["taskId"] for t in page(page=2, pageSize=5).json()["data"]["tasks"]] == ids[::-1][5:]
    assert page(page=3, pageSize=5).json()["data"] == {"total": 7, "tasks": []}
    assert len(page().json()["data"]["tasks"]) == 7  # defaults: page 1, 10 per page
    for bad in ({"pageSize": 4}, {"pageSize": 21}, {"page": 0}, {"page": "x"}):
        r = page(**bad)
        assert r.status_code == 400 and r.json()["statusCode"] == 400, bad


def test_queue_limit_counts_unfinished_tasks(make_emu, key: str) -> None:
    url = make_emu(job_seconds=30, queue_limit=3)
    with client_for(url, key) as c:
        c.post("/_emulator/clock", json={"freeze": True})
        for i in range(3):
            omg_ok(c, "imagine", prompt=f"queued {i}")
        message = omg_error(c, "imagine", prompt="one too many")
        assert "limit is 3" in message
        c.post("/_emulator/clock", json={"advance": 31})
        assert isinstance(omg_ok(c, "imagine", prompt="room again"), int)
        # A per-account override (VIP tiers) replaces the default.
        c.post("/_emulator/accounts", json={"key": key, "queue_limit": 1})
        assert "limit is 1" in omg_error(c, "imagine", prompt="vip? no")


def test_ledger_charges_on_success_and_refuses_overspending(client: httpx.Client, key: str) -> None:
    client.post("/_emulator/accounts", json={"key": key, "balance": 20000})

    def balance() -> dict:
        r = client.post("/api/v1/user/admin/balance")
        assert r.status_code == 200
        return r.json()

    grid = omg_task(client, omg_ok(client, "imagine", prompt="paid", type="FAST"))
    assert balance() == {
        "statusCode": 200,
        "message": "get user balance success",
        "data": {"balance": "6000.00", "free_balance": "0.00"},
    }
    assert "insufficient balance" in omg_error(client, "imagine", prompt="too dear", type="FAST").lower()
    assert "insufficient balance" in omg_error(client, "imagine", prompt="still", type="NORMAL").lower()
    omg_press(client, grid, "U1")  # UPSCALE FAST: 3500
    assert balance()["data"]["balance"] == "2500.00"
    ledger = [e for e in client.get("/_emulator/state").json()["ledger"] if e["key"] == key]
    assert [(e["action"], e["amount"]) for e in ledger] == [("IMAGINE", 14000), ("UPSCALE", 3500)]


def test_normal_mode_prices_follow_seed_004(client: httpx.Client, key: str) -> None:
    client.post("/_emulator/accounts", json={"key": key, "balance": 100000})
    grid = omg_task(client, omg_ok(client, "imagine", prompt="cheap", type="NORMAL"))  # 7000
    single = omg_task(client, omg_press(client, grid, "U2"))  # 1750
    omg_press(client, grid, "V3")  # 7000
    omg_press(client, grid, "🔄")  # REROLL priced as IMAGINE: 7000
    omg_press(client, single, "Zoom Out 2x")  # 7000
    omg_press(client, single, "MJ::JOB::pan_up")  # 7000
    omg_ok(client, "describe", base64=png_url(), type="NORMAL")  # 1750
    omg_ok(client, "blend", base64Array=[png_url(), png_url((0, 0, 200))], type="NORMAL")  # 7000
    r = client.post("/api/v1/user/admin/balance").json()
    assert r["data"]["balance"] == f"{100000 - 7000 * 6 - 1750 * 2:.2f}"


def test_balance_needs_an_admin_key(client: httpx.Client, key: str) -> None:
    client.post("/_emulator/accounts", json={"key": key, "admin": False})
    r = client.post("/api/v1/user/admin/balance")
    assert r.status_code == 401 and r.json()["statusCode"] == 401 and "admin" in r.json()["message"]


def test_actions_must_use_the_parent_mode(client: httpx.Client) -> None:
    grid = omg_task(client, omg_ok(client, "imagine", prompt="relaxed", type="NORMAL"))
    cid = grid["actions"][0]["customId"]
    message = omg_error(client, "action", taskId=str(grid["taskId"]), customId=cid, type="FAST")
    assert "NORMAL" in message and "mode" in message.lower()
    # An omitted type means the documented default, FAST: refused as well.
    assert "NORMAL" in omg_error(client, "action", taskId=str(grid["taskId"]), customId=cid)
    up = omg_task(client, omg_ok(client, "action", taskId=str(grid["taskId"]), customId=cid, type="NORMAL"))
    assert up["taskType"] == "NORMAL" and up["action"] == "UPSCALE"


def test_button_catalogue_and_action_names(client: httpx.Client) -> None:
    grid = omg_task(client, omg_ok(client, "imagine", prompt="a paper crane"))
    single = omg_task(client, omg_press(client, grid, "U3"))
    assert single["action"] == "UPSCALE" and single["prompt"] == "a paper crane"
    assert labels(single) == SINGLE_IMAGE_LABELS
    emojis = {a["label"]: a["emoji"] for a in single["actions"] if a["label"]}
    assert emojis["Vary (Subtle)"] == emojis["Vary (Strong)"] == "🪄" and emojis["Vary (Region)"] == "🖌️"
    assert emojis["Zoom Out 2x"] == emojis["Custom Zoom"] == "🔍"
    h = re.search(UUID, single["actions"][0]["customId"])[0]
    ids = {a["customId"] for a in single["actions"]}
    assert {
        f"MJ::JOB::upsample_v7_2x_subtle::1::{h}::SOLO",
        f"MJ::Outpaint::50::1::{h}::SOLO",
        f"MJ::Outpaint::75::1::{h}::SOLO",
        f"MJ::CustomZoom::{h}",
        f"MJ::Inpaint::1::{h}::SOLO",
        f"MJ::JOB::pan_left::1::{h}::SOLO",
        f"MJ::JOB::low_variation::1::{h}::SOLO",
    } <= ids

    hd = omg_task(client, omg_press(client, single, "Upscale (Creative)"))
    assert hd["action"] == "UPSCALE" and labels(hd) == labels(single)[2:]
    expected = {"V2": "VARIATION", "🔄": "REROLL"}
    for label, action in expected.items():
        assert omg_task(client, omg_press(client, grid, label))["action"] == action
    for label, action in {
        "Vary (Subtle)": "VARIATION",
        "Vary (Strong)": "VARIATION",
        "Zoom Out 1.5x": "ZOOM",
        "➡️": "PAN",
    }.items():
        child = omg_task(client, omg_press(client, single, label))
        assert child["action"] == action and labels(child) == GRID_LABELS, label


def test_action_needs_a_successful_parent_and_its_own_button(client: httpx.Client, emu: str) -> None:
    grid = omg_task(client, omg_ok(client, "imagine", prompt="strict"))
    other = omg_task(client, omg_ok(client, "imagine", prompt="another"))
    message = omg_error(client, "action", taskId=str(grid["taskId"]), customId=other["actions"][0]["customId"])
    assert "customId" in message
    assert "customId" in omg_error(client, "action", taskId=str(grid["taskId"]), customId="")
    assert "exist" in omg_error(client, "action", taskId="424242", customId=grid["actions"][0]["customId"])


def test_vary_region_needs_base64mask_and_custom_zoom_is_refused(client: httpx.Client) -> None:
    grid = omg_task(client, omg_ok(client, "imagine", prompt="a lantern market"))
    single = omg_task(client, omg_press(client, grid, "U1"))
    region = next(a["customId"] for a in single["actions"] if a["label"] == "Vary (Region)")
    tid = str(single["taskId"])
    assert "base64Mask" in omg_error(client, "action", taskId=tid, customId=region, type="FAST")
    assert "base64Mask" in omg_error(
        client, "action", taskId=tid, customId=region, type="FAST", base64Mask="data:image/png;base64,AAAA"
    )
    inpaint = omg_task(
        client, omg_ok(client, "action", taskId=tid, customId=region, type="FAST", base64Mask=mask_url())
    )
    assert inpaint["action"] == "VARIATION" and inpaint["status"] == "SUCCESS" and labels(inpaint) == GRID_LABELS
    zoom = next(a["customId"] for a in single["actions"] if a["label"] == "Custom Zoom")
    assert "Custom Zoom" in omg_error(client, "action", taskId=tid, customId=zoom, type="FAST")


def test_banned_words_are_refused_and_moderated_words_fail_later(client: httpx.Client, key: str) -> None:
    message = omg_error(client, "imagine", prompt="a Gore fest")
    assert "gore" in message.lower() and "banned" in message.lower()
    tid = omg_ok(client, "imagine", prompt="the forbidden fruit")
    task = omg_task(client, tid)
    assert task["status"] == "FAILURE" and task["failReason"].startswith("[Banned prompt detected]")
    assert task["imageDcUrl"] is None and task["imageS3Url"] is None and task["actions"] == []
    assert task["finishTime"] is not None
    charged = [e for e in client.get("/_emulator/state").json()["ledger"] if e["key"] == key]
    assert charged == []  # failed jobs are not billed


def test_blend_validates_count_and_dimensions(client: httpx.Client) -> None:
    imgs = [png_url((250, 0, 0)), png_url((0, 0, 250)), png_url((0, 250, 0))]
    assert "2 to 5" in omg_error(client, "blend", base64Array=imgs[:1])
    assert "2 to 5" in omg_error(client, "blend", base64Array=imgs * 2)
    assert "dimensions" in omg_error(client, "blend", base64Array=imgs, dimensions="WIDE")
    assert "base64Array" in omg_error(client, "blend", base64Array=[imgs[0], "data:image/png;base64,bm9wZQ=="])
    task = omg_task(client, omg_ok(client, "blend", base64Array=imgs, dimensions="LANDSCAPE"))
    assert task["action"] == "BLEND" and task["status"] == "SUCCESS" and labels(task) == GRID_LABELS


def test_describe_puts_four_prompts_in_prompt_and_description(client: httpx.Client) -> None:
    image = png_url((30, 60, 200), (90, 60))
    task = omg_task(client, omg_ok(client, "describe", base64=image))
    assert task["action"] == "DESCRIBE" and task["status"] == "SUCCESS"
    parts = task["prompt"].split("\n\n")
    assert [p[:3] for p in parts] == ["1️⃣", "2️⃣", "3️⃣", "4️⃣"] and task["description"] == task["prompt"]
    assert "--ar 3:2" in parts[0]
    assert task["imageDcUrl"] is None  # no picture: clients read the text
    assert labels(task) == ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "🔄"]
    assert [a["customId"] for a in task["actions"]][:2] == ["MJ::Job::PicReader::1", "MJ::Job::PicReader::2"]
    again = omg_task(client, omg_ok(client, "describe", base64=image))
    assert again["prompt"] == task["prompt"]  # deterministic from the image bytes
    imagined = omg_task(client, omg_press(client, task, "2️⃣"))
    assert imagined["action"] == "IMAGINE" and imagined["prompt"] == parts[1].split(" ", 1)[1]
    retry = omg_task(client, omg_press(client, task, "MJ::Picread::Retry"))
    assert retry["action"] == "DESCRIBE" and retry["prompt"] != task["prompt"]
    assert "base64" in omg_error(client, "describe", base64="")


def test_image_links_serve_pngs_and_discord_links_expire(make_emu, key: str) -> None:
    url = make_emu()
    with client_for(url, key) as c:
        task = omg_task(c, omg_ok(c, "imagine", prompt="expiring"))
        s3 = f"{url}/api/v1/content/mj-generated/{task['imageS3Url']}"
        dc = httpx.get(task["imageDcUrl"])  # no auth needed, like the CDN
        assert dc.status_code == 200 and dc.headers["content-type"] == "image/png"
        assert dc.content[:8] == b"\x89PNG\r\n\x1a\n" and httpx.get(s3).content == dc.content
        tampered = task["imageDcUrl"].replace("hm=", "hm=0")
        assert httpx.get(tampered).status_code == 403
        c.post("/_emulator/clock", json={"advance": 25 * 3600})
        gone = httpx.get(task["imageDcUrl"])
        assert gone.status_code == 403 and "no longer available" in gone.text
        assert httpx.get(s3).status_code == 200  # object storage does not expire
        assert httpx.get(f"{url}/api/v1/content/mj-generated/mj/nothing.png").status_code == 404
