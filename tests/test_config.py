import os
import subprocess
import sys

import pytest

from intake.config import ConfigError, from_env

STRONG = "x" * 40


def test_development_runs_on_defaults_with_sqlite_in_the_instance_folder():
    settings = from_env({}, instance_path="/srv/intake/instance")
    assert settings["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/intake/instance/intake.sqlite"
    assert settings["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"INTAKE_ENV": "production", "INTAKE_DATABASE_URL": "postgresql://db/intake"}, "INTAKE_SECRET_KEY"),
        (
            {"INTAKE_ENV": "production", "INTAKE_SECRET_KEY": "short", "INTAKE_DATABASE_URL": "postgresql://db/i"},
            "INTAKE_SECRET_KEY",
        ),
        ({"INTAKE_ENV": "production", "INTAKE_SECRET_KEY": STRONG}, "INTAKE_DATABASE_URL"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(env, variable):
    with pytest.raises(ConfigError, match=variable):
        from_env(env)


def test_production_cookies_are_secure_httponly_lax_and_bounded():
    settings = from_env(
        {"INTAKE_ENV": "production", "INTAKE_SECRET_KEY": STRONG, "INTAKE_DATABASE_URL": "postgresql://db/i"}
    )
    for prefix in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
        assert settings[f"{prefix}_SECURE"] is True
        assert settings[f"{prefix}_HTTPONLY"] is True
        assert settings[f"{prefix}_SAMESITE"] == "Lax"
    assert settings["PERMANENT_SESSION_LIFETIME"].total_seconds() <= 24 * 3600
    assert settings["REMEMBER_COOKIE_DURATION"].days <= 31
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_unknown_mode_is_refused():
    with pytest.raises(ConfigError, match="INTAKE_ENV"):
        from_env({"INTAKE_ENV": "staging"})


def test_the_command_line_says_in_one_line_which_variable_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(INTAKE_ENV="production", INTAKE_DATABASE_URL="sqlite:///" + str(tmp_path / "x.db"))
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "intake", "routes"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and "INTAKE_SECRET_KEY" in lines[0], result.stderr
