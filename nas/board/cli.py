"""`kws-nas board serve MODEL.tflite --board mps2_an500 --listen 127.0.0.1:PORT`,
`kws-nas board calibrate --board NAME [--port URL]` (the latency model, :mod:`nas.board.calibrate`) and
`kws-nas board flash MODEL.tflite --board NAME [--tool pyocd|openocd] [--port PROBE]` (the image the
board profile's model_storage asks for, its sizes against the board, then the flash command: printed,
or run when --port names a probe; :mod:`nas.board.flash_image`).

serve:

Binds HOST:PORT first (a port in use is one error line, before anything starts), builds the
firmware, starts the emulated board with the model preloaded, then keeps the board reachable at
``socket://HOST:PORT`` for outside tools that speak the MLPerf Tiny harness protocol. Clients are
served one at a time through :mod:`nas.board.relay`, each from a clean command state. One line is
printed once the board is ready; the board sends nothing unprompted after a client connects (its boot
banner went to our own readiness check). Ctrl-C and SIGTERM both stop QEMU and free the port.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from nas.errors import BoardError, ConfigError
from nas.interrupt import interrupt_on_signals


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="serve the emulated board with a model on a TCP port")
    serve.add_argument("model", type=Path, help="int8 .tflite whose ops the firmware supports")
    serve.add_argument("--board", default="mps2_an500", help="emulated port: mps2_an500 (M7) or mps2_an386 (M4)")
    serve.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: any free port)")
    calibrate = sub.add_parser("calibrate", help="fit the board's latency model from measured random networks")
    calibrate.add_argument("--board", required=True, help="board profile (constraints/<board>.yaml)")
    calibrate.add_argument("--port", help="serial port or URL of a real board (default: the emulator)")
    calibrate.add_argument("--count", type=int, default=None,
                           help="networks to measure (default 240, calibrate.CALIBRATION_COUNT; 10 with --transfer-from)")
    calibrate.add_argument("--transfer-from", metavar="BOARD",
                           help="start from BOARD's stored model and refit only its per-kind scales")
    calibrate.add_argument("--seed", type=int, default=0, help="seed of the random calibration networks")
    calibrate.add_argument("--out", type=Path, help="where to write the model (default constraints/<board>.latency.json)")
    calibrate.add_argument("--frontend-only", action="store_true",
                           help="refit only the front-end terms of the stored model (its network terms are kept)")
    flash = sub.add_parser("flash", help="build the board's image for a model, check its size, flash it")
    flash.add_argument("model", type=Path, help="int8 .tflite (or a model description .bin)")
    flash.add_argument("--board", required=True, help="board profile (constraints/<board>.yaml)")
    flash.add_argument("--tool", choices=("pyocd", "openocd"), default="pyocd", help="flash tool (default pyocd)")
    flash.add_argument("--port", metavar="PROBE",
                       help="serial number of the debug probe: flash now (default: print the command)")


def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ConfigError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:5555")
    return host, int(port)


def run(args) -> int:
    return {"calibrate": calibrate, "flash": flash, "serve": serve}[args.action](args)


def flash(args) -> int:
    import shlex

    from nas.board.connect import EMULATED
    from nas.board.flash_image import build_board_image, flash as write_image, flash_command
    from nas.board.flash_model_source import model_description
    from nas.cost.budget import load_board

    if not args.model.is_file():
        raise ConfigError(f"{args.model}: no such model file")
    if args.board in EMULATED and args.port:
        raise ConfigError(f"--port {args.port}: {args.board} is emulated, there is no probe to flash it through")
    profile = load_board(args.board)
    image = build_board_image(model_description(args.model), profile)
    print(image.report(), flush=True)
    if args.board in EMULATED:
        print(f"{args.board} is emulated: QEMU runs the image (qemu-system-arm -machine "
              f"{image.image.qemu_machine()} -nographic -kernel {image.image.elf})")
    elif args.port:
        write_image(image, args.tool, args.port)
        print(f"flashed {args.board} through probe {args.port} with {args.tool}")
    else:
        print(f"flash with: {shlex.join(flash_command(image, args.tool))}")
    return 0


def calibrate(args) -> int:
    from nas.board.calibrate import CALIBRATION_COUNT, calibration_set, check_enough, fit_points, measure
    from nas.cost import estimate, latency
    from nas.cost.budget import load_board, load_budget
    from nas.export.tflite import untrained_int8

    profile = load_board(args.board)
    if args.frontend_only:
        model = latency.load(args.board)
        if model is None:
            raise ConfigError(f"--frontend-only: {args.board} has no stored latency model to keep the network terms of "
                              f"({latency.model_path(args.board)}); calibrate it fully first")
        return _calibrate_frontend(args, profile, model)
    base = None
    if args.transfer_from:
        base = latency.load(args.transfer_from)
        if base is None:
            raise ConfigError(f"--transfer-from {args.transfer_from}: no stored latency model "
                              f"({latency.model_path(args.transfer_from)}); calibrate that board first")
    count = args.count or (10 if base else CALIBRATION_COUNT)
    if count < 1:
        raise ConfigError(f"--count {count}: expected a positive number of networks")
    large = load_budget("large")

    def fits(candidate) -> bool:  # random candidates of every architecture: the large class, on this board
        cost = estimate(candidate)
        return large.feasible(cost) and not profile.deploy_violations(
            {"flash_bytes": cost.flash_bytes, "arena_bytes": cost.ram_bytes})

    candidates = calibration_set(count, seed=args.seed, fits=fits)
    check_enough(candidates, base)
    print(f"calibrating {args.board}: {count} random networks"
          + (f", rescaling {args.transfer_from}'s model" if base else ""), flush=True)
    points = measure(args.board, candidates, untrained_int8, port=args.port,
                     on_point=lambda i, p: print(f"  {i + 1}/{count} {p.candidate['arch']:<10} "
                                                 f"{p.value:>14,.0f} {p.unit}", flush=True),
                     on_skip=lambda i, why: print(f"  {i + 1}/{count} skipped: {why}", flush=True))
    model = fit_points(points, args.board, base=base)
    e = model.fit_error
    print(f"fit error |predicted/measured - 1| on {model.points} networks: median {100 * e['median']:.2f} %, "
          f"p95 {100 * e['p95']:.2f} %, max {100 * e['max']:.2f} %")
    return _calibrate_frontend(args, profile, model)


def _calibrate_frontend(args, profile, model) -> int:
    """The front-end terms (and, on the emulator, the decimation-2 front end's) into ``model``, saved."""
    from nas.board.calibrate import fit_frontend_points, measure_frontend
    from nas.board.connect import EMULATED
    from nas.cost import latency
    from nas.export.tflite import untrained_int8

    frontend = fit_frontend_points(measure_frontend(args.board, untrained_int8, port=args.port))
    model = model.with_frontend(frontend.terms)
    halved = None
    if args.port is None and args.board in EMULATED:  # the decimation-2 front end needs its own image
        halved = fit_frontend_points(measure_frontend(args.board, untrained_int8, decimation=2))
        model = model.with_frontend(halved.terms, decimation=2)
    out = latency.save(model, args.out or latency.model_path(args.board))
    print(f"front end: {frontend.terms['per_inference']:,.0f} + {frontend.terms['per_frame']:,.0f} × frames "
          f"{model.unit} per inference; |error| max {100 * frontend.max_error:.2f} % over {len(frontend.frames)} "
          f"runs ({', '.join(map(str, frontend.frames))} frames)")
    if halved is not None:
        print(f"front end with decimation 2: {halved.terms['per_inference']:,.0f} + {halved.terms['per_frame']:,.0f} "
              f"× frames {model.unit} per inference; |error| max {100 * halved.max_error:.2f} %")
    print(f"latency model written to {out} (ms at {profile.clock_hz / 1e6:g} MHz from constraints/{args.board}.yaml)")
    return 0


def serve(args) -> int:
    from nas.board.emulated import EmulatedBoard
    from nas.board.model_blob import tflite_to_blob
    from nas.board.relay import BoardRelay, listen_socket

    host, port = _listen(args.listen)
    listener = listen_socket(host, port)
    board = relay = None
    with interrupt_on_signals():  # also when started as a background job (SIGINT ignored)
        try:
            blob = tflite_to_blob(args.model)  # refuse unsupported models before starting QEMU
            board = EmulatedBoard(args.board, model=blob)  # on a private port: only the relay connects
            board.open()
            board.close_connection()
            relay = BoardRelay(listener, (board.host, board.port))
            relay.connect()
            print(f"kws-nas board: {args.board} ready at socket://{host}:{relay.port} "
                  f"(model {board.preloaded['name']}, {board.preloaded['ops']} ops)", flush=True)
            relay.serve_forever(alive=lambda: board.process.poll() is None)
            raise BoardError(f"emulated board {args.board}: QEMU exited on its own with code "
                             f"{board.process.poll()}; the board is no longer served")
        except KeyboardInterrupt:
            return 0
        finally:
            if relay is not None:
                relay.close()
            listener.close()
            if board is not None:
                board.close()
