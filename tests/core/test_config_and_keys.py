from __future__ import annotations

import os

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest

from mj_tui.core import credentials
from mj_tui.core.config import load_config, resolve_profile
from mj_tui.core.credentials import KeySource, Secret
from mj_tui.core.errors import ConfigError, CredentialsError, NoKeyring
from mj_tui.core.models import Mode, ProviderKind


def write_config(text: str):
    path = os.environ["MJ_TUI_CONFIG"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def test_defaults_without_a_file():
    config = load_config()
    assert not config.exists
    assert config.profiles["ohmygpt"].provider == ProviderKind.OHMYGPT
    assert config.profiles["maxapi"].path_template == "/mj-{mode}/mj"
    # --provider alone picks a profile of that dialect, not the default one relabelled
    assert resolve_profile(config, provider="mjproxy").name == "maxapi"
    assert resolve_profile(config, provider="ohmygpt").name == "ohmygpt"


def test_profiles_and_overrides():
    write_config(
        'default_profile = "home"\n[ui]\ngraphics = "halfcell"\n[keymap]\nsubmit = "ctrl+s"\n'
        '[profiles.home]\nprovider = "mjproxy"\nbase_url = "http://127.0.0.1:8080/"\n'
        'path_template = "/mj"\ndefault_mode = "turbo"\npoll_interval = 2\n'
    )
    config = load_config()
    assert config.graphics == "halfcell" and config.keymap == {"submit": "ctrl+s"}
    home = resolve_profile(config)
    assert home.name == "home" and home.base_url == "http://127.0.0.1:8080"
    assert home.default_mode == Mode.TURBO and home.poll_interval == 2
    switched = resolve_profile(config, "home", provider="ohmygpt", base_url="http://127.0.0.1:9/")
    assert switched.provider == ProviderKind.OHMYGPT
    assert switched.path_template == "/api/v1/ai/draw/mj" and switched.base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("this is = = not toml", "not valid TOML"),
        ('[profiles.x]\nprovider = "midjourney"\n', "not one of"),
        ('[profiles.x]\nprovider = "ohmygpt"\npoll_interval = -1\n', "poll_interval"),
        ('[profiles.x]\nprovider = "ohmygpt"\ncolour = "red"\n', "unknown setting"),
        ('default_profile = "nope"\n', "not a profile"),
        ('[ui]\ngraphics = "ascii-art"\n', "graphics"),
    ],
)
def test_bad_config_is_a_clear_error(text, fragment):
    write_config(text)
    with pytest.raises(ConfigError) as info:
        load_config()
    assert fragment in str(info.value)


def test_unknown_profile():
    with pytest.raises(ConfigError, match="no profile named 'zzz'"):
        resolve_profile(load_config(), "zzz")


def test_secret_never_shows():
    secret = Secret("sk-supersecretvalue1234")
    assert "supersecret" not in repr(secret) and "supersecret" not in str(secret)
    assert "supersecret" not in f"{secret} {secret!r}"
    assert secret.hint == "…1234"
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)


def test_env_var_wins_over_keyring(memory_keyring, monkeypatch):
    credentials.set_key("p", "sk-from-keyring")
    assert credentials.get_key("p").key.reveal() == "sk-from-keyring"
    assert credentials.get_key("p").source == KeySource.KEYRING
    monkeypatch.setenv("MJ_TUI_API_KEY", "sk-from-env")
    resolved = credentials.get_key("p")
    assert resolved.key.reveal() == "sk-from-env" and resolved.source == KeySource.ENV


def test_keyring_round_trip_per_profile(memory_keyring):
    credentials.set_key("a", "  sk-aaa\n")
    credentials.set_key("b", "sk-bbb")
    assert memory_keyring.store == {("mj-tui", "a"): "sk-aaa", ("mj-tui", "b"): "sk-bbb"}
    assert credentials.delete_key("a") is True
    assert credentials.delete_key("a") is False
    assert credentials.get_key("a").key is None


def test_bad_keys_refused(memory_keyring):
    with pytest.raises(CredentialsError):
        credentials.set_key("a", "   ")
    with pytest.raises(CredentialsError):
        credentials.set_key("a", "sk-one sk-two")
    assert memory_keyring.store == {}


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring()])
def test_headless_box_without_keyring(backend):
    keyring.set_keyring(backend)
    resolved = credentials.get_key("p")
    assert resolved.key is None and "MJ_TUI_API_KEY" in resolved.problem
    with pytest.raises(NoKeyring) as info:
        credentials.set_key("p", "sk-x")
    assert "MJ_TUI_API_KEY" in str(info.value) and "plain file" in str(info.value)
