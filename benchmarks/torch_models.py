"""The course models written in PyTorch, with the state_dict names ours have (`layer1.0.conv1.weight`,
`blocks.0.mlp_tokens.fc1.weight`, ...): the oracles of tests/test_models.py and the opponents in
benchmarks.bench_models."""
from __future__ import annotations

import torch


class TorchMLP(torch.nn.Module):
    def __init__(self, input_size, hidden_sizes, num_classes, activation):
        super().__init__()
        widths = [input_size] + list(hidden_sizes)
        self.hidden_layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.output_layer = torch.nn.Linear(widths[-1], num_classes)
        self.activation = getattr(torch, activation)

    def forward(self, images):
        x = images.flatten(1)
        for layer in self.hidden_layers:
            x = self.activation(layer(x))
        return self.output_layer(x)


class TorchBasicBlock(torch.nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(planes)
        self.conv2 = torch.nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(planes)
        self.shortcut = torch.nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = torch.nn.Sequential(torch.nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                                torch.nn.BatchNorm2d(planes))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class TorchResNet18(torch.nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(64)
        widths = [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]
        for i, (a, b, stride) in enumerate(widths):
            setattr(self, f"layer{i + 1}", torch.nn.Sequential(TorchBasicBlock(a, b, stride), TorchBasicBlock(b, b)))
        self.linear = torch.nn.Linear(512, num_classes)

    def forward(self, images):
        out = torch.relu(self.bn1(self.conv1(images)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(out.mean(dim=(2, 3)))


class TorchMlp(torch.nn.Module):
    def __init__(self, in_features, hidden_features, activation, drop):
        super().__init__()
        self.fc1 = torch.nn.Linear(in_features, hidden_features)
        self.act = {"gelu": torch.nn.GELU, "relu": torch.nn.ReLU}[activation]()
        self.drop1 = torch.nn.Dropout(drop)
        self.fc2 = torch.nn.Linear(hidden_features, in_features)
        self.drop2 = torch.nn.Dropout(drop)

    def forward(self, x):
        return self.drop2(self.fc2(self.drop1(self.act(self.fc1(x)))))


class TorchMixerBlock(torch.nn.Module):
    def __init__(self, dim, seq_len, mlp_ratio, activation, drop):
        super().__init__()
        self.norm1 = torch.nn.LayerNorm(dim, eps=1e-6)
        self.mlp_tokens = TorchMlp(seq_len, int(mlp_ratio[0] * dim), activation, drop)
        self.norm2 = torch.nn.LayerNorm(dim, eps=1e-6)
        self.mlp_channels = TorchMlp(dim, int(mlp_ratio[1] * dim), activation, drop)

    def forward(self, x):
        x = x + self.mlp_tokens(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.mlp_channels(self.norm2(x))


class TorchPatchEmbed(torch.nn.Module):
    def __init__(self, patch_size, embed_dim):
        super().__init__()
        self.proj = torch.nn.Conv2d(3, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class TorchMLPMixer(torch.nn.Module):
    def __init__(self, num_classes, img_size, patch_size, embed_dim, num_blocks, drop_rate=0.0, activation="gelu",
                 mlp_ratio=(0.5, 4.0)):
        super().__init__()
        self.patchemb = TorchPatchEmbed(patch_size, embed_dim)
        seq_len = (img_size // patch_size) ** 2
        self.blocks = torch.nn.Sequential(*[TorchMixerBlock(embed_dim, seq_len, mlp_ratio, activation, drop_rate)
                                            for _ in range(num_blocks)])
        self.norm = torch.nn.LayerNorm(embed_dim)
        self.head = torch.nn.Linear(embed_dim, num_classes)

    def forward(self, images):
        return self.head(self.norm(self.blocks(self.patchemb(images))).mean(dim=1))
