"""The ninja-bridge command: settings errors, check-mappings, and the demo's printed requests."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from ninja_bridge.cli import main

SRC = str(Path(__file__).resolve().parents[1] / "src")


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


def test_check_mappings_accepts_the_builtin_mappings():
    result = run("check-mappings")
    assert result.exit_code == 0
    assert result.output.startswith("mappings OK: ")


def test_check_mappings_names_file_key_and_reason(tmp_path):
    (tmp_path / "local.yaml").write_text("entities:\n  client:\n    values: {status: nowhere}\n")
    result = run("check-mappings", str(tmp_path))
    assert result.exit_code == 2
    assert "local.yaml: entities.client.values.status: unknown table 'nowhere'" in result.output


@pytest.mark.parametrize("args,env,expected", [
    (["--upstream", "http://127.0.0.1:1", "--port", "http"], {}, "invalid setting --port:"),
    (["--upstream", "http://127.0.0.1:1"], {"NINJA_BRIDGE_PORT": "99999"}, "invalid setting NINJA_BRIDGE_PORT:"),
    (["--upstream", "not a url"], {}, "invalid setting --upstream:"),
    ([], {}, "missing setting NINJA_BRIDGE_UPSTREAM (--upstream)"),
])
def test_a_bad_setting_stops_start_up_with_one_line(args, env, expected):
    result = run("serve", *args, env=env)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ninja-bridge: " + expected), result.output


def curl_to_request(command: str) -> dict:
    """The method, URL, headers and body a printed `curl` command line would send."""
    words = shlex.split(command)
    assert words[0] == "curl"
    request = {"method": "GET", "headers": {}, "data": None, "url": None}
    words = iter(words[1:])
    for word in words:
        if word == "-s":
            continue
        if word == "-H":
            name, _, value = next(words).partition(":")
            request["headers"][name.strip()] = value.strip()
        elif word == "-X":
            request["method"] = next(words)
        elif word == "-d":
            request["data"] = next(words)
            if request["method"] == "GET":
                request["method"] = "POST"
        else:
            request["url"] = word
    return request


async def test_demo_prints_requests_that_work(unused_tcp_port_factory):
    port = unused_tcp_port_factory()
    process = subprocess.Popen(
        [sys.executable, "-m", "ninja_bridge.cli", "demo", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    try:
        lines = []
        while not lines or not lines[-1].startswith("Ctrl+C"):
            line = process.stdout.readline()
            assert line, "the demo stopped before printing its banner"
            lines.append(line.rstrip("\n"))
        assert f"http://127.0.0.1:{port}/api/v1" in lines[0]
        token = next(line.split(": ", 1)[1] for line in lines if line.startswith("token: "))
        commands = [line.strip() for line in lines if line.strip().startswith("curl ")]
        assert len(commands) == 3
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            for command in commands:
                request = curl_to_request(command)
                assert request["headers"]["X-Ninja-Token"] == token
                async with session.request(request["method"], request["url"], headers=request["headers"],
                                           data=request["data"]) as response:
                    assert response.status == 200, (command, await response.text())
                    body = await response.json()
                    assert body["data"], command
    finally:
        process.terminate()
        process.wait(timeout=10)
