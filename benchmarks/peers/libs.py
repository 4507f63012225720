"""The peers: each turns a case's layers (convx._benchmark.Layer) into a no-argument callable
that runs the whole case (every layer of a stack) on the same NumPy input and returns NumPy.

A peer that is not installed, or cannot run a case (ONNX Runtime has no float64 Conv on
the CPU provider), raises :class:`Unavailable` with the reason; the runner reports it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from convx._benchmark import Case, Layer, _numpy_layer, _stack


class Unavailable(Exception):
    """This peer cannot run here (not installed) or cannot run this case."""


Runner = Callable[[], np.ndarray]


def _kernel(case: Case) -> tuple[int, ...]:
    return case.kernel or (1,) * case.ndim


def _groups(case: Case, channels: int) -> int:
    return channels if case.family in ("depthwise", "separable") else case.groups


# --------------------------------------------------------------------------------------
# convx (layer objects) and NumPy (convx._benchmark's code)
# --------------------------------------------------------------------------------------


def convx_layer_object(case: Case, layer: Layer):
    """The case's layer as a convx layer object: weights packed once, when it is built, as ONNX
    Runtime packs them when its session is created (torch's functional calls pack per call)."""
    import convx

    nd, w = case.ndim, layer.weights
    geometry = dict(stride=layer.stride, padding=case.padding, dilation=layer.dilation)
    if case.family == "conv":
        return getattr(convx, f"Conv{nd}d")(w[0], None, groups=case.groups, **geometry)
    if case.family == "depthwise":
        return getattr(convx, f"DepthwiseConv{nd}d")(w[0], None, **geometry)
    if case.family == "separable":
        return getattr(convx, f"SeparableConv{nd}d")(w[0], w[1], None, **geometry)
    if case.family == "transposed":
        return getattr(convx, f"ConvTranspose{nd}d")(w[0], None, groups=case.groups, **geometry)
    return convx.PointwiseConv(w[0])


def convx_runner(case: Case, x: np.ndarray, layers: Sequence[Layer], threads: int) -> Runner:
    objects = [convx_layer_object(case, layer) for layer in layers]
    return lambda: _stack(lambda h, obj: obj(h, num_threads=threads), x, objects)


def numpy_runner(case: Case, x: np.ndarray, layers: Sequence[Layer], method: str) -> Runner:
    return lambda: _stack(lambda h, layer: _numpy_layer(case, h, layer, method), x, layers)


# --------------------------------------------------------------------------------------
# PyTorch: torch.nn.functional.conv{1,2,3}d under torch.no_grad()
# --------------------------------------------------------------------------------------


def torch_module():
    try:
        import torch
    except ImportError as exc:
        raise Unavailable(f"torch is not installed ({exc})") from None
    return torch


def torch_version() -> str | None:
    try:
        return torch_module().__version__
    except Unavailable:
        return None


def torch_set_threads(threads: int) -> None:
    torch = torch_module()
    torch.set_num_threads(threads)


def torch_runner(case: Case, x: np.ndarray, layers: Sequence[Layer], threads: int) -> Runner:
    """The case in PyTorch: symmetric padding goes to conv*d's ``padding``; asymmetric
    padding ('same' with an even total, 'causal') is an explicit ``F.pad`` first, as
    models ported from TensorFlow / Keras do. Transposed cases: conv_transpose*d."""
    torch = torch_module()
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    nd = case.ndim
    conv = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
    conv_transpose = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[nd - 1]
    ones = (1,) * nd
    steps = []
    channels = x.shape[1]
    for layer in layers:
        w = [torch.from_numpy(np.ascontiguousarray(a)) for a in layer.weights]
        if case.family == "pointwise":
            w = [w[0].reshape(*w[0].shape, *ones)]
        elif case.family == "separable":
            w[1] = w[1].reshape(*w[1].shape, *ones)
        symmetric = all(b == a for b, a in layer.pads)
        padding = tuple(b for b, _ in layer.pads) if symmetric else 0
        # F.pad wants (last axis before, last axis after, previous axis ...).
        pre = None if symmetric else tuple(v for b, a in reversed(layer.pads) for v in (b, a))
        steps.append((w, layer.stride, layer.dilation, padding, pre, _groups(case, channels)))
        channels = case.out_channels

    family = case.family
    xt = torch.from_numpy(x)

    def run() -> np.ndarray:
        with torch.no_grad():
            h = xt
            for w, s, d, padding, pre, g in steps:
                if family == "pointwise":
                    h = conv(h, w[0])
                    continue
                if family == "transposed":
                    h = conv_transpose(h, w[0], None, s, padding, 0, g, d)
                    continue
                if pre is not None:
                    h = F.pad(h, pre)
                h = conv(h, w[0], None, s, padding, d, g)
                if family == "separable":
                    h = conv(h, w[1])
            return h.numpy()

    return run


# --------------------------------------------------------------------------------------
# ONNX Runtime: one graph per case (one Conv node per layer; separable = depthwise + 1x1)
# --------------------------------------------------------------------------------------


def ort_modules():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError as exc:
        raise Unavailable(f"onnx is not installed ({exc})") from None
    try:
        import onnxruntime
    except ImportError as exc:
        raise Unavailable(f"onnxruntime is not installed ({exc})") from None
    return onnx, helper, numpy_helper, onnxruntime


def ort_version() -> str | None:
    try:
        return ort_modules()[3].__version__
    except Unavailable:
        return None


def onnx_model(case: Case, x: np.ndarray, layers: Sequence[Layer]):
    """A ModelProto computing the case: Conv (or ConvTranspose) nodes with explicit pads,
    weights as initializers."""
    onnx, helper, numpy_helper, _ = ort_modules()
    elem = helper.np_dtype_to_tensor_dtype(x.dtype)
    nd = case.ndim
    kernel = list(_kernel(case))
    ones = (1,) * nd
    nodes, inits = [], []
    h, channels = "x", x.shape[1]
    for i, layer in enumerate(layers):
        attrs = dict(strides=[layer.stride] * nd, dilations=[layer.dilation] * nd,
                     pads=[b for b, _ in layer.pads] + [a for _, a in layer.pads])
        if case.family == "pointwise":
            w = layer.weights[0].reshape(*layer.weights[0].shape, *ones)
            inits.append(numpy_helper.from_array(np.ascontiguousarray(w), f"w{i}"))
            nodes.append(helper.make_node("Conv", [h, f"w{i}"], [f"h{i}"], kernel_shape=list(ones)))
        else:
            inits.append(numpy_helper.from_array(np.ascontiguousarray(layer.weights[0]), f"w{i}"))
            op = "ConvTranspose" if case.family == "transposed" else "Conv"
            nodes.append(helper.make_node(op, [h, f"w{i}"], [f"h{i}"], kernel_shape=kernel,
                                          group=_groups(case, channels), **attrs))
            if case.family == "separable":
                w = layer.weights[1].reshape(*layer.weights[1].shape, *ones)
                inits.append(numpy_helper.from_array(np.ascontiguousarray(w), f"p{i}"))
                nodes.append(helper.make_node("Conv", [f"h{i}", f"p{i}"], [f"q{i}"], kernel_shape=list(ones)))
        h = nodes[-1].output[0]
        channels = case.out_channels
    nodes[-1].output[0] = "y"
    graph = helper.make_graph(
        nodes, case.name.replace(" ", "_"),
        [helper.make_tensor_value_info("x", elem, list(x.shape))],
        [helper.make_tensor_value_info("y", elem, [x.shape[0], case.out_channels, *layers[-1].out_size])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="convx bench_peers")
    model.ir_version = min(model.ir_version, 9)
    onnx.checker.check_model(model)
    return model


def ort_runner(case: Case, x: np.ndarray, layers: Sequence[Layer], threads: int) -> Runner:
    *_, ort = ort_modules()
    model = onnx_model(case, x, layers)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(model.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
    except Exception as exc:  # NOT_IMPLEMENTED for float64 Conv, for instance
        text = str(exc)
        if "NOT_IMPLEMENTED" in text:
            raise Unavailable(f"ONNX Runtime's CPU provider has no {x.dtype} Conv") from None
        raise Unavailable(f"ONNX Runtime cannot load the model: {text.splitlines()[0][:200]}") from None
    feed = {"x": x}
    return lambda: session.run(["y"], feed)[0]


# --------------------------------------------------------------------------------------

PEERS = ("numpy", "torch", "ort")
LABELS = {"numpy": "NumPy", "torch": "torch", "ort": "ORT", "convx": "convx"}


def versions() -> dict[str, str | None]:
    return {"torch": torch_version(), "ort": ort_version(), "numpy": np.__version__}


def flops_of(layers: Sequence[Layer]) -> int:
    return sum(layer.flops for layer in layers)


def bytes_of(case: Case, x: np.ndarray, layers: Sequence[Layer]) -> int:
    """Bytes a layer must move at least: its input, its output and its weights, each once."""
    total, shape = 0, x.shape
    for layer in layers:
        item = x.dtype.itemsize
        c_out = case.out_channels
        total += math.prod(shape) * item + shape[0] * c_out * math.prod(layer.out_size) * item
        total += sum(w.nbytes for w in layer.weights)
        shape = (shape[0], c_out, *layer.out_size)
    return total
