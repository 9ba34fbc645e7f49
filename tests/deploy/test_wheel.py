"""The package as the image installs it: a wheel in a fresh environment, far from the checkout."""

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.databases import ON_POSTGRES, REDIS_URL, create_empty_database, drop_database
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (ON_POSTGRES and REDIS_URL and shutil.which("uv")),
    reason="the image runs in production: PostgreSQL, Redis, and uv to build and install",
)


def uv(*args: str, cwd: Path) -> None:
    environment = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    subprocess.run(["uv", *args], cwd=cwd, env=environment, check=True, capture_output=True)  # noqa: S603, S607


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ of a virtual environment holding the built wheel and the locked dependencies."""
    place = tmp_path_factory.mktemp("installed")
    uv("build", "--wheel", "--out-dir", "dist", str(ROOT), cwd=place)
    locked = ["--frozen", "--no-dev", "--no-hashes", "--no-emit-project"]
    uv("export", *locked, "--output-file", str(place / "requirements.txt"), cwd=ROOT)
    uv("venv", "--python", sys.executable, "venv", cwd=place)
    wheel = str(next((place / "dist").glob("aibos-*.whl")))
    like_the_image = ["--compile-bytecode", "--python", "venv/bin/python"]
    uv("pip", "install", *like_the_image, "-r", "requirements.txt", wheel, cwd=place)
    return place / "venv" / "bin"


@pytest.fixture
def production_environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    url = asyncio.run(create_empty_database())
    yield {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AIBOS_ENV": "production",
        "AIBOS_DATABASE_URL": url,
        "AIBOS_REDIS_URL": str(REDIS_URL),
        "AIBOS_CACHE_NAMESPACE": f"aibos-wheel-{secrets.token_hex(4)}",
        "AIBOS_SECRET_KEY": secrets.token_urlsafe(48),
        "AIBOS_SMTP_HOST": "127.0.0.1",  # production wants one; nothing is mailed here
    }
    asyncio.run(drop_database(url))


def test_the_installed_wheel_migrates_a_fresh_database_and_serves_ready(
    installed: Path, production_environment: dict[str, str], tmp_path: Path
) -> None:
    migrated = subprocess.run(  # noqa: S603 (the installed command)
        [str(installed / "aibos"), "migrate"],
        cwd=tmp_path,
        env=production_environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr

    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (the installed command)
        [str(installed / "aibos"), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=production_environment,
    )
    try:
        assert _readiness(f"http://127.0.0.1:{port}") == 200
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)


def _readiness(base_url: str) -> int:
    """The first answer of the readiness route once the server listens."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            return httpx.get(f"{base_url}/api/v1/health/ready").status_code
        except httpx.TransportError:
            time.sleep(0.2)
    raise TimeoutError("the installed server never answered")
