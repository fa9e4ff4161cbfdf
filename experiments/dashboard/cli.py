"""``parksim-dashboard``: serve the live dashboard with Solara on localhost.

Runs ``solara run experiments/dashboard/app.py --host 127.0.0.1 --port PORT
--production`` with Solara's telemetry off, so the page works with no
internet access.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["APP", "main", "server_command", "server_env"]

#: The Solara app file.
APP: Path = Path(__file__).resolve().parent / "app.py"


def server_command(host: str = "127.0.0.1", port: int = 8765) -> list[str]:
    """The ``solara run`` command line of the dashboard.

    Args:
        host: Interface to bind (localhost by default).
        port: TCP port.

    Returns:
        The argument vector.
    """
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(APP),
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
    ]


def server_env(runs: Path | str | None = None) -> dict[str, str]:
    """The environment of the server: telemetry off, the runs directory of page 2.

    Args:
        runs: Directory of collected runs for the comparison page.

    Returns:
        A copy of ``os.environ`` with the dashboard's variables set.
    """
    env = dict(os.environ)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    env.setdefault("MPLBACKEND", "Agg")
    if runs is not None:
        env["PARKSIM_DASHBOARD_RUNS"] = str(Path(runs).resolve())
    return env


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the dashboard until interrupted.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The server's exit status.
    """
    parser = argparse.ArgumentParser(
        prog="parksim-dashboard", description="parksim's live dashboard (Mesa SolaraViz)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port (default 8765)")
    parser.add_argument(
        "--runs",
        default="multirun",
        help="directory of sweep outputs for the comparison page (default multirun)",
    )
    args = parser.parse_args(argv)
    print(f"parksim dashboard on http://{args.host}:{args.port}/  (Ctrl-C stops it)")
    try:
        return subprocess.call(server_command(args.host, args.port), env=server_env(args.runs))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
