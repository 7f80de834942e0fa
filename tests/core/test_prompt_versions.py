"""The linter and completer on today's models: V7, V8, V8.1, niji 7, and video prompts.

Every rule has a prompt that trips it (level, span and advice checked) and one that does
not. Rules only annotated by a proxy's table or a reseller are warnings; refusals Midjourney
documents (ranges, the parameters a video takes) are errors.
"""

from __future__ import annotations

import pytest

from mj_tui.core.errors import PromptRefused
from mj_tui.core.prompt import Completion, Issue, Severity, complete, has_errors, lint, parse, plan_prompt

E, W = Severity.ERROR, Severity.WARNING
IMG = "https://cdn.example.com/a.png"
IMG2 = "https://cdn.example.com/b.jpg"
VIDEO = f"{IMG} a fox runs through snow --video"


def codes(issues: list[Issue]) -> set[str]:
    return {i.code for i in issues}


def find(issues: list[Issue], code: str) -> Issue:
    matches = [i for i in issues if i.code == code]
    assert matches, f"no {code!r} in {issues}"
    return matches[0]


# (code, severity, bad prompt, text the span covers, words the message must hold, good prompt, lint kwargs)
RULES = [
    # --- versions ---------------------------------------------------------------------------
    ("unverified-version", W, "a cat --v 8", "--v 8", "write --v 8.1", "a cat --v 8.1", {}),
    ("unverified-version", W, "a cat --niji 8", "--niji 8", "not a model", "a cat --niji 7", {}),
    # --- omni reference, V7 and V8.1 --------------------------------------------------------
    ("version-unsupported", W, f"a --oref {IMG} --v 6", f"--oref {IMG}", "switch to --v 7", f"a --oref {IMG}", {}),
    (
        "version-unsupported",
        W,
        f"a --oref {IMG} --niji 6",
        f"--oref {IMG}",
        "documented for V7, V8.1, not niji 6",
        f"a --oref {IMG} --v 7",
        {},
    ),
    (
        "version-unsupported",
        W,
        "a --ow 50 --v 6.1",
        "--ow 50",
        "switch to --v 7",
        f"a --oref {IMG} --ow 50 --v 8.1",
        {},
    ),
    ("out-of-range", E, f"a --oref {IMG} --ow 1001", "1001", "0–1000", f"a --oref {IMG} --ow 0", {}),
    ("bad-value", W, f"a --oref {IMG} {IMG2}", f"{IMG} {IMG2}", "single image URL", f"a --oref {IMG}", {}),
    # --- character reference: V6 and niji 6; V7 and later have --oref -----------------------
    ("version-unsupported", W, f"a --cref {IMG} --v 7", f"--cref {IMG}", "use --oref", f"a --cref {IMG} --v 6.1", {}),
    ("version-unsupported", W, f"a --cref {IMG}", f"--cref {IMG}", "not V8.1", f"a --cref {IMG} --niji 6", {}),
    ("version-unsupported", W, "a --cw 5 --v 8.1", "--cw 5", "--oref with --ow", f"a --cref {IMG} --cw 5 --v 6", {}),
    ("version-unsupported", E, f"a --cref {IMG} --v 5.2", f"--cref {IMG}", "works on V6", f"a --cref {IMG} --v 6", {}),
    # --- draft, exp, raw --------------------------------------------------------------------
    ("version-unsupported", W, "a cat --draft --v 6.1", "--draft", "switch to --v 7", "a cat --draft --v 7", {}),
    ("version-unsupported", W, "a cat --exp 10 --niji 7", "--exp 10", "switch to --v 7", "a cat --exp 10", {}),
    ("out-of-range", E, "a cat --exp 101", "101", "0–100", "a cat --exp 0", {}),
    ("version-unsupported", W, "a cat --raw --v 5", "--raw", "V5.1–V8.1", "a cat --raw --v 5.1", {}),
    # --- style references and profiles -----------------------------------------------------
    ("version-unsupported", E, "a --sref 123 --v 5.2", "--sref 123", "switch to --v 6", "a --sref 123 --v 6", {}),
    ("bad-value", W, "a --sref 123 blue", "123 blue", "numeric style codes", f"a --sref 123 {IMG}::2 random", {}),
    ("version-unsupported", W, "a --sref 1 --sv 4", "--sv 4", "check the result", "a --sref 1 --sv 4 --v 7", {}),
    ("out-of-range", W, "a --sref 1 --sv 7 --v 7", "7", "1–6", "a --sref 1 --sv 6 --v 7", {}),
    ("bad-value", W, "a --profile ab,cd", "ab,cd", "profile codes", "a --profile ab12 cd34", {}),
    ("version-unsupported", E, "a --p ab12 --v 5.2", "--p ab12", "switch to --v 6", "a --p ab12 --v 6", {}),
    # --- quality per version ------------------------------------------------------------------
    ("quality-value", W, "a --q 3 --v 7", "3", ".25 .5 1 2 4", "a --q 4 --v 7", {}),
    ("quality-value", W, "a --q 2 --v 6", "2", ".25 .5 1", "a --q 1 --v 6", {}),
    # --- multi-prompts on V7 and later ------------------------------------------------------
    ("multiprompt-v7", W, "hot:: dog", "::", "V8.1", "hot:: dog --v 6", {}),
    # --- video ---------------------------------------------------------------------------------
    ("video-incompatible", E, f"{VIDEO} --ar 16:9", "--ar 16:9", "remove it", VIDEO, {}),
    ("video-incompatible", E, f"{VIDEO} --v 7", "--v 7", "no versions", f"{VIDEO} --raw", {}),
    ("video-incompatible", E, f"{VIDEO} --hd", "--hd", "video request", f"{VIDEO} --fast", {}),
    ("video-incompatible", E, f"{VIDEO} --oref {IMG2}", f"--oref {IMG2}", "--motion", f"{VIDEO} --seed 3", {}),
    ("video-incompatible", E, "a fox --s 50", "--s 50", "video takes only", "a fox --motion low", {"video": True}),
    ("video-only", W, "a cat --motion high", "--motion high", "add --video", f"{VIDEO} --motion high", {}),
    ("video-only", W, "a cat --loop", "--loop", "add --video", f"{VIDEO} --loop", {}),
    ("video-only", W, f"a cat --end {IMG2}", f"--end {IMG2}", "add --video", f"{VIDEO} --end {IMG2}", {}),
    ("video-only", W, "a cat --bs 2", "--bs 2", "add --video", f"{VIDEO} --bs 2", {}),
    ("bad-value", E, f"{VIDEO} --motion fast", "fast", "low or high", f"{VIDEO} --motion high", {}),
    ("missing-value", E, f"{VIDEO} --motion", "--motion", "needs a value", f"{VIDEO} --motion low", {}),
    ("missing-value", E, f"{VIDEO} --end", "--end", "needs a value", f"{VIDEO} --end {IMG2}", {}),
    ("out-of-range", E, f"{VIDEO} --bs 5", "5", "1–4", f"{VIDEO} --bs 4", {}),
    ("out-of-range", E, f"{VIDEO} --bs 0", "0", "1–4", f"{VIDEO} --bs 1", {}),
    ("video-loop", W, f"{VIDEO} --end loop", "--end loop", "write --loop", f"{VIDEO} --loop", {}),
    ("bad-value", W, f"{VIDEO} --end later", "later", "last frame", f"{VIDEO} --end {IMG2}", {}),
    ("image-url", W, f"{VIDEO} --end https://x.example/page", "https://x.example/page", ".png", VIDEO, {}),
    ("video-conflict", W, f"{VIDEO} --loop --end {IMG2}", f"--end {IMG2}", "keep one", f"{VIDEO} --loop", {}),
    ("video-image", W, "a fox --video", "--video", "image URL at the start", f"{IMG} a fox --video", {}),
    ("flag-value", W, f"{VIDEO} 2", "2", "no value (or 1)", f"{VIDEO} 1", {}),
    ("relax-mode", W, f"{VIDEO} --relax", "--relax", "Pro or Mega", f"{VIDEO} --fast", {}),
    ("relax-mode", W, VIDEO, "--video", "Pro or Mega", f"{VIDEO} --turbo", {"mode": "relax"}),
]


