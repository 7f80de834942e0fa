"""Prompt parser, linter, permutations and completion (pure: no emulator, no TUI)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import timeit

import pytest

from mj_tui.core.prompt import (
    Completion,
    Issue,
    Param,
    PromptError,
    Severity,
    complete,
    expand_permutations,
    has_errors,
    job_count,
    lint,
    normalize_version,
    parse,
)

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# prompts from the seeds (OhMyGPT imagine / MaxAPI fetch) and the domain notes
SEED_VADER = (
    "chibi manga legend of vader anime vh1, in the style of miho hirano, dynamic and action-packed "
    "scenes, gaston bussière, chinese new year festivities, ross tran, charming character "
    "illustrations, light red and bronze --ar 73:88 --s 750 --niji 5"
)
SEED_SUNNY = "a sunny boy --relax --s 250 --style raw"
IMG = "https://cdn.example.com/a.png"
IMG2 = "https://cdn.example.com/b.jpg"


def codes(issues: list[Issue]) -> set[str]:
    return {i.code for i in issues}


def find(issues: list[Issue], code: str) -> Issue:
    matches = [i for i in issues if i.code == code]
    assert matches, f"no {code!r} in {issues}"
    return matches[0]


# --- every rule: fires on the bad prompt (right level, right span), not on the good one ----

# (code, severity, bad prompt, text the span must cover, good prompt, lint kwargs)
RULES = [
    # a misspelt or cut-short name is refused; one like no known name may be newer than us
    ("unknown-param", E, "a cat --stylise 3", "--stylise", "a cat --s 3", {}),
    ("unknown-param", E, "a cat --st 3", "--st", "a cat --stop 30", {}),
    ("unknown-param", W, "a cat --foo 3", "--foo", "a cat --s 3", {}),
    # a known range is an error even on a model this client does not know yet
    ("out-of-range", E, "a cat --stylize 99999 --v 99", "99999", "a cat --stylize 999 --v 99", {}),
    ("out-of-range", E, "a cat --chaos 150", "150", "a cat --chaos 100", {}),
    ("ar-format", E, "a cat --ar 1.39:1", "1.39:1", "a cat --ar 139:100", {}),
    ("ar-format", E, "a cat --ar 0:1", "0:1", "a cat --ar 1:1", {}),
    ("missing-value", E, "a cat --ar", "--ar", "a cat --ar 2:3", {}),
    ("bad-value", E, "a cat --c lots", "lots", "a cat --c 5", {}),
    ("bad-value", E, "a cat --v seven", "seven", "a cat --v 7", {}),
    ("v-and-niji", E, "a cat --v 6 --niji 6", "--niji 6", "a cat --niji 6", {}),
    ("version-unsupported", E, f"a cat --cref {IMG} --v 5", f"--cref {IMG}", f"a cat --cref {IMG} --v 6", {}),
    ("version-unsupported", E, "a cat --sref random --v 5.2", "--sref random", "a cat --sref random", {}),
    ("version-unsupported", E, "a cat --p --v 5.2", "--p", "a cat --p --v 6", {}),
    ("version-unsupported", E, "a cat --style cute", "cute", "a cat --style cute --niji 5", {}),
    ("version-unsupported", E, "a cat --style raw --v 5", "raw", "a cat --style raw --v 5.1", {}),
    ("version-unsupported", E, "a cat --w 100 --v 4", "--w 100", "a cat --w 100 --v 5", {}),
    ("version-unsupported", E, "a cat --tile --v 4", "--tile", "a cat --tile --v 5.2", {}),
    # "?" cells of the matrix (unverified / reseller-only) are warnings, never errors
    ("version-unsupported", W, "a cat --tile --niji 6", "--tile", "a cat --tile --v 6", {}),
    ("version-unsupported", W, "a cat --raw --v 5", "--raw", "a cat --raw --v 5.1", {}),
    # a proxy's table only annotates these with versions, it does not say they are refused
    ("version-unsupported", W, f"a cat --cref {IMG} --v 7", f"--cref {IMG}", f"a cat --cref {IMG} --v 6", {}),
    ("version-unsupported", W, f"a cat --oref {IMG} --v 6.1", f"--oref {IMG}", f"a cat --oref {IMG}", {}),
    ("version-unsupported", W, "a cat --exp 10 --v 6", "--exp 10", "a cat --exp 10 --v 7", {}),
    ("version-unsupported", W, "a cat --draft --niji 6", "--draft", "a cat --draft", {}),
    ("incompatible", W, f"a cat --q 4 --oref {IMG}", "--q 4", f"a cat --q 2 --oref {IMG}", {}),
    ("quality-value", W, "a cat --q 3 --v 7", "3", "a cat --q 4 --v 7", {}),
    ("quality-value", W, "a cat --q 2 --v 6", "2", "a cat --q 2", {}),
    ("relax-mode", E, "a cat --r 4", "--r 4", "a cat --r 4 --fast", {"mode": "relax"}),
    ("relax-mode", E, "a cat --relax --repeat 4", "--repeat 4", "a cat --fast --repeat 4", {}),
    ("relax-mode", E, "a {red, blue} cat", "{red, blue}", "a {red, blue} cat --turbo", {"mode": "relax"}),
    ("weights-sum", E, "hot:: dog::-1 --v 6", "hot:: dog::-1", "hot:: dog::-.5 --v 6", {}),
    ("image-only", E, f"{IMG} --ar 1:1", IMG, f"{IMG} a cat --ar 1:1", {}),
    ("image-only", E, f"{IMG} {IMG2} --sref {IMG}", f"--sref {IMG}", f"{IMG} {IMG2} cats --sref {IMG}", {}),
    ("image-only", W, f"{IMG} {IMG2} --s 500", "--s 500", f"{IMG} {IMG2} cats --s 500", {}),
    ("missing-reference", W, "a cat --cw 50 --v 6", "--cw 50", f"a cat --cref {IMG} --cw 50 --v 6", {}),
    ("missing-reference", W, "a cat --sw 50", "--sw 50", "a cat --sref random --sw 50", {}),
    ("missing-reference", W, "a cat --ow 50", "--ow 50", f"a cat --oref {IMG} --ow 50", {}),
    ("missing-reference", W, "a cat --iw 1", "--iw 1", f"{IMG} a cat --iw 1", {}),
    ("speed-conflict", E, "a cat --fast --turbo", "--turbo", "a cat --turbo", {}),
    ("duplicate-param", W, "a cat --s 100 --stylize 200", "--stylize 200", "a cat --s 100 --c 2", {}),
    ("multiprompt-v7", W, "hot:: dog --v 7", "::", "hot:: dog --v 6.1", {}),
    ("legacy-param", W, "a cat --hd", "--hd", "a cat", {}),
    ("empty-prompt", E, "   --ar 16:9", "   --ar 16:9", "x --ar 16:9", {}),
    ("unverified-version", W, "a cat --v 9", "--v 9", "a cat --v 8.1", {}),
    ("unverified-version", W, "a cat --niji 8", "--niji 8", "a cat --niji 7", {}),
    ("dash-style", INFO, "a cat —ar 16:9", "—", "a cat --ar 16:9", {}),
    ("dash-style", INFO, "a cat –ar 16:9", "–", "a cat --ar 16:9", {}),
    ("fullwidth-colon", INFO, "a cat --ar 16：9", "：", "a cat --ar 16:9", {}),
    ("braces", E, "a {red, blue cat", "{", "a {red, blue} cat", {}),
    ("braces", E, "a red} cat", "}", "a red cat", {}),
    ("permutation-limit", W, "{a,b,c,d,e,f,g} {a,b,c,d,e,f,g}", "{a,b,c,d,e,f,g}", "{a,b,c,d,e,f} {a,b,c,d,e,f}", {}),
    ("permutation-limit", W, "a {b, c} --r 30", "{b, c}", "a {b, c} --r 20", {}),
    ("out-of-range", W, "a cat --r 50", "50", "a cat --r 40", {}),
    ("flag-value", W, "a cat --tile please", "please", "a cat please --tile", {}),
    ("missing-space", W, "a cat --ar16:9", "--ar16:9", "a cat --ar 16:9", {}),
    ("stray-dashes", W, "a cat -- big", "--", "a cat, big", {}),
    ("url-position", W, f"a cat {IMG}", IMG, f"{IMG} a cat", {}),
    ("image-url", W, "https://example.com/page a cat", "https://example.com/page", f"{IMG} a cat", {}),
    ("unknown-style", W, "a cat --style fancy", "fancy", "a cat --style fancy --v 5.2", {}),
    ("reseller-param", W, "a cat --dref 3", "--dref 3", "a cat", {}),
]


@pytest.mark.parametrize(
    ("code", "severity", "bad", "span", "good", "kwargs"), RULES, ids=[f"{r[0]}:{r[2]}" for r in RULES]
)
def test_rule_fires_on_bad_and_not_on_good(code, severity, bad, span, good, kwargs):
    issue = find(lint(bad, **kwargs), code)
    assert issue.severity == severity
    assert bad[issue.start : issue.end] == span
    assert issue.message and issue.message[0] != " "
    assert code not in codes(lint(good, **kwargs))


def test_every_code_named_in_the_brief_is_covered():
    brief = {
        "unknown-param",
        "out-of-range",
        "version-unsupported",
        "incompatible",
        "weights-sum",
        "ar-format",
        "duplicate-param",
        "legacy-param",
        "multiprompt-v7",
        "permutation-limit",
        "empty-prompt",
        "v-and-niji",
        "image-only",
    }
    assert brief <= {r[0] for r in RULES}


@pytest.mark.parametrize(
    ("prompt", "span"),
    [
        ("a --chaos 101", "101"),
        ("a --stylize 1001", "1001"),
        ("a --weird 3001", "3001"),
        ("a --stop 9", "9"),
        ("a --stop 101", "101"),
        ("a --seed 4294967296", "4294967296"),
        ("a --seed -1", "-1"),
        (f"a --cref {IMG} --cw 101 --v 6", "101"),
        ("a --sref random --sw 1001", "1001"),
        (f"a --oref {IMG} --ow 1001", "1001"),
        ("a --exp 101", "101"),
        (f"{IMG} a --iw 2.5 --v 5.2", "2.5"),  # V5.x image weight is 0–2
        (f"{IMG} a --iw 3.5", "3.5"),
    ],
)
def test_ranges_are_errors(prompt, span):
    issue = find(lint(prompt), "out-of-range")
    assert issue.severity == E
    assert prompt[issue.start : issue.end] == span


@pytest.mark.parametrize(
    "prompt",
    [
        "a --chaos 0",
        "a --chaos 100",
        "a --s 0",
        "a --s 1000",
        "a --w 3000",
        "a --stop 10",
        "a --seed 0",
        "a --seed 4294967295",
        "a --sref random --sw 0",
        "a --exp 100",
        f"{IMG} a --iw 2.5 --v 6",
        f"{IMG} a --iw 0",
    ],
)
def test_range_edges_are_fine(prompt):
    assert lint(prompt) == []


def test_range_message_names_the_parameter_and_value():
    assert find(lint("a cat --chaos 150"), "out-of-range").message == "--chaos must be 0–100 (got 150)"
    assert "on V5.2" in find(lint(f"{IMG} a --iw 2.5 --v 5.2"), "out-of-range").message


def test_unknown_parameter_suggests_the_closest_name():
    assert "did you mean --stylize?" in find(lint("a cat --stylise 300"), "unknown-param").message


def test_unsupported_message_says_where_it_works():
    msg = find(lint(f"a cat --cref {IMG}"), "version-unsupported").message
    assert "V7" in msg and "--oref" in msg and "V6" in msg


def test_sv_conflicting_sources_only_warn():
    issue = find(lint("a --sref random --sv 9 --v 7"), "out-of-range")
    assert issue.severity == W
    assert lint("a --sref random --sv 6 --v 7") == []


def test_unverified_version_skips_version_specific_errors():
    issues = lint(f"{IMG} a::2 cat --v 9 --cref {IMG} --exp 10 --q 3 --style cute --iw 2.5")
    assert not has_errors(issues)
    assert codes(issues) == {"unverified-version"}
    assert codes(lint("a cat --niji 8 --draft --style scenic")) == {"unverified-version"}


def test_unknown_default_version_is_not_blamed_on_the_prompt():
    assert lint("a cat --exp 10", default_version="9") == []
    assert codes(lint("a cat --exp 10", default_version="6.1")) == {"version-unsupported"}


def test_default_version_and_mode_arguments():
    assert codes(lint("a cat --style cute", default_version="niji 5")) == set()
    assert codes(lint("a cat --niji --style cute", default_version="niji 5")) == set()
    assert codes(lint("a cat --r 3", mode="fast")) == set()
    assert codes(lint("a cat --fast --r 3", mode="relax")) == set()  # the flag overrides the account


def test_sunny_seed_is_fine_in_relax_mode():
    assert lint(SEED_SUNNY, mode="relax") == []


@pytest.mark.parametrize(
    "prompt",
    [
        SEED_VADER,
        SEED_SUNNY,
        "a sunny boy --relax",
        "dog playing ball --v 7.0 --p 77724z8",
        "<https://s.mj.run/AbCdEf> a red fox in snow --v 6",
        "still life gouache painting --no fruit, flowers --v 6.1",
        "vibrant tulip fields:: red::-.5 --v 6",
        "a naturalist illustration of a fruit salad bird --ar {3:2, 1:1, 2:3, 1:2}",
        "a naturalist illustration of a fruit salad bird --{v 5, niji 5}",
        f"{IMG} {IMG2}",
        f"{IMG} portrait --cref {IMG2} --cw 0 --v 6",
        f"a fox --oref {IMG} --ow 250 --exp 25 --draft --raw",
        "vibrant California poppies --style raw-fjo5S8BgMoV --v 5.2",
        "a cat --sref 123456 https://x.example/s.png::2 --sw 300 --sv 4",
        "a cat --p abc123 def456 --stylize 50 --chaos 20 --weird 250 --seed 42 --stop 90 --tile",
        "A {sculpture, painting} of a {seagull {on a pier, on a beach}, poodle {on a sofa, in a truck}}.",
    ],
)
def test_real_world_prompts_have_no_errors(prompt):
    issues = lint(prompt)
    assert not has_errors(issues), issues


def test_the_vader_seed_lints_completely_clean():
    assert lint(SEED_VADER) == []
    assert parse(SEED_VADER).version == "niji 5"


def test_a_2000_character_prompt_lints_fine_and_fast():
    text = ("a misty forest at dawn, volumetric light, ferns, " * 45)[:1970] + " --ar 16:9 --s 250"
    assert len(text) >= 1980
    assert lint(text) == []
    best = min(timeit.repeat(lambda: lint(text), number=20, repeat=3)) / 20
    assert best < 0.005


def test_a_typical_prompt_lints_in_under_a_millisecond():
    best = min(timeit.repeat(lambda: lint(SEED_VADER), number=100, repeat=3)) / 100
    assert best < 0.001
    best = min(timeit.repeat(lambda: complete(SEED_VADER, len(SEED_VADER)), number=100, repeat=3)) / 100
    assert best < 0.001


@pytest.mark.parametrize(
    "text",
    [
        "—a " * 700,
        "-- " * 700,
        ":" * 2000,
        "{" * 40,
        "{a," * 30 + "}" * 30,
        "::-" * 600,
        "{a,b}" * 200,
        "--ar " + "9" * 2000,
        "https://" + "a" * 2000,
    ],
)
def test_hostile_input_stays_fast_and_never_raises(text):
    best = min(timeit.repeat(lambda: lint(text), number=3, repeat=2)) / 3
    assert best < 0.05
    complete(text, len(text))
    job_count(text)


def test_issues_are_sorted_and_unique():
    issues = lint("a cat --c 500 --foo --ar 1.5:1 --c {1, 2}")
    assert issues == sorted(issues, key=lambda i: (i.start, i.end))
    assert len(issues) == len(set(issues))


def test_has_errors():
    assert has_errors(lint("a --fooo --stylise 3"))
    assert not has_errors(lint("a —ar 16:9 --hd"))  # info and warnings only
    assert not has_errors([])


# --- parse ---------------------------------------------------------------------------------


def test_parse_splits_urls_body_and_params_with_spans():
    text = f"{IMG} <{IMG2}> a red fox  --AR 16:9 --s 750 --no text, frame --tile"
    p = parse(text)
    assert p.image_urls == (IMG, IMG2)
    assert p.body == "a red fox"
    assert [(q.name, q.written, q.value) for q in p.params] == [
        ("aspect", "AR", "16:9"),
        ("stylize", "s", "750"),
        ("no", "no", "text, frame"),
        ("tile", "tile", None),
    ]
    ar = p.params[0]
    assert isinstance(ar, Param) and text[ar.start : ar.end] == "--AR 16:9"
    assert text[p.params[3].start : p.params[3].end] == "--tile"
    assert p.segments == (("a red fox", 1.0),)
    assert p.version == "8.1"  # Midjourney's default model


def test_a_half_typed_parameter_does_not_swallow_the_previous_value():
    text = "a cat --v 6.1 --ar 16:9 --"
    p = parse(text)
    assert p.version == "6.1"
    assert [(q.name, q.value) for q in p.params] == [("version", "6.1"), ("aspect", "16:9")]
    assert codes(lint(text)) == {"stray-dashes"}


def test_parse_em_dash_and_unknown_params():
    p = parse("a cat —ar 16:9 --zzz 1")
    assert [(q.name, q.value) for q in p.params] == [("aspect", "16:9"), ("zzz", "1")]


@pytest.mark.parametrize(
    ("text", "default", "version"),
    [
        ("a cat", "7", "7"),
        ("a cat", "6.1", "6.1"),
        ("a cat --v 7.0", "6", "7"),
        ("a cat --version 5.0", "7", "5"),
        ("a cat --v 6.1", "7", "6.1"),
        ("a cat --niji 6", "7", "niji 6"),
        ("a cat --niji", "7", "niji 7"),
        ("a cat --niji", "niji 5", "niji 5"),
        ("a cat --v 8.1", "7", "8.1"),
        ("a cat --v nope", "6", "6"),
    ],
)
def test_version_resolution(text, default, version):
    assert parse(text, default_version=default).version == version


def test_normalize_version():
    assert normalize_version("7.0") == "7"
    assert normalize_version("v6.1") == "6.1"
    assert normalize_version("Niji6") == "niji 6"
    assert normalize_version("niji") == "niji 7"
    assert normalize_version("seven") is None


def test_multiprompt_segments_and_weights():
    assert parse("hot:: dog").segments == (("hot", 1.0), ("dog", 1.0))
    assert parse("space::2 ship --v 6").segments == (("space", 2.0), ("ship", 1.0))
    assert parse("tulip fields:: red::-.5").segments == (("tulip fields", 1.0), ("red", -0.5))
    assert parse("cheese::1 cake:: painting::").segments == (("cheese", 1.0), ("cake", 1.0), ("painting", 1.0))
    assert parse("").segments == ()


def test_weights_summing_to_exactly_zero_is_an_error():
    assert "weights-sum" in codes(lint("a::1 b::-1 --v 6"))


# --- permutations --------------------------------------------------------------------------


def test_permutations_follow_midjourney_order():
    assert expand_permutations("a {red, green} bird --ar {1:1, 16:9}") == [
        "a red bird --ar 1:1",
        "a red bird --ar 16:9",
        "a green bird --ar 1:1",
        "a green bird --ar 16:9",
    ]
    assert expand_permutations("a {red, green} bird in the {jungle, desert}") == [
        "a red bird in the jungle",
        "a red bird in the desert",
        "a green bird in the jungle",
        "a green bird in the desert",
    ]


def test_nested_permutations_expand_in_place():
    out = expand_permutations(
        "A {sculpture, painting} of a {seagull {on a pier, on a beach}, poodle {on a sofa, in a truck}}."
    )
    assert out == [
        "A sculpture of a seagull on a pier.",
        "A sculpture of a seagull on a beach.",
        "A sculpture of a poodle on a sofa.",
        "A sculpture of a poodle in a truck.",
        "A painting of a seagull on a pier.",
        "A painting of a seagull on a beach.",
        "A painting of a poodle on a sofa.",
        "A painting of a poodle in a truck.",
    ]


def test_escaped_comma_is_literal():
    assert expand_permutations("{red, pastel, yellow} bird") == ["red bird", "pastel bird", "yellow bird"]
    assert expand_permutations("{red, pastel \\, yellow} bird") == ["red bird", "pastel, yellow bird"]
    assert expand_permutations("a {b\\,c} d, e") == ["a b,c d, e"]


def test_permutations_in_parameters_and_empty_options():
    assert expand_permutations("a bird --{v 5, niji 5}") == ["a bird --v 5", "a bird --niji 5"]
    assert expand_permutations("a {, big} dog") == ["a dog", "a big dog"]


def test_no_braces_returns_the_prompt_unchanged():
    assert expand_permutations("  a cat, b --ar 1:1 ") == ["  a cat, b --ar 1:1 "]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a {red, green bird", "Unclosed “{” at character 3"),
        ("a red} bird", "Unmatched “}” at character 6"),
        ("a {b {c} d", "Unclosed “{” at character 3"),
    ],
)
def test_unbalanced_braces_raise_a_clear_error(text, where):
    with pytest.raises(PromptError) as info:
        expand_permutations(text)
    assert where in str(info.value)
    assert isinstance(info.value, ValueError)
    assert text[info.value.start] in "{}"


def test_limit_raises_with_the_count():
    text = "{a,b,c,d,e,f,g} {1,2,3,4,5,6,7}"
    with pytest.raises(PromptError, match=r"49 prompts.*limit of 40"):
        expand_permutations(text)
    assert len(expand_permutations(text, limit=49)) == 49
    with pytest.raises(PromptError, match="4 prompts"):
        expand_permutations("{a,b} {c,d}", limit=3)


def test_too_deep_nesting_is_refused():
    with pytest.raises(PromptError, match="nested"):
        expand_permutations("{" * 40 + "}" * 40)


@pytest.mark.parametrize(
    ("text", "jobs"),
    [
        ("a cat", 1),
        ("a cat --r 4", 4),
        ("a cat --repeat 10", 10),
        ("a {red, green, blue} cat", 3),
        ("a {red, green} cat --r 3", 6),
        ("a cat --r {2, 3}", 5),  # the repeat itself permuted
        ("a {b, c --r 3", 3),  # unbalanced: permutations count as 1
        ("a {b, c", 1),
        ("a cat --r lots", 1),
        ("{a,b}" * 10, 1024),
    ],
)
def test_job_count(text, jobs):
    assert job_count(text) == jobs


def test_lint_maps_permutation_issues_back_to_the_typed_text():
    text = "a bird --ar {3:2, 1.5:1} --c {5, 500}"
    issues = lint(text)
    assert {(i.code, text[i.start : i.end]) for i in issues} == {("ar-format", "1.5:1"), ("out-of-range", "500")}


def test_lint_of_huge_permutations_checks_the_first_variant():
    text = "{a,b}" * 12 + " --c 500"
    issues = lint(text)
    assert "out-of-range" in codes(issues)
    assert "4096 jobs" in find(issues, "permutation-limit").message


# --- completion ----------------------------------------------------------------------------


def names(items: list[Completion]) -> list[str]:
    return [c.text.strip() for c in items]


def test_complete_parameter_names_after_dashes():
    text = "a cat --"
    items = complete(text, len(text))
    assert items[0].start == 6 and items[0].end == 8
    got = names(items)
    assert {"--aspect", "--ar", "--stylize", "--s", "--chaos", "--c", "--v", "--niji", "--oref"} <= set(got)
    assert "--cref" not in got  # V7 has no character reference
    assert "--hd" not in got  # legacy flags are not advertised
    stylize = next(c for c in items if c.text.strip() == "--stylize")
    assert stylize.label == "--stylize (0–1000, default 100)"
    assert next(c for c in items if c.text.strip() == "--s").label.startswith("--s (--stylize")


def test_complete_filters_by_prefix_and_ranks_exact_first():
    assert names(complete("a cat --a", 9)) == ["--aspect", "--ar"]
    assert names(complete("a cat --s", 9))[0] == "--s"
    assert all(n.startswith("--s") for n in names(complete("a cat --s", 9)))


def test_complete_names_follow_the_version():
    v6 = names(complete("a cat --", 8, version="6"))
    assert "--cref" in v6 and "--oref" not in v6 and "--exp" not in v6 and "--draft" not in v6
    from_text = names(complete("a cat --v 6.1 --", 16))
    assert "--cref" in from_text and "--oref" not in from_text
    assert "--v" not in from_text  # already given


def test_complete_replaces_the_whole_word_and_normalizes_dashes():
    text = "a cat —sty --v 6"
    (first, *_) = complete(text, 9)  # cursor after "—st"
    assert (first.start, first.end) == (6, 10)
    assert first.text == "--stylize"  # a space already follows
    assert text[: first.start] + first.text + text[first.end :] == "a cat --stylize --v 6"


def test_complete_aspect_values():
    text = "a cat --ar "
    items = complete(text, len(text))
    assert names(items)[:6] == ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5"]
    assert {"16:9", "9:16"} <= set(names(items))
    assert all((c.start, c.end) == (11, 11) for c in items)
    assert names(complete("a cat --ar 1", 12)) == ["1:1", "16:9"]


def test_complete_style_values_by_version():
    assert names(complete("a cat --style ", 14)) == ["raw"]
    assert names(complete("a cat --style ", 14, version="niji 5")) == ["cute", "expressive", "original", "scenic"]
    assert names(complete("a cat --niji 5 --style ", 23)) == ["cute", "expressive", "original", "scenic"]
    assert names(complete("a cat --style ", 14, version="5")) == []


def test_complete_version_and_quality_values():
    assert names(complete("a cat --v ", 10))[:3] == ["8.1", "7", "6.1"]
    assert names(complete("a cat --niji ", 13)) == ["7", "6", "5"]
    assert names(complete("a cat --q ", 10, version="7")) == [".25", ".5", "1", "2", "4"]
    assert names(complete("a cat --q ", 10, version="6")) == [".25", ".5", "1"]
    assert names(complete("a cat --q  --v 6.1", 10)) == [".25", ".5", "1", "2"]


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("--s", ["0", "50", "100", "250", "500", "750", "1000"]),
        ("--c", ["0", "10", "25", "50", "100"]),
        ("--exp", ["5", "10", "25", "50", "100"]),
    ],
)
def test_complete_common_values(param, expected):
    text = f"a cat {param} "
    assert names(complete(text, len(text))) == expected


def test_complete_weird_steps_of_250():
    got = names(complete("a cat --w ", 10))
    assert got[0] == "0" and got[-1] == "3000" and "250" in got and len(got) == 13


def test_complete_is_empty_elsewhere():
    assert complete("a cat", 3) == []
    assert complete("a cat --ar 16:9 ", 16) == []  # past the value
    assert complete("a cat --seed ", 13) == []  # no sensible suggestions
    assert complete("a cat --zzz ", 12) == []
    assert complete("well--kno", 9) == []
    assert complete("", 0) == []


def test_complete_clamps_the_cursor():
    assert names(complete("x --a", 99)) == ["--aspect", "--ar"]


# --- hygiene -------------------------------------------------------------------------------


def test_prompt_module_never_imports_textual():
    code = "import sys, mj_tui.core.prompt; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    mods = set(out.stdout.split())
    assert "mj_tui.core.prompt.rules" in mods
    assert not {m for m in mods if m == "textual" or m.startswith("textual.")}


def test_fuzz_never_raises_and_spans_stay_inside_the_text():
    import random

    rng = random.Random(1234)
    atoms = [
        "a",
        " ",
        "cat",
        "--",
        "—",
        "–",
        "{",
        "}",
        ",",
        "\\,",
        "::",
        "-1",
        "2",
        ".5",
        ":",
        "：",
        "ar",
        "s",
        "v",
        "niji",
        "7",
        "16:9",
        "r",
        "cref",
        IMG,
        "<",
        ">",
        "\n",
        "style",
        "raw",
    ]
    for _ in range(400):
        text = "".join(rng.choice(atoms) for _ in range(rng.randint(0, 30)))
        for issue in lint(text, mode=rng.choice([None, "relax", "fast"])):
            assert 0 <= issue.start <= issue.end <= len(text), (text, issue)
        for c in complete(text, rng.randint(0, len(text))):
            assert 0 <= c.start <= c.end <= len(text)
        assert job_count(text) >= 1
        parse(text)
        with contextlib.suppress(PromptError):
            expand_permutations(text)
