"""What the container runs, without a container engine: the image's wheel, installed into a fresh
virtual environment, started as the image starts it (`ninja-bridge serve`, NINJA_BRIDGE_* settings).

The wheel is built as the Dockerfile builds it (`pip wheel --no-deps`; here without build isolation,
with the same pinned hatchling, so that no network is needed). The fresh environment gets the wheel
installed with pip and nothing else; its dependencies come from this test environment (same pinned
versions) through a .pth line, which adds them to sys.path after the environment's own site-packages
without running their .pth files, so an editable install of the project there cannot leak in.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import aiohttp
import pytest

from ninja_bridge.sandbox import SANDBOX_TOKEN

V4_AUTH = {"X-Ninja-Token": SANDBOX_TOKEN}

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def run(*argv: str | Path, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("PIP_")}
    return subprocess.run([str(a) for a in argv], check=True, capture_output=True, text=True, timeout=120,
                          env=env, **kwargs)


def dockerfile_instruction(name: str) -> str:
    """The (last) instruction's arguments, with line continuations joined."""
    text = DOCKERFILE.replace("\\\n", " ")
    return re.findall(rf"^{name}\s+(.*)$", text, re.MULTILINE)[-1].strip()


def dockerfile_env() -> dict[str, str]:
    return dict(re.findall(r"(NINJA_BRIDGE_\w+)=(\S+)", dockerfile_instruction("ENV")))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its bin directory."""
    work = tmp_path_factory.mktemp("image")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
        "--wheel-dir", work / "wheels", ROOT)
    wheels = list((work / "wheels").glob("ninja_bridge-*.whl"))
    assert len(wheels) == 1
    venv = work / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet", wheels[0])
    site_packages = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                         .stdout.strip())
    here = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site_packages / "test-dependencies.pth").write_text("\n".join(here) + "\n")
    return venv / "bin"


def test_the_installed_code_and_mappings_come_from_the_wheel(installed):
    venv = installed.parent
    probe = ("import json, ninja_bridge; from ninja_bridge.translate.spec import builtin_mappings_dir; "
             "print(json.dumps([ninja_bridge.__file__, str(builtin_mappings_dir())]))")
    package, mappings = json.loads(run(installed / "python", "-c", probe, cwd=venv).stdout)
    assert Path(package).is_relative_to(venv)
    assert Path(mappings).is_relative_to(venv)
    assert sorted(p.name for p in Path(mappings).glob("*.yaml")) == sorted(p.name for p in (ROOT / "mappings")
                                                                           .glob("*.yaml"))
    # the wheel's declared dependencies are met by the pinned versions
    check = run(sys.executable, "-m", "pip", "--python", installed / "python", "check")
    assert "No broken requirements found" in check.stdout


def test_the_dockerfile_runs_what_this_test_runs():
    assert dockerfile_instruction("ENTRYPOINT") == '["ninja-bridge"]'
    assert dockerfile_instruction("CMD") == '["serve"]'
    assert dockerfile_instruction("FROM").startswith("${PYTHON_IMAGE}")
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in DOCKERFILE
    assert re.search(r"^USER\s+\d+$", DOCKERFILE, re.MULTILINE), "the image must not run as root"
    assert "/healthz" in dockerfile_instruction("HEALTHCHECK")


async def test_the_image_command_serves_health_metrics_and_the_v4_api(installed, start_bridge, sandbox_server):
    settings = {key.removeprefix("NINJA_BRIDGE_").lower(): value for key, value in dockerfile_env().items()}
    settings.update(host="127.0.0.1", port="0", upstream=str(sandbox_server.make_url("")))
    bridge = await start_bridge(settings, command=[str(installed / "ninja-bridge")], python_path=None)

    async with aiohttp.ClientSession() as client:
        async with client.get(bridge.url + "/readyz") as ready:
            assert ready.status == 200
        async with client.get(bridge.url + "/api/v1/clients", headers=V4_AUTH) as listed:
            assert listed.status == 200
            assert len((await listed.json())["data"]) > 0
        async with client.get(bridge.url + "/metrics") as scraped:
            assert 'ninja_bridge_requests_total{method="GET",route="/api/v1/clients",status="200"} 1.0' \
                   in await scraped.text()

    # the image's HEALTHCHECK command, as Docker would run it inside the container
    healthcheck = json.loads(dockerfile_instruction("HEALTHCHECK").split("CMD", 1)[1])
    assert healthcheck[0] == "python"
    port = bridge.url.rsplit(":", 1)[1]
    probe = await asyncio.create_subprocess_exec(str(installed / "python"), *healthcheck[1:],
                                                 env={"NINJA_BRIDGE_PORT": port})
    assert await asyncio.wait_for(probe.wait(), 10) == 0

    bridge.terminate()
    assert await bridge.exit_code(timeout=10) == 0
    access = bridge.events("request")
    assert any(line["v4_route"] == "/api/v1/clients" and line["status"] == 200 for line in access)
    unhealthy = await asyncio.create_subprocess_exec(str(installed / "python"), *healthcheck[1:],
                                                     env={"NINJA_BRIDGE_PORT": port},
                                                     stderr=asyncio.subprocess.DEVNULL)
    assert await asyncio.wait_for(unhealthy.wait(), 10) != 0  # and it notices a dead proxy