@pytest.mark.parametrize(
    ("code", "severity", "bad", "span", "words", "good", "kwargs"), RULES, ids=[f"{r[0]}:{r[2]}" for r in RULES]
)
def test_rule_fires_on_bad_and_not_on_good(code, severity, bad, span, words, good, kwargs):
    issue = find(lint(bad, **kwargs), code)
    assert issue.severity == severity
    assert bad[issue.start : issue.end] == span
    assert words in issue.message
    assert code not in codes(lint(good, **kwargs))


# --- versions -------------------------------------------------------------------------------


def test_v8_1_is_the_default_and_bare_niji_is_niji_7():
    assert parse("a cat").version == "8.1"
    assert parse("a cat --niji").version == "niji 7"
    assert parse("a cat --v 8.1").version == "8.1"
    assert parse("a cat --v 8.1", default_version="7").version == "8.1"
    assert parse("a cat", default_version="7").version == "7"  # the caller's default still rules


@pytest.mark.parametrize(
    "prompt",
    [
        f"a fox --oref {IMG} --ow 400 --exp 25 --draft --raw --v 8.1",
        f"a fox --oref {IMG} --ow 0 --exp 10 --draft --v 7",
        "a fox --sref 3082173308 random --sw 250 --p abc123 --v 8.1",
        "a fox --profile abc123::2 def456 --v 7",
        "a fox --niji 7 --sref 42 --s 400",
        "a fox --niji --ar 9:16",
        "a fox --q 4 --v 7",
        "a fox --q 3 --v 8.1",  # no known set on V8.1: not checked
        "a fox --style raw --v 8.1",
        f"{IMG} a fox --iw 3 --v 8.1",
        f"{IMG} a fox running --video 1 --motion high --loop --bs 2 --raw --seed 7 --fast",
        f"{IMG} --video --end {IMG2} --bs 1",  # a video needs no text
    ],
)
def test_todays_prompts_lint_clean(prompt):
    assert lint(prompt) == []


