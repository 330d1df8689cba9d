"""Run fault tests against private PostgreSQL and Redis servers: `python -m tests.faults.run
[pytest arguments]` (what `make faults` and `make faults-beats` call).

Starts a throw-away PostgreSQL cluster and Redis on free ports, points DATABASE_URL and
REDIS_URL at them, runs pytest on `tests/faults` (or the paths given), and removes both
servers afterwards, whatever happened. The machine's shared servers are never touched.
"""

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.faults.services import FaultServices, free_port

ROOT = Path(__file__).resolve().parents[2]


def _stop_on_sigterm(signum, frame):
    # CI stops a failed run with SIGTERM: unwind, so that `finally` stops the servers.
    raise SystemExit(128 + signum)


def main(arguments: list[str]) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    with tempfile.TemporaryDirectory(prefix="rapport-faults-") as folder:
        os.chmod(folder, 0o755)  # noqa: S103 - postgres reaches its data folder through it # nosec B103
        services = FaultServices(
            folder=Path(folder) / "services", pg_port=free_port(), redis_port=free_port()
        )
        services.start()
        print(
            f"faults: private PostgreSQL on 127.0.0.1:{services.pg_port}, "
            f"Redis on 127.0.0.1:{services.redis_port}",
            flush=True,
        )
        env = {**os.environ, **services.environment()}
        try:
            command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s", "-q"]
            return subprocess.call([*command, *(arguments or ["tests/faults"])], cwd=ROOT, env=env)
        finally:
            services.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
