"""Dataflow without a cloud: the worker image's install of vrft's staged sdist needs no package index,
and the Dataflow commands the READMEs show pass Beam's option validation (`--dry-run`)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest

from tests.conftest import ROOT

DOCKERFILE = ROOT / "pipelines" / "dataflow" / "Dockerfile"


def dockerfile_env() -> dict[str, str]:
    """The worker image's environment: every `ENV K=V ...` line of the Dockerfile."""
    env = {}
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("ENV "):
            env.update(item.split("=", 1) for item in shlex.split(line[4:]))
    return env


def test_the_worker_installs_the_staged_sdist_without_an_index(tmp_path):
    """Beam's stager builds the sdist from setup.py; the worker's pip installs it with the image's
    environment. With no index reachable (PIP_NO_INDEX, as on a worker without network), pip's default
    build isolation fails: "No matching distribution found for setuptools>=68"."""
    from apache_beam.runners.portability.stager import Stager

    sdist = Stager._build_setup_package(str(ROOT / "setup.py"), str(tmp_path))
    env = {**os.environ, **dockerfile_env(), "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--no-cache-dir", "--target", str(tmp_path / "site"),
                          sdist], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    installed = {p.name for p in (tmp_path / "site").iterdir()}
    assert {"pipelines", "rewards", "schemas", "vrft"} <= installed
    assert not {"torch", "transformers", "apache_beam"} & installed   # the code only, no dependencies


def code_lines(text: str) -> list[str]:
    """The lines inside fenced code blocks (indented fences too), continuation backslashes joined."""
    out, inside = [], False
    for line in text.replace("\\\n", " ").splitlines():
        if line.strip().startswith("```"):
            inside = not inside
        elif inside:
            out.append(line.strip())
    return out


def readme_commands() -> list[tuple[str, str]]:
    """(file, command) of every `vrft ingest ... DataflowRunner` command in a README code block."""
    return [
        (readme.relative_to(ROOT).as_posix(), cmd.split("#")[0])
        for readme in (ROOT / "README.md", ROOT / "pipelines" / "dataflow" / "README.md")
        for cmd in code_lines(readme.read_text())
        if cmd.startswith("vrft ingest") and "DataflowRunner" in cmd
    ]


@pytest.mark.parametrize("readme, command", readme_commands())
def test_the_readme_dataflow_command_validates(readme, command):
    args = shlex.split(command)[1:]
    res = subprocess.run([sys.executable, "-m", "vrft", *args, *([] if "--dry-run" in args else ["--dry-run"])],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and "dry run:" in res.stdout, f"{readme}: {res.stderr[-1500:]}"


def test_both_readmes_show_a_dataflow_command():
    assert {readme for readme, _ in readme_commands()} == {"README.md", "pipelines/dataflow/README.md"}
