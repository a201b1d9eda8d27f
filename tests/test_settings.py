"""The settings object: what MCPREG_* variables mean and which values are refused."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mcpreg.api.app import create_app
from mcpreg.api.runtime import runtime
from mcpreg.errors import ConfigurationError
from mcpreg.settings import DEFAULT_HEADER_TIMEOUT, DEFAULT_KEEPALIVE_TIMEOUT, Settings


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"MCPREG_DATA_DIR": str(tmp_path), **env})


@pytest.mark.parametrize("value", ["1", "true", "yes", "TRUE", "Yes", " true "])
def test_development_mode_is_on_only_for_one_true_or_yes(tmp_path: Path, value: str) -> None:
    assert _settings(tmp_path, MCPREG_DEV=value).dev is True


@pytest.mark.parametrize(
    "value", ["", "0", "false", "no", "disabled", "off", "on", "2", "y", "enabled", "FALSE"]
)
def test_any_other_development_mode_value_means_off(tmp_path: Path, value: str) -> None:
    assert _settings(tmp_path, MCPREG_DEV=value).dev is False


def test_development_mode_is_off_when_unset(tmp_path: Path) -> None:
    assert _settings(tmp_path).dev is False


def test_a_disabled_development_mode_still_refuses_to_start_without_keys(
    database_url: str, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, MCPREG_DATABASE_URL=database_url, MCPREG_DEV="disabled")
    with pytest.raises(ConfigurationError) as refused:
        create_app(settings, prepare=False, background=False)
    assert refused.value.field == "MCPREG_SECRET_KEYS"


def test_connection_timeouts_have_explicit_defaults(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.keepalive_timeout == DEFAULT_KEEPALIVE_TIMEOUT == 5.0
    assert settings.header_timeout == DEFAULT_HEADER_TIMEOUT == 10.0


def test_connection_timeouts_are_read_in_seconds(tmp_path: Path) -> None:
    settings = _settings(tmp_path, MCPREG_KEEPALIVE_TIMEOUT="2.5", MCPREG_HEADER_TIMEOUT="30")
    assert settings.keepalive_timeout == 2.5
    assert settings.header_timeout == 30.0


@pytest.mark.parametrize("name", ["MCPREG_KEEPALIVE_TIMEOUT", "MCPREG_HEADER_TIMEOUT"])
@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf", "86400"])
def test_an_unusable_connection_timeout_is_refused_naming_the_variable(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        _settings(tmp_path, **{name: value})
    assert refused.value.field == name


def _settings(data_dir: Path, **extra: str) -> Settings:
    env = {
        "MCPREG_DATABASE_URL": f"sqlite:///{data_dir / 'mcpreg.db'}",
        "MCPREG_DATA_DIR": str(data_dir),
        "MCPREG_SAMPLE_DATA": "0",
    }
    return Settings.from_env({**env, **extra})


def test_outside_development_mode_the_app_refuses_to_start_without_keys(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        create_app(_settings(tmp_path), prepare=False, background=False)
    assert refused.value.field == "MCPREG_SECRET_KEYS"
    with pytest.raises(ConfigurationError):
        placeholder = "k:" + "A" * 43
        create_app(_settings(tmp_path, MCPREG_SECRET_KEYS=placeholder), prepare=False)


def test_development_mode_generates_a_key_and_says_so_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mcpreg"):
        app = create_app(_settings(tmp_path, MCPREG_DEV="1"), prepare=False, background=False)
    assert (tmp_path / "secret-keys").is_file()
    assert runtime(app).keyring.primary_id
    assert any("NEVER use this outside development" in r.getMessage() for r in caplog.records)


def test_the_response_cache_is_sized_in_bytes_from_the_environment(tmp_path: Path) -> None:
    assert _settings(tmp_path).cache_bytes == 128 * 1024 * 1024
    settings = _settings(tmp_path, MCPREG_CACHE_BYTES="1048576", MCPREG_DEV="1")
    assert runtime(create_app(settings, prepare=False, background=False)).cache.max_bytes == 1048576
    with pytest.raises(ConfigurationError) as refused:
        _settings(tmp_path, MCPREG_CACHE_BYTES="-1")
    assert refused.value.field == "MCPREG_CACHE_BYTES"
