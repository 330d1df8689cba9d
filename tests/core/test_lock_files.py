"""The lock files pin every dependency that pyproject.toml names, at a version it allows:
the Docker image installs requirements.lock without resolving (`pip install --no-deps .`),
so a dependency added to pyproject.toml but not locked would be missing in production.
`make lock` regenerates both files."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lock: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / lock).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        if match:
            pins[_name(match.group(1))] = match.group(2)
    return pins


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        ("requirements.lock", PROJECT["dependencies"]),
        (
            "requirements-dev.lock",
            PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"],
        ),
    ],
)
def test_every_dependency_is_pinned_at_an_allowed_version(lock, requirements):
    pins = _pins(lock)
    problems = []
    for requirement in map(Requirement, requirements):
        pinned = pins.get(_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement.name} is not in {lock}")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{requirement.name}=={pinned} does not satisfy {requirement}")
    assert not problems, "run `make lock`: " + "; ".join(problems)


def test_production_and_development_pin_the_same_versions():
    production, development = _pins("requirements.lock"), _pins("requirements-dev.lock")
    differ = {
        name: (version, development[name])
        for name, version in production.items()
        if name in development and development[name] != version
    }
    assert differ == {}
