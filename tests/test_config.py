"""Settings from flags, environment and a config file; --help and the README list every one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ninja_bridge.cli import main
from ninja_bridge.config import Settings, SettingsError, load_settings

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    import os

    for key in list(os.environ):
        if key.startswith("NINJA_BRIDGE_"):
            monkeypatch.delenv(key)


@pytest.fixture(params=["yaml", "toml"])
def config_file(request, tmp_path):
    def write(values: dict) -> Path:
        path = tmp_path / f"bridge.{request.param}"
        if request.param == "yaml":
            path.write_text(yaml.safe_dump(values))
        else:
            path.write_text("".join(f"{key} = {_toml(value)}\n" for key, value in values.items()))
        return path

    return write


def _toml(value) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def test_precedence_is_flags_then_environment_then_file_then_defaults(config_file, monkeypatch):
    path = config_file({"upstream": "http://file.example", "port": 7001, "request_timeout": 9.5,
                        "log_level": "warning"})
    monkeypatch.setenv("NINJA_BRIDGE_PORT", "7002")
    monkeypatch.setenv("NINJA_BRIDGE_LOG_LEVEL", "error")
    settings = load_settings(path, log_level="debug")
    assert settings.upstream_base == "http://file.example"  # file over default
    assert settings.request_timeout == 9.5
    assert settings.port == 7002  # environment over file
    assert settings.log_level == "debug"  # flag over environment
    assert settings.host == "127.0.0.1"  # default


def test_the_config_file_can_be_named_by_the_environment(config_file, monkeypatch):
    monkeypatch.setenv("NINJA_BRIDGE_CONFIG", str(config_file({"shutdown_grace": 3})))
    assert load_settings().shutdown_grace == 3


def test_config_file_problems_name_the_file_and_the_setting(config_file, tmp_path):
    path = config_file({"upstream_timeout": 5})
    with pytest.raises(SettingsError, match=rf"^config file {path}: unknown setting 'upstream_timeout'$"):
        load_settings(path)
    path = config_file({"port": "eighty"})
    with pytest.raises(SettingsError, match=rf"^invalid setting port in {path}: Input should be a valid integer"):
        load_settings(path)
    with pytest.raises(SettingsError, match="cannot read config file"):
        load_settings(tmp_path / "missing.yaml")
    (tmp_path / "bridge.ini").write_text("port=1")
    with pytest.raises(SettingsError, match="unknown format"):
        load_settings(tmp_path / "bridge.ini")


def test_bad_values_name_where_they_came_from(monkeypatch):
    monkeypatch.setenv("NINJA_BRIDGE_MAX_HEADER_SIZE", "10")
    with pytest.raises(SettingsError, match="^invalid setting NINJA_BRIDGE_MAX_HEADER_SIZE: "):
        load_settings()
    monkeypatch.delenv("NINJA_BRIDGE_MAX_HEADER_SIZE")
    with pytest.raises(SettingsError, match="^invalid setting --request-timeout: "):
        load_settings(request_timeout="-1")
    with pytest.raises(SettingsError, match="^invalid settings: shutdown_delay must not exceed shutdown_grace$"):
        load_settings(shutdown_grace=1, shutdown_delay=2)


def test_serve_help_documents_every_setting_with_its_flag_and_variable():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())  # undo the wrapping
    for name, field in Settings.model_fields.items():
        flag = f"--{name.replace('_', '-')} "
        assert flag in text, f"--help lacks {flag}"
        entry, marker, _ = text[text.index(flag):].partition(f"[NINJA_BRIDGE_{name.upper()};")
        entry = entry.replace(f"/ --no-{name.replace('_', '-')} ", "")  # a boolean's pair of flags
        assert marker and " --" not in entry, f"--help lacks the variable of {name}"
        assert " ".join(field.description.split()) in entry
    assert "--config" in result.output


def test_the_readme_documents_every_setting():
    readme = README.read_text()
    for name in Settings.model_fields:
        assert f"`{name}`" in readme, f"README lacks the setting {name}"


def test_flags_reach_the_settings_through_the_cli(tmp_path):
    result = CliRunner().invoke(main, ["config", "show", "--upstream", "http://v5.example",
                                       "--upstream-retries", "4", "--log-format", "json"])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert shown["upstream"] == "http://v5.example/"
    assert shown["upstream_retries"] == 4
    assert shown["log_format"] == "json"


def test_config_show_prints_the_effective_configuration_with_secrets_redacted(config_file, monkeypatch, tmp_path):
    path = config_file({"upstream": "https://bridge:s3cr3t-pass@v5.example", "port": 9100})
    monkeypatch.setenv("NINJA_BRIDGE_HASH_SALT", "salty-value-123")
    result = CliRunner().invoke(main, ["config", "show", "--config", str(path), "--max-body-size", "4096"])
    assert result.exit_code == 0, result.output
    assert "s3cr3t-pass" not in result.output and "salty-value-123" not in result.output
    shown = yaml.safe_load(result.output)
    assert list(shown) == list(Settings.model_fields)
    assert shown["hash_salt"] == "[redacted]"
    assert shown["upstream"] == "https://bridge:[redacted]@v5.example/"
    assert (shown["port"], shown["max_body_size"]) == (9100, 4096)
    # what it prints is a config file, once the redacted values are removed
    reusable = tmp_path / "shown.yaml"
    reusable.write_text("\n".join(line for line in result.output.splitlines() if "[redacted]" not in line))
    monkeypatch.delenv("NINJA_BRIDGE_HASH_SALT")
    assert load_settings(reusable).max_body_size == 4096


def test_a_bad_setting_is_one_line_and_exit_code_2():
    result = CliRunner().invoke(main, ["config", "show", "--port", "99999"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "ninja-bridge: invalid setting --port: Input should be less than or equal to 65535"]
