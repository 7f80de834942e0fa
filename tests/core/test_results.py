"""Describe/shorten results, button names for lineage, and the download folder."""

from __future__ import annotations

from pathlib import Path

from mj_tui.core.models import Button, ProviderKind, Task
from mj_tui.core.results import (
    describe_prompts,
    download_dir,
    numbered_prompts,
    origin_name,
    shortened_prompts,
    suggested_prompts,
)

FOUR = "1️⃣ a desert city --ar 3:2\n\n2️⃣ a sleeping cat\n\n3️⃣ an old tram,\nwatercolor\n\n4️⃣ a greenhouse"


def test_numbered_prompts_split_keycaps_with_and_without_vs16():
    assert numbered_prompts(FOUR) == [
        "a desert city --ar 3:2",
        "a sleeping cat",
        "an old tram, watercolor",
        "a greenhouse",
    ]
    assert numbered_prompts("1\u20e3 one\n2\u20e3 two") == ["one", "two"]
    assert numbered_prompts("") == [] and numbered_prompts("no numbers here") == []


def test_describe_prompts_from_either_dialect():
    ohmygpt = Task("1", ProviderKind.OHMYGPT, action="DESCRIBE", prompt=FOUR, final_prompt=FOUR)
    proxy = Task("2", ProviderKind.MJPROXY, action="DESCRIBE", prompt="/describe", final_prompt=FOUR)
    relay = Task("3", ProviderKind.MJPROXY, action="DESCRIBE", prompt="/describe", description=FOUR)
    for task in (ohmygpt, proxy, relay):
        assert len(describe_prompts(task)) == 4 and suggested_prompts(task)[1] == "a sleeping cat"


def test_shortened_prompts_only_from_the_shortened_section():
    report = (
        "## Important tokens\n**fox** 1️⃣ not this\n\n## Shortened prompts\n\n1️⃣ fox, snow\n\n2️⃣ fox\n\n3️⃣ a\n\n4️⃣ b\n\n5️⃣ c"
    )
    task = Task("9", ProviderKind.MJPROXY, action="SHORTEN", prompt="a fox in snow", final_prompt=report)
    assert shortened_prompts(task) == ["fox, snow", "fox", "a", "b", "c"]
    assert suggested_prompts(task) == shortened_prompts(task)
    assert suggested_prompts(Task("8", ProviderKind.MJPROXY, prompt=FOUR)) == []  # an imagine


def test_origin_names():
    parent = Task("p", ProviderKind.MJPROXY, buttons=(Button("MJ::Outpaint::50::1::h::SOLO", "Zoom Out 2x", "🔍"),))
    assert origin_name("MJ::JOB::upsample::2::h") == "U2"
    assert origin_name("MJ::JOB::variation::3::h") == "V3"
    assert origin_name("MJ::JOB::reroll::0::h::SOLO") == "Reroll"
    assert origin_name("MJ::Outpaint::75::1::h::SOLO") == "Zoom Out 1.5x"
    assert origin_name("MJ::Outpaint::50::1::h::SOLO", parent) == "Zoom Out 2x"
    assert origin_name("MJ::JOB::pan_left::1::h::SOLO") == "Pan ←"
    assert origin_name("MJ::Inpaint::1::h::SOLO") == "Vary (Region)"
    assert origin_name("MJ::Job::PicReader::2") == "Imagine 2"
    assert origin_name(None) == "" and origin_name("") == ""


def test_download_dir(monkeypatch, tmp_path):
    assert download_dir(tmp_path / "x") == tmp_path / "x"
    monkeypatch.setenv("MJ_TUI_DOWNLOAD_DIR", str(tmp_path / "env"))
    assert download_dir(None) == tmp_path / "env"
    monkeypatch.delenv("MJ_TUI_DOWNLOAD_DIR")
    assert download_dir(None).name == "mj-tui" and isinstance(download_dir(None), Path)


def test_a_shortened_option_keeps_the_original_parameters():
    from mj_tui.core.results import with_parameters_of

    original = "a misty lake at dawn, golden light --ar 16:9 --stylize 250"
    assert with_parameters_of(original, "misty lake, dawn") == "misty lake, dawn --ar 16:9 --stylize 250"
    assert with_parameters_of(original, "lake --ar 1:1") == "lake --ar 1:1"  # its own win
    assert with_parameters_of("a misty lake", "misty lake") == "misty lake"
