"""``escalation explore``: the browser explorer, served on this machine only."""

from __future__ import annotations

import argparse
import os
import socket
import threading
import time
from pathlib import Path

from sim.errors import UserError

DEFAULT_PORT = 8765


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``explore`` sub-command."""
    p = subparsers.add_parser(
        "explore",
        help="explore a scenario in the browser: sliders, one world day by day, Monte Carlo",
        description="Serve the explorer (a Mesa SolaraViz page) on 127.0.0.1 and print its "
        "address. Pick a scenario from its folder, move parameter sliders, step one world day "
        "by day, run a 2,000-replicate Monte Carlo beside the unchanged scenario, and save the "
        "settings as a scenario file that extends the one picked.",
    )
    p.add_argument(
        "scenario",
        nargs="?",
        default="scenarios/baseline.yaml",
        help="scenario file to open first (its folder is the picker's list)",
    )
    p.add_argument("--port", metavar="P", help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from sim.runner.options import parse_int

    path = Path(args.scenario)
    port = parse_int(args.port, "--port", 1, 65535) or DEFAULT_PORT
    from sim.scenario.loader import load_scenario

    _check_assets()
    load_scenario(path)  # a bad scenario is a one-line error here, not a broken page
    _check_port(port)
    os.environ["ESCALATION_EXPLORE_SCENARIO"] = str(path)
    os.environ["SOLARA_APP"] = "sim.explore.app"
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ["SERVER_NAME"] = "127.0.0.1"
    os.environ["SERVER_PORT"] = str(port)
    import uvicorn

    config = uvicorn.Config(
        "solara.server.starlette:app", host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)

    def announce() -> None:
        # The address is printed once the server accepts connections, so that whoever reads
        # it (a person, a test) can open it at once.
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            print(f"explorer at http://127.0.0.1:{port}/ (Ctrl-C to stop)", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
    return 0


def _check_assets() -> None:
    """Refuse to serve a page the browser could not draw: without Solara's browser packages
    in the local cache the page would be blank on a machine without a public CDN."""
    from sim.explore import assets

    missing = assets.missing()
    if missing:
        raise UserError(
            f"the explorer's browser files are not installed ({', '.join(missing)}); run "
            "python -m sim.explore.assets (make run and make test do it)"
        )


def _check_port(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise UserError(f"port {port} on 127.0.0.1 is taken; choose another --port") from None
