"""Sessions: ``nox -s tests`` (default), slow, lint, typing, examples, docs, bench, property,
webapp, webapp_e2e."""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite without the slow stress tests (PostgreSQL tests skip when no
    server is reachable, unless CI=true)."""
    session.install("-e", ".[postgres,report,parquet]", *_group("test"))
    args = session.posargs or ["-m", "not slow"]
    session.run("pytest", *args, env={"CI": os.environ.get("CI", "")})


@nox.session(default=False)
def slow(session: nox.Session) -> None:
    """Run the slow stress tests (many SIGKILL crash rounds); CI runs them."""
    session.install("-e", ".[postgres,report]", *_group("test"))
    session.run("pytest", "-m", "slow", *session.posargs, env={"CI": os.environ.get("CI", "")})


@nox.session(default=False)
def property(session: nox.Session) -> None:
    """Run the property-based tests with the heavy hypothesis profile."""
    session.install("-e", ".[postgres]", *_group("test"))
    session.run(
        "pytest", "-m", "not postgres", *session.posargs, env={"HYPOTHESIS_PROFILE": "property"}
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install(*_group("lint"))
    session.run("ruff", "check", "src", "tests", "benchmarks", "examples", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "examples", "noxfile.py")


@nox.session
def typing(session: nox.Session) -> None:
    """Type-check the package with mypy --strict."""
    session.install("-e", ".[postgres,report]", *_group("typing"))
    session.run("mypy")


@nox.session
def examples(session: nox.Session) -> None:
    """Run every example script and check every example SOP."""
    session.install("-e", ".[postgres]")
    session.run("python", "examples/run_all.py")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation; warnings are errors."""
    session.install("-e", ".", *_group("docs"))
    session.run("mkdocs", "build", "--strict", "--site-dir", "build/docs")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Run the benchmarks; print the table and write bench-results.json."""
    session.install("-e", ".[postgres]", *_group("bench"), *_group("webapp"))
    session.run("python", "benchmarks/run.py", *session.posargs)


_WEBAPP_PATH = os.pathsep.join(["src", "examples/webapp"])


@nox.session(default=False)
def webapp(session: nox.Session) -> None:
    """Serve the reference web app on 127.0.0.1:8000 with demo users and data."""
    session.install("-e", ".[postgres]", *_group("webapp"))
    session.run(
        "python", "-m", "pelayanan_webapp", "--demo", *session.posargs,
        env={"PYTHONPATH": _WEBAPP_PATH},
    )  # fmt: skip


@nox.session(default=False)
def webapp_e2e(session: nox.Session) -> None:
    """Drive the web app in headless Chromium (Debian's), then its bounded load test."""
    session.install("-e", ".[postgres]", *_group("webapp-test"))
    env = {"PYTHONPATH": _WEBAPP_PATH, "CI": os.environ.get("CI", "")}
    session.run("pytest", "-p", "no:cacheprovider", "examples/webapp/tests", *session.posargs,
                env=env)  # fmt: skip
