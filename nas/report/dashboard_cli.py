"""`kws-nas dashboard RESULTS_DIR [--host H] [--port P]`: optuna-dashboard on the storage of a results folder.

RESULTS_DIR is a study's folder (``study.json``, or only ``study.db``) or a multirun's folder whose studies
share one storage (a PostgreSQL server: every cell, its workers and its ``.retrain`` study show at once).
A multirun on the default storage keeps one SQLite file per study: open one study's folder then. The
server runs until Ctrl-C (or SIGTERM) and then stops cleanly; ``--port 0`` takes a free port, printed.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from nas.errors import ConfigError, DataError
from nas.interrupt import interrupt_on_signals


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results_dir", type=Path, help="a study's results folder, or a multirun's on one shared storage")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080; 0: any free port)")


def storage_url_for(folder: Path) -> str:
    """The storage URL holding the studies of a results folder; DataError naming what is wrong."""
    from nas.results.place import DB_FILE, MARKER, default_storage_url, read_marker
    from nas.results.folder import study_folders

    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder; expected a results folder of `kws-nas search`")
    if (folder / MARKER).is_file():
        return read_marker(folder).storage_url
    if (folder / DB_FILE).is_file():
        return default_storage_url(folder)
    studies = study_folders(folder)
    if not studies:
        raise DataError(f"{folder}: not a kws-nas results folder: no {MARKER} or {DB_FILE} in it, "
                        f"and no {MARKER} in its sub-folders")
    urls = {read_marker(study).storage_url for study in studies}
    if len(urls) > 1:
        raise DataError(f"{folder}: its {len(studies)} studies live in {len(urls)} storages (one SQLite file each): "
                        f"open one study's folder, e.g. kws-nas dashboard {studies[0]}")
    return urls.pop()


def run(args: argparse.Namespace) -> int:
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from optuna_dashboard import wsgi

    from nas.results.place import redact

    url = storage_url_for(args.results_dir)
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port: expected 0..65535, got {args.port}")

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args) -> None:  # one line per request would bury the console
            pass

    try:
        server = make_server(args.host, args.port, wsgi(url), handler_class=QuietHandler)
    except OSError as err:
        raise ConfigError(f"--host {args.host} --port {args.port}: cannot listen ({err.strerror}); "
                          f"pick another port (--port 0: any free one)") from None
    with server, interrupt_on_signals() as stopped:
        print(f"kws-nas dashboard: {redact(url)} at http://{args.host}:{server.server_port}/ (Ctrl-C stops it)",
              flush=True)
        server.timeout = 0.5  # seconds: how soon a Ctrl-C swallowed inside a request ends the loop
        try:
            while not stopped.is_set():
                server.handle_request()
        except KeyboardInterrupt:
            pass
    print("kws-nas dashboard: stopped", flush=True)
    return 0
