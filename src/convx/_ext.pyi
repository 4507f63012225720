"""Types of the private compiled module (src/convx/_ext.pyx); only convx's Python layer calls it."""

from collections.abc import Sequence
from typing import TypedDict

import numpy as np

PADDING_MODES: dict[str, int]

class _CoreConfig(TypedDict):
    openmp: bool
    forked_child: bool
    max_threads: int
    isa: str
    cpu_features: str

class PackedWeights:
    def __init__(self, w: np.ndarray, b: np.ndarray | None, *, channels_last: bool, transposed: bool, groups: int,
                 in_channels: int, out_channels: int, kernel: Sequence[int]) -> None: ...
    def run(self, x: np.ndarray, y: np.ndarray, *, padding_mode: str, batch: int, groups: int, in_channels: int,
            out_channels: int, in_size: Sequence[int], out_size: Sequence[int], stride: Sequence[int],
            dilation: Sequence[int], pad_before: Sequence[int], num_threads: int) -> np.ndarray: ...
    def run_separable(self, pointwise: PackedWeights, x: np.ndarray, y: np.ndarray, *, padding_mode: str, batch: int,
                      groups: int, in_channels: int, out_channels: int, merged_channels: int, in_size: Sequence[int],
                      out_size: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
                      pad_before: Sequence[int], num_threads: int) -> np.ndarray: ...

def openmp_enabled() -> bool: ...
def max_threads() -> int: ...
def memory_held() -> int: ...
def memory_peak() -> int: ...
def reset_memory_peak() -> None: ...
def in_forked_child() -> bool: ...
def config() -> _CoreConfig: ...
