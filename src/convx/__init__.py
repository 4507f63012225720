"""convx: fast convolutions for NumPy arrays, computed by a C/OpenMP core.

Dilated (atrous), strided, depthwise, depthwise-separable, pointwise (1x1), grouped and ordinary
convolutions in 1, 2 and 3 dimensions, and transposed convolutions, with PyTorch's argument
conventions. All compute cross-correlation, as PyTorch, TensorFlow and ONNX do.
"""

from ._config import __version__, get_config, show_config
from ._conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, depthwise_conv1d,
                    depthwise_conv2d, pointwise_conv, separable_conv1d, separable_conv2d)
from ._layers import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, DepthwiseConv1d,
                      DepthwiseConv2d, PointwiseConv, SeparableConv1d, SeparableConv2d)
from ._shapes import conv_output_shape, param_count, receptive_field

__all__ = [
    "__version__",
    "conv1d", "conv2d", "conv3d",
    "depthwise_conv1d", "depthwise_conv2d",
    "separable_conv1d", "separable_conv2d",
    "pointwise_conv",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "Conv1d", "Conv2d", "Conv3d",
    "DepthwiseConv1d", "DepthwiseConv2d",
    "SeparableConv1d", "SeparableConv2d",
    "PointwiseConv",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
    "conv_output_shape", "receptive_field", "param_count",
    "show_config", "get_config",
]
