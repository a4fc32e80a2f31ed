"""docker-compose.yml runs commands the command line has.

No Docker engine runs here, so the file is checked as data: every Warmline
service's command must exist (`warmline <command> --help` succeeds), every
long-running service has a health check, and each one waits for the
migration step.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import warmline.cli.worker_commands  # noqa: F401  (adds worker and beat)
from warmline.cli import main

ROOT = Path(__file__).parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
WARMLINE_SERVICES = [
    name
    for name, service in SERVICES.items()
    if service.get("image") == "warmline:latest"
]


def test_expected_services_present():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert set(WARMLINE_SERVICES) == {"migrate", "web", "worker", "beat"}


@pytest.mark.parametrize("name", ["migrate", "web", "worker", "beat"])
def test_service_command_exists(name, tmp_path):
    command = SERVICES[name]["command"]
    database = f"sqlite:///{tmp_path / 'warmline.db'}"

    result = CliRunner().invoke(main, ["--database", database, command[1], "--help"])

    assert command[0] == "warmline"
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Usage:" in result.output


@pytest.mark.parametrize("name", ["migrate", "web", "worker", "beat"])
def test_service_options_accepted(name, tmp_path):
    command = SERVICES[name]["command"]
    database = f"sqlite:///{tmp_path / 'warmline.db'}"
    context = main.make_context("warmline", ["--database", database, command[1]])
    subcommand = main.get_command(context, command[1])

    sub_context = subcommand.make_context(command[1], list(command[2:]))

    assert sub_context.params is not None


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker", "beat"])
def test_long_running_service_has_health_check(name):
    assert "test" in SERVICES[name]["healthcheck"]


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_service_waits_for_migration(name):
    depends_on = SERVICES[name]["depends_on"]

    assert depends_on["migrate"] == {"condition": "service_completed_successfully"}
    assert depends_on["postgres"] == {"condition": "service_healthy"}


def test_migration_runs_once():
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["migrate"]["command"] == ["warmline", "init"]


def test_image_built_from_project():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")

    assert SERVICES["worker"]["build"] == "."
    assert "COPY pyproject.toml" in dockerfile
    assert "--no-index" in dockerfile