def test_cref_on_new_models_warns_but_does_not_block():
    issues = lint(f"a portrait --cref {IMG} --cw 50 --v 7")
    assert not has_errors(issues)
    assert {i.severity for i in issues} == {W}
    plan = plan_prompt(f"a portrait --cref {IMG} --v 7")
    assert [w.code for w in plan.warnings] == ["version-unsupported"]


def test_unsupported_list_is_compact():
    msg = find(lint("a cat --style raw --v 5"), "version-unsupported").message
    assert msg == "--style raw is not supported by V5 (works on V5.1–V8.1, niji 6)"
    msg = find(lint("a --sref 1 --v 5.2"), "version-unsupported").message
    assert "works on V6–V8.1, niji 6, niji 7" in msg


def test_new_model_upgrade_advice_is_not_given_on_newer_models():
    # --sv on V8.1 is undocumented, but "switch to --v 6" would be wrong advice there
    msg = find(lint("a --sref 1 --sv 4 --v 8.1"), "version-unsupported").message
    assert "switch" not in msg


# --- video ----------------------------------------------------------------------------------


def test_video_is_no_longer_a_legacy_feature():
    issues = lint(VIDEO)
    assert issues == []
    assert "legacy" not in " ".join(i.message for i in lint("a cat --video"))


def test_video_keyword_makes_a_video_prompt_without_the_flag():
    assert lint(f"{IMG} --motion high", video=True) == []
    assert lint("a fox drifting --motion high --bs 2", video=True) == []  # the image travels apart
    assert codes(lint("a fox --ar 2:3", video=True)) == {"video-incompatible"}
    assert codes(lint(f"{IMG} --motion high")) == {"image-only", "video-only"}


def test_video_errors_name_every_image_parameter():
    issues = lint(f"{VIDEO} --ar 16:9 --s 250 --q 2 --motion low --no cars")
    bad = [i for i in issues if i.code == "video-incompatible"]
    assert [VIDEO_TEXT(i) for i in bad] == ["--ar 16:9", "--s 250", "--q 2", "--no cars"]
    assert all(i.severity == E for i in bad)


def VIDEO_TEXT(issue: Issue) -> str:
    return f"{VIDEO} --ar 16:9 --s 250 --q 2 --motion low --no cars"[issue.start : issue.end]


