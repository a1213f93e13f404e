"""Layers and containers with PyTorch's names: `from tinygrad_ift import nn`."""
from . import functional, init
from .activation import (CELU, ELU, GELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax,
                         Mish, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softmin, Softplus, Softsign, Tanh)
from .conv import Conv2d
from .conv_from_conv2d import Conv1d, Conv3d, ConvTranspose2d
from .upsampling import Upsample
from .dropout import Dropout
from .linear import Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Flatten, Identity, Module, ModuleList, Parameter, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, BatchNormReLU2d, LayerNorm
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, AvgPool3d, MaxPool2d, MaxPool3d

__all__ = ["functional", "init", "Module", "Parameter", "Sequential", "ModuleList", "Identity", "Flatten",
           "Linear", "Conv2d", "Conv1d", "Conv3d", "ConvTranspose2d", "Upsample", "MaxPool2d", "AvgPool2d", "MaxPool3d",
           "AvgPool3d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "BatchNorm1d",
           "BatchNorm2d", "BatchNormReLU2d", "LayerNorm", "Dropout", "ReLU", "Tanh", "Sigmoid", "GELU", "Softmax",
           "Softmin", "LogSoftmax", "LeakyReLU", "ELU", "SELU", "CELU", "SiLU", "Mish", "Softplus", "Hardtanh", "ReLU6",
           "Hardsigmoid", "Hardswish", "LogSigmoid", "Softsign",
           "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss"]
