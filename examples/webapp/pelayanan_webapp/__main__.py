"""Run the web app: ``python -m pelayanan_webapp [--demo] [--workers N] [--port P]``.

With ``--demo`` the data folder gets its keys, session secret, demo users and a few
complaints first.  The app is served by uvicorn with several worker processes, each
building its own desk (see `pelayanan_webapp.app.create_app`).
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import uvicorn

from pelayanan_webapp.clock import make_clock
from pelayanan_webapp.config import WebSettings
from pelayanan_webapp.demo import add_demo_requests, add_demo_users, prepare_data_dir
from pelayanan_webapp.jsonlog import configure_logging
from pelayanan_webapp.users import UserTable

log = logging.getLogger("pelayanan_webapp")


def main(argv: list[str] | None = None) -> None:
    """Parse the options, prepare the demo data if asked, and serve."""
    parser = argparse.ArgumentParser(prog="python -m pelayanan_webapp")
    parser.add_argument("--demo", action="store_true", help="create keys, users and data")
    parser.add_argument("--data-dir", default=os.environ.get("WEBAPP_DATA_DIR", "webapp-data"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    configure_logging()
    if args.demo:
        # Setting the variables here passes them to every worker process.
        os.environ.update(prepare_data_dir(Path(args.data_dir)))
        settings = WebSettings.from_env()
        add_demo_users(UserTable(settings.users_db))
        added = add_demo_requests(settings.host, make_clock(settings.clock_file))
        log.info("demo data ready", extra={"data_dir": args.data_dir, "complaints": added})
    log.info("serving", extra={"url": f"http://{args.host}:{args.port}/", "workers": args.workers})
    uvicorn.run(
        "pelayanan_webapp.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
