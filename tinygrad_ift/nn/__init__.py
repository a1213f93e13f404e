"""Layers and containers with PyTorch's names: `from tinygrad_ift import nn`."""
from . import functional, init
from .activation import GELU, ReLU, Sigmoid, Softmax, Tanh
from .conv import Conv2d
from .dropout import Dropout
from .linear import Linear
from .loss import CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Flatten, Identity, Module, ModuleList, Parameter, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d

__all__ = ["functional", "init", "Module", "Parameter", "Sequential", "ModuleList", "Identity", "Flatten",
           "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "BatchNorm1d",
           "BatchNorm2d", "LayerNorm", "Dropout", "ReLU", "Tanh", "Sigmoid", "GELU", "Softmax",
           "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss"]
