"""The token map: hashes only, 0600, env-held secrets, constant-time lookup, the CLI."""

from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner

from ninja_bridge.cli import main
from ninja_bridge.tokens import TokenMapError, load_token_map, token_hash, token_resolver

V4_A, V4_B = "a" * 32, "b" * 32
V5_A, V5_B = "A" * 64, "B" * 64


def tokens(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, ["tokens", *args], env=env)


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "tokens.json"
    assert tokens("add", "--token-map", str(path), "--label", "erp", "--v4-token", V4_A, "--v5-token", V5_A).exit_code == 0
    assert tokens("add", "--token-map", str(path), "--label", "shop", "--v4-token", V4_B,
                  "--v5-token-env", "SHOP_V5_TOKEN").exit_code == 0
    return path


def test_the_file_is_private_and_holds_no_v4_token(token_file):
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    text = token_file.read_text()
    assert V4_A not in text and V4_B not in text
    assert token_hash(V4_A) in text
    assert V5_B not in text and "SHOP_V5_TOKEN" in text


async def test_lookup_and_resolver(token_file):
    token_map = load_token_map(token_file, environ={"SHOP_V5_TOKEN": V5_B})
    assert token_map.lookup(V4_A) == V5_A
    assert token_map.lookup(V4_B) == V5_B
    assert token_map.lookup("c" * 32) is None
    assert await token_resolver(token_map, passthrough=True)("some-v5-token") == "some-v5-token"
    assert await token_resolver(token_map, passthrough=False)("some-v5-token") is None
    assert await token_resolver(token_map, passthrough=False)(V4_A) == V5_A


def test_a_missing_environment_variable_refuses_to_load(token_file):
    with pytest.raises(TokenMapError) as caught:
        load_token_map(token_file, environ={})
    assert "SHOP_V5_TOKEN" in str(caught.value)


def test_a_file_any_user_can_read_is_refused_while_it_holds_v5_tokens(token_file):
    os.chmod(token_file, 0o440)  # owner and group, as container secret mounts often are: fine
    assert load_token_map(token_file, environ={"SHOP_V5_TOKEN": V5_B}).lookup(V4_A) == V5_A
    os.chmod(token_file, 0o644)
    with pytest.raises(TokenMapError) as caught:
        load_token_map(token_file, environ={"SHOP_V5_TOKEN": V5_B})
    assert "chmod 600" in str(caught.value)
    result = CliRunner().invoke(main, ["serve", "--upstream", "http://127.0.0.1:9", "--token-map", str(token_file)],
                                env={"SHOP_V5_TOKEN": V5_B})
    assert result.exit_code == 2 and "refusing to start" in result.output
    os.chmod(token_file, 0o600)
    assert tokens("remove", "--token-map", str(token_file), "erp").exit_code == 0
    os.chmod(token_file, 0o644)  # hashes and variable names only: nothing secret left in it
    assert load_token_map(token_file, environ={"SHOP_V5_TOKEN": V5_B}).lookup(V4_B) == V5_B


def test_a_file_of_another_format_is_refused_clearly(tmp_path):
    path = tmp_path / "token-map.yaml"
    path.write_text('"legacy-v4-token": "v5-token"\n')
    os.chmod(path, 0o600)
    with pytest.raises(TokenMapError) as caught:
        load_token_map(path)
    assert "ninja-bridge tokens add" in str(caught.value) and "legacy-v4-token" not in str(caught.value)


def test_list_shows_labels_never_tokens(token_file):
    result = tokens("list", "--token-map", str(token_file))
    assert result.exit_code == 0
    assert "erp" in result.output and "shop" in result.output and "env SHOP_V5_TOKEN" in result.output
    for secret in (V4_A, V4_B, V5_A, token_hash(V4_A)):
        assert secret not in result.output


def test_re_adding_replaces_and_remove_removes(token_file):
    assert tokens("add", "--token-map", str(token_file), "--label", "erp", "--v4-token", V4_A,
                  "--v5-token", "C" * 64).exit_code == 0
    assert load_token_map(token_file, environ={"SHOP_V5_TOKEN": V5_B}).lookup(V4_A) == "C" * 64
    assert tokens("remove", "--token-map", str(token_file), "erp").exit_code == 0
    assert load_token_map(token_file, environ={"SHOP_V5_TOKEN": V5_B}).lookup(V4_A) is None
    assert tokens("remove", "--token-map", str(token_file), "nobody").exit_code == 1
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600


def test_tokens_can_be_prompted_for_without_echo(tmp_path):
    path = tmp_path / "t.json"
    result = CliRunner().invoke(main, ["tokens", "add", "--token-map", str(path), "--label", "x"],
                                input=f"{V4_A}\n{V5_A}\n")
    assert result.exit_code == 0, result.output
    assert V4_A not in result.output and V5_A not in result.output
    assert load_token_map(path).lookup(V4_A) == V5_A


def test_the_deploy_examples_are_token_maps_the_proxy_reads(tmp_path):
    import yaml
    from pathlib import Path

    deploy = Path(__file__).resolve().parents[1] / "deploy"
    compose = (deploy / "compose" / "token-map.json.example").read_text()
    documents = list(yaml.safe_load_all((deploy / "kubernetes" / "ninja-bridge-sidecar.yaml").read_text()))
    secret = next(d for d in documents if d and d["kind"] == "Secret" and d["metadata"]["name"] == "ninja-bridge-token-map")
    for index, text in enumerate([compose, secret["stringData"]["token-map.json"]]):
        path = tmp_path / f"example-{index}.json"
        path.write_text(text)
        os.chmod(path, 0o440)
        assert load_token_map(path).lookup("legacy-v4-token-of-the-shop") == "v5-api-token-created-in-the-v5-ui"
