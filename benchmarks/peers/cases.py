"""The peer benchmark's cases: convx._benchmark's table plus the shapes it lacks.

The Case class, the layer geometry and the NumPy baselines all come from
:mod:`convx._benchmark`; only the list differs.
"""

from __future__ import annotations

from collections.abc import Sequence

from convx._benchmark import DEFAULT_CASES, Case, cases_matching

#: Cases the peer comparison adds to convx._benchmark.DEFAULT_CASES.
EXTRA_CASES: tuple[Case, ...] = (
    # ResNet stage 3: 256->256 3x3 at 14x14 (small spatial size, many channels).
    Case("conv 3x3 c256", "conv", 256, 256, (14, 14), (3, 3), padding=1),
    # EfficientNet-style 5x5 stride-2 depthwise ('same' padding, odd total -> extra at the end).
    Case("depthwise 5x5 s2", "depthwise", 144, 144, (56, 56), (5, 5), stride=2),
    # Dilated depthwise (atrous separable convolutions of DeepLabv3+).
    Case("depthwise 3x3 d2", "depthwise", 128, 128, (56, 56), (3, 3), dilations=(2,)),
    Case("depthwise 3x3 d4", "depthwise", 256, 256, (28, 28), (3, 3), dilations=(4,)),
    # ConvNeXt stage 1: 7x7 depthwise, 96 channels at 56x56.
    Case("depthwise 7x7", "depthwise", 96, 96, (56, 56), (7, 7)),
    # MobileNet expansion 1x1 (64 -> 256 at 56x56).
    Case("pointwise 1x1 x4", "pointwise", 64, 256, (56, 56)),
    # Decoders: DCGAN's generator (k4 s2 from 8x8), U-Net's up-convolution (k2 s2), an up-sampling
    # k4 s2 and k3 s2 (output 2n - 1) head.
    Case("transposed DCGAN k4 s2", "transposed", 512, 256, (8, 8), (4, 4), stride=2, padding=1),
    Case("transposed U-Net k2 s2", "transposed", 128, 64, (56, 56), (2, 2), stride=2, padding=0),
    Case("transposed k4 s2", "transposed", 64, 32, (56, 56), (4, 4), stride=2, padding=1),
    Case("transposed k3 s2", "transposed", 128, 64, (28, 28), (3, 3), stride=2, padding=1),
)

_ORDER = ("conv", "dilated", "rgb", "grouped", "pointwise", "depthwise", "separable", "wavenet", "bytenet",
          "transposed")


def _rank(case: Case) -> tuple[int, int]:
    for i, prefix in enumerate(_ORDER):
        if case.name.startswith(prefix):
            return i, 0
    return len(_ORDER), 0


#: Every case, grouped by kind (stable within a kind).
PEER_CASES: tuple[Case, ...] = tuple(sorted(DEFAULT_CASES + EXTRA_CASES, key=_rank))


def select(filters: str | Sequence[str] | None) -> list[Case]:
    """All cases, or those whose name contains one of the comma-separated substrings."""
    if not filters:
        return list(PEER_CASES)
    return cases_matching(PEER_CASES, filters.split(",") if isinstance(filters, str) else filters)
