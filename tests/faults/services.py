"""Private PostgreSQL and Redis servers for the fault tests, which stop and start them.

The machine's own services (5432, 6379) are shared by everyone and never touched: each fault
run makes a throw-away PostgreSQL cluster (initdb) and a Redis of its own on free ports, in a
temporary folder. `FaultServices.from_environment()` gives a test the handles that the runner
(`python -m tests.faults.run`) exported.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_bin(name: str) -> str:
    found = shutil.which(name) or max(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), default="")
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is missing (apt-get install postgresql)")
    return found


def _as_postgres_user(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: drop to the `postgres` system user when root.
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _wait(check, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not happen within {timeout:.0f} s")


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class FaultServices:
    folder: Path
    pg_port: int
    redis_port: int

    # --- Environment handed from the runner to pytest and the processes it starts ----------
    @classmethod
    def from_environment(cls) -> "FaultServices":
        return cls(
            folder=Path(os.environ["RAPPORT_FAULTS_DIR"]),
            pg_port=int(os.environ["RAPPORT_FAULTS_PG_PORT"]),
            redis_port=int(os.environ["RAPPORT_FAULTS_REDIS_PORT"]),
        )

    def environment(self) -> dict[str, str]:
        return {
            "RAPPORT_FAULTS": "1",
            "RAPPORT_FAULTS_DIR": str(self.folder),
            "RAPPORT_FAULTS_PG_PORT": str(self.pg_port),
            "RAPPORT_FAULTS_REDIS_PORT": str(self.redis_port),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{self.pg_port}/rapport",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "RAPPORT_VAR_DIR": str(self.folder / "var"),
        }

    @property
    def pgdata(self) -> Path:
        return self.folder / "pgdata"

    # --- PostgreSQL -------------------------------------------------------------------------
    def postgres_init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.folder, postgres.pw_uid, postgres.pw_gid)
        subprocess.run(
            _as_postgres_user(
                [_postgres_bin("initdb"), "-D", str(self.pgdata), "-U", "postgres", "-A", "trust"]
            ),
            check=True,
            capture_output=True,
        )

    def postgres_start(self) -> None:
        options = (
            f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_postgres_user(
                [
                    _postgres_bin("pg_ctl"),
                    "-D",
                    str(self.pgdata),
                    "-o",
                    options,
                    "-l",
                    str(self.folder / "postgres.log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        _wait(lambda: _accepts(self.pg_port), "PostgreSQL accepting connections")

    def postgres_stop(self) -> None:
        """Fast shutdown: every client connection is cut, as when the server goes away."""
        subprocess.run(
            _as_postgres_user(
                [_postgres_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"]
            ),
            check=True,
            capture_output=True,
        )
        _wait(lambda: not _accepts(self.pg_port), "PostgreSQL stopping")

    def postgres_running(self) -> bool:
        return _accepts(self.pg_port)

    # --- Redis ------------------------------------------------------------------------------
    def redis_start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.folder / "redis.pid"),
                "--logfile",
                str(self.folder / "redis.log"),
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=True,
            capture_output=True,
        )
        _wait(lambda: _accepts(self.redis_port), "Redis accepting connections")

    def redis_stop(self) -> None:
        """Redis goes away with everything it held (no persistence), as after a crash."""
        subprocess.run(
            ["redis-cli", "-p", str(self.redis_port), "shutdown", "nosave"],
            capture_output=True,
            check=False,  # redis-cli reports the dropped connection as an error
        )
        _wait(lambda: not _accepts(self.redis_port), "Redis stopping")

    def redis_running(self) -> bool:
        return _accepts(self.redis_port)

    # --- Both ---------------------------------------------------------------------------------
    def start(self) -> None:
        self.postgres_init()
        self.postgres_start()
        self.redis_start()

    def stop(self) -> None:
        if self.redis_running():
            self.redis_stop()
        if self.postgres_running():
            self.postgres_stop()
