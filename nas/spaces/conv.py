"""The convolution sizes shared by CNN, CRNN and DS-CNN specs (Hello Edge's 5-number groups)."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

from nas.cost.layers import conv_output_size
from nas.errors import ConfigError
from nas.spaces.base import check_positive
from nas.spaces.domains import IntRange


@dataclass(frozen=True)
class Conv2dSpec:
    """filters, kernel (time × frequency) and stride (time × frequency): ``f kt kf st sf``."""

    filters: int
    kernel_t: int
    kernel_f: int
    stride_t: int
    stride_f: int

    @property
    def kernel(self) -> tuple[int, int]:
        return (self.kernel_t, self.kernel_f)

    @property
    def stride(self) -> tuple[int, int]:
        return (self.stride_t, self.stride_f)

    def to_list(self) -> list[int]:
        return [self.filters, self.kernel_t, self.kernel_f, self.stride_t, self.stride_f]

    def check(self, arch: str, prefix: str) -> None:
        for f in fields(self):
            check_positive(arch, f"{prefix}.{f.name}", getattr(self, f.name))

    @classmethod
    def from_dict(cls, arch: str, prefix: str, data: object) -> "Conv2dSpec":
        names = [f.name for f in fields(cls)]
        if not isinstance(data, dict) or set(data) != set(names):
            raise ConfigError(f"{arch} spec: {prefix} must be an object with keys {names}, got {data!r}")
        return cls(**data)


def cheapest_valid_convs(size: int, convs: Sequence[tuple[IntRange, IntRange]]) -> list[tuple[tuple[int, int], ...]]:
    """(kernel, stride) of each VALID conv of a chain along one axis, one choice per reachable sequence
    of output sizes: every cost grows with each kernel and each map size, so the smallest kernel
    reaching a size holds every minimum. The largest stride shrinks every later map; the kernels it
    no longer lets fit would not give a smaller map (a kernel as wide as the map gives size 1).
    """
    paths: list[tuple[tuple[tuple[int, int], ...], int]] = [((), size)]
    for kernel_range, stride_range in convs:
        stride = stride_range.values()[-1]
        grown = []
        for path, n in paths:
            reached: set[int] = set()
            for kernel in kernel_range.values(cap=n):  # lowest first: the first kernel per size is the smallest
                out = conv_output_size(n, kernel, stride, "valid")
                if out not in reached:
                    reached.add(out)
                    grown.append((path + ((kernel, stride),), out))
        paths = grown
    return [path for path, _ in paths]
