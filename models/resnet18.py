"""ResNet-18 for 32x32 images (the CIFAR variant: 3x3 stem, no max-pool), from He et al., 2016."""
from __future__ import annotations

import os

from tinygrad_ift import Tensor, nn

from .plotting import save_panels, scale_to_unit, tile


class BasicBlock(nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), two 3x3 convolutions without bias.

    The shortcut is the identity when the shapes match; otherwise a strided 1x1 convolution + BN that
    matches the channels and the resolution. bn1 is a BatchNormReLU2d: relu(bn1(.)) as one op (one fused
    kernel on a GPU), with BatchNorm2d's parameters and names.
    """

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNormReLU2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False),
                                          nn.BatchNorm2d(planes))

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn1(self.conv1(x))  # relu(bn1(conv1(x)))
        out = self.bn2(self.conv2(out))
        return (out + self.shortcut(x)).relu()


class ResNet18(nn.Module):
    """3x3 stem (3 -> 64) + BN + ReLU (one BatchNormReLU2d), four stages of two blocks (64/128/256/512 channels, strides 1/2/2/2),
    global average pooling and a linear classifier."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNormReLU2d(64)
        self.layer1 = self._make_layer(64, 64, stride=1)
        self.layer2 = self._make_layer(64, 128, stride=2)
        self.layer3 = self._make_layer(128, 256, stride=2)
        self.layer4 = self._make_layer(256, 512, stride=2)
        self.linear = nn.Linear(512, num_classes)

    @staticmethod
    def _make_layer(in_planes: int, planes: int, stride: int) -> nn.Sequential:
        """A stage: a block that may change channels and resolution, then one that keeps them."""
        return nn.Sequential(BasicBlock(in_planes, planes, stride), BasicBlock(planes, planes, 1))

    def forward(self, images: Tensor) -> Tensor:
        """(batch, 3, H, W) images -> (batch, num_classes) logits."""
        out = self.bn1(self.conv1(images))  # relu(bn1(conv1(images)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(out.mean(axis=(2, 3)))

    def visualize(self, logdir: str | os.PathLike) -> str:
        """Save the 64 first-layer 3x3 kernels as a grid: in RGB (each kernel scaled to [0, 1] on its own),
        and the mean over the colour channels in grey. Returns the PNG's path."""
        kernels = self.conv1.weight.numpy().transpose(0, 2, 3, 1)  # (64, 3, 3, RGB)
        rgb = tile(scale_to_unit(kernels), ncols=8)
        grey = tile(scale_to_unit(kernels.mean(axis=-1)), ncols=8)
        return save_panels(os.path.join(logdir, "resnet18_first_layer_kernels.png"),
                           [("RGB, per-kernel normalised", rgb, {}),
                            ("channel mean", grey, {"cmap": "gray", "vmin": 0.0, "vmax": 1.0})],
                           title=f"ResNet18 first layer: {kernels.shape[0]} kernels of 3x3x3")
