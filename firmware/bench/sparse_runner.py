"""Runs sparse-kernel cases on the emulated board: writes them into one blob, boots sparse_bench.elf in
QEMU (``-icount shift=0``) with the blob placed by QEMU's loader, and parses what it prints.

Every case runs four ways on the board: the dense reference and DSP kernels on the pruned dense
weights, and the sparse kernel in both loop orders (input-stationary ``sparse_is``, weight-prioritised
``sparse_wp``). Used by tests/firmware/test_kernels_sparse.py and sparse_speedup.py (the kernel bench and
`kws-nas prune`).
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nas.firmware.bench.image import image_lines
from nas.firmware.sparse_format import FORMAT_CODE, SparseFilter

BENCH_DIR = Path(__file__).resolve().parent
VARIANTS = ("dense_ref", "dense_opt", "sparse_is", "sparse_wp")
MAGIC = 0x4350534B
HEADER_WORDS = 38  # the F_* fields of sparse_main.c
BLOB_BYTES = 3 * 1024 * 1024 // 2
FAILED = 0xFFFFFFFF  # instructions printed when a kernel returned an error


def quantize_multiplier(scale: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: scale = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31)."""
    if scale == 0:
        return 0, 0
    q, shift = math.frexp(scale)
    fixed = round(q * (1 << 31))
    if fixed == 1 << 31:
        fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return int(fixed), int(shift)


@dataclass
class Case:
    """One layer: conv (input [N,H,W,C], dense [OC,KH,KW,C]) or fc (input [N,DEPTH], dense [UNITS,DEPTH])."""

    op: str
    input: np.ndarray
    dense: np.ndarray
    sparse: SparseFilter
    multiplier: np.ndarray  # per output channel (conv) or one value (fc)
    shift: np.ndarray
    out_shape: tuple[int, ...]  # conv [N, OH, OW, OC]; fc [N, UNITS]
    bias: np.ndarray | None = None
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    input_offset: int = 0
    output_offset: int = 0
    act: tuple[int, int] = (-128, 127)
    print_output: bool = True
    repeat: int = 1
    label: str = field(default="")

    def dims(self) -> list[int]:
        if self.op == "conv":
            return [*self.input.shape, *self.dense.shape, *self.out_shape]
        n, depth = self.input.shape
        return [n, 1, 1, depth, self.dense.shape[0], 1, 1, depth, n, 1, 1, self.dense.shape[0]]

    @property
    def macs(self) -> int:
        return int(np.prod(self.out_shape)) * int(np.prod(self.dense.shape[1:]))


def _arrays(case: Case) -> list[np.ndarray | None]:
    s = case.sparse
    return [np.ascontiguousarray(case.input, np.int8), np.ascontiguousarray(case.dense, np.int8),
            None if case.bias is None else np.asarray(case.bias, np.int32), np.asarray(case.multiplier, np.int32),
            np.asarray(case.shift, np.int32), s.row_units if s.row_units.size else None,
            s.index if s.index.size else None, s.offsets if s.offsets.size else None, s.values]


def write_blob(cases: list[Case]) -> bytes:
    """The blob sparse_main.c reads: magic, count, then per case its header and 4-byte aligned arrays."""
    blob = bytearray(np.array([MAGIC, len(cases)], np.uint32).tobytes())
    for case in cases:
        start = len(blob)
        body = bytearray()
        offsets = []
        for array in _arrays(case):
            if array is None:
                offsets.append(-1)
                continue
            offsets.append(start + 4 * HEADER_WORDS + len(body))
            body += array.tobytes() + bytes(-array.nbytes % 4)
        s = case.sparse
        header = [0 if case.op == "conv" else 1, int(case.print_output), case.repeat, *case.dims(),
                  *case.stride, *case.padding, *case.dilation, case.input_offset, case.output_offset, *case.act,
                  FORMAT_CODE[s.format], s.n, s.m, *offsets, start + 4 * HEADER_WORDS + len(body)]
        assert len(header) == HEADER_WORDS
        blob += np.array(header, np.int32).tobytes() + body
    if len(blob) > BLOB_BYTES:
        raise ValueError(f"sparse cases: {len(blob)} bytes, the board's case buffer holds {BLOB_BYTES}")
    return bytes(blob)


def build(board: str = "mps2_an500") -> Path:
    """Builds sparse_bench.elf (make skips it when up to date)."""
    missing = [tool for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "make") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"missing {', '.join(missing)} (scripts/bootstrap.sh installs them)")
    subprocess.run(["make", "-s", "-C", str(BENCH_DIR), f"BOARD={board}", f"build/{board}/sparse_bench.elf"],
                   check=True)
    return BENCH_DIR / "build" / board / "sparse_bench.elf"


def _cases_address(elf: Path) -> int:
    symbols = subprocess.run(["arm-none-eabi-nm", str(elf)], check=True, capture_output=True, text=True).stdout
    for line in symbols.splitlines():
        parts = line.split()
        if parts[-1] == "kws_sparse_cases":
            return int(parts[0], 16)
    raise RuntimeError(f"{elf.name} has no kws_sparse_cases symbol")


def run(cases: list[Case], board: str = "mps2_an500", timeout_s: float = 300.0) -> list[dict]:
    """Runs every case on the emulated board; one row per (case, variant) with instructions, checksum
    and the output (None unless the case asks for it)."""
    elf = build(board)
    with tempfile.TemporaryDirectory(prefix="kws_sparse_") as tmp:
        blob = Path(tmp) / "cases.bin"
        blob.write_bytes(write_blob(cases))
        lines = image_lines(elf, board, "sparse,", "sparse-done", error_prefix="sparse-error",
                            extra_args=["-device", f"loader,file={blob},addr={_cases_address(elf):#x},force-raw=on"],
                            timeout_s=timeout_s)
    rows = [_parse(line, cases) for line in lines]
    if len(rows) != len(cases) * len(VARIANTS):
        raise RuntimeError(f"sparse_bench printed {len(rows)} runs for {len(cases)} cases x {len(VARIANTS)} variants")
    return rows


def _parse(line: str, cases: list[Case]) -> dict:
    fields = line.split(",")
    index, variant, instructions, checksum = int(fields[1]), fields[2], int(fields[3]), int(fields[4])
    case = cases[index]
    output = None
    if len(fields) > 5:
        output = np.frombuffer(bytes.fromhex(fields[5]), np.int8).reshape(case.out_shape)
    return dict(case=index, variant=variant, failed=instructions == FAILED, instructions=instructions,
                checksum=checksum, output=output)
