"""The convolution sizes shared by CNN, CRNN and DS-CNN specs (Hello Edge's 5-number groups)."""
from __future__ import annotations

from dataclasses import dataclass, fields

from nas.errors import ConfigError
from nas.spaces.base import check_positive


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