def test_relax_video_warns_over_the_whole_prompt_when_the_account_is_in_relax():
    (issue,) = lint("a fox", video=True, mode="relax")
    assert issue.code == "relax-mode" and issue.severity == W
    assert (issue.start, issue.end) == (0, 5)
    assert lint("a fox", video=True, mode="fast") == []
    assert lint("a fox --r 2", mode="relax")[0].severity == E  # images: --repeat is still refused


def test_plan_prompt_refuses_a_video_with_image_parameters():
    with pytest.raises(PromptRefused) as info:
        plan_prompt("a fox --ar 16:9", video=True)
    assert "--ar does not work on a video prompt" in str(info.value)
    plan = plan_prompt(f"{IMG} a fox --motion high", video=True)
    assert plan.prompts == (f"{IMG} a fox --motion high",) and plan.warnings == ()


def test_video_permutations_are_checked_per_variant():
    issues = lint(f"{IMG} a fox --video --motion {{low, high, fast}}")
    issue = find(issues, "bad-value")
    assert issue.severity == E and "fast" in issue.message


# --- completion ---------------------------------------------------------------------------


def names(items: list[Completion]) -> list[str]:
    return [c.text.strip() for c in items]


def test_completion_offers_the_new_parameters():
    got = names(complete("a cat --", 8))
    assert {"--oref", "--ow", "--exp", "--draft", "--raw", "--sref", "--p", "--profile", "--video"} <= set(got)
    assert "--cref" not in got and "--sv" not in got  # undocumented on V8.1
    assert not {"--motion", "--loop", "--end", "--bs"} & set(got)  # image prompt: video ones are not listed
    v7 = names(complete("a cat --", 8, version="7"))
    assert "--sv" in v7 and "--oref" in v7


def test_completion_finds_video_parameters_when_typed():
    assert names(complete("a cat --mo", 10)) == ["--motion"]
    assert names(complete("a cat --b", 9)) == ["--bs"]
    assert names(complete("a cat --lo", 10)) == ["--loop"]


def test_completion_on_a_video_prompt_offers_only_what_video_takes():
    text = f"{IMG} a fox --video --"
    got = names(complete(text, len(text)))
    assert got[:4] == ["--motion", "--loop", "--end", "--bs"]
    assert set(got) == {"--motion", "--loop", "--end", "--bs", "--raw", "--seed", "--fast", "--relax", "--turbo"}
    assert names(complete("a fox --", 8, video=True))[:4] == ["--motion", "--loop", "--end", "--bs"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a cat --motion ", ["low", "high"]),
        ("a cat --bs ", ["1", "2", "4"]),
        ("a cat --niji ", ["7", "6", "5"]),
        ("a cat --ow ", ["25", "100", "250", "400", "1000"]),
        ("a cat --exp ", ["5", "10", "25", "50", "100"]),
    ],
)
def test_completion_values(text, expected):
    assert names(complete(text, len(text))) == expected


def test_completion_versions_and_quality():
    assert names(complete("a cat --v ", 10))[:2] == ["8.1", "7"]
    assert "8" not in names(complete("a cat --v ", 10))  # not a documented value
    assert complete("a cat --v ", 10)[0].label == "8.1 (current default)"
    assert names(complete("a cat --q  --v 7", 10)) == [".25", ".5", "1", "2", "4"]
    label = next(c.label for c in complete("a cat --b", 9))
    assert label == "--bs (video clips per job: 1, 2 or 4, default 4)"


def test_fuzz_of_new_parameters_never_raises_and_spans_stay_inside():
    import random

    rng = random.Random(81)
    atoms = [" ", "a", "--", "video", "1", "motion", "high", "loop", "end", "bs", "4", "oref", "ow", "sref"]
    atoms += ["random", "123::2", "p", "profile", "draft", "exp", "v", "8.1", "8", "niji", "7", IMG, "{", ",", "}"]
    for _ in range(400):
        text = "".join(rng.choice(atoms) for _ in range(rng.randint(0, 25)))
        for issue in lint(text, video=rng.random() < 0.3, mode=rng.choice([None, "relax"])):
            assert 0 <= issue.start <= issue.end <= len(text), (text, issue)
        for c in complete(text, rng.randint(0, len(text)), video=rng.random() < 0.3):
            assert 0 <= c.start <= c.end <= len(text)
