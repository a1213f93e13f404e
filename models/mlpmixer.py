"""MLP-Mixer (Tolstikhin et al., 2021): patches mixed by MLPs, alternately across patches and across channels."""
from __future__ import annotations

import os
from typing import Sequence

from tinygrad_ift import Tensor, nn

from .activations import create_activation
from .plotting import save_panels, scale_symmetric, tile


class PatchEmbed(nn.Module):
    """Cut the image into non-overlapping patch_size x patch_size patches and project each to embed_dim:
    a convolution whose kernel and stride are the patch size. (B, C, H, W) -> (B, num_patches, embed_dim)."""

    def __init__(self, img_size: int, patch_size: int, in_chans: int = 3, embed_dim: int = 768) -> None:
        super().__init__()
        if patch_size <= 0 or img_size % patch_size:
            raise ValueError(f"PatchEmbed: patch_size {patch_size} must divide img_size {img_size}")
        self.img_size, self.patch_size = img_size, patch_size
        self.grid_size = img_size // patch_size
        self.num_patches = self.grid_size * self.grid_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[2:] != (self.img_size, self.img_size):
            raise ValueError(f"PatchEmbed: expected images of shape (B, C, {self.img_size}, {self.img_size}), "
                             f"got {x.shape}")
        return self.proj(x).flatten(2).transpose(1, 2)  # (B, D, g, g) -> (B, D, N) -> (B, N, D)


class Mlp(nn.Module):
    """fc1 -> activation -> dropout -> fc2 -> dropout, back to in_features (the MLP of ViT and Mixer)."""

    def __init__(self, in_features: int, hidden_features: int, activation: str = "gelu", drop: float = 0.) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = create_activation("Mlp", activation)
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_features, in_features)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop2(self.fc2(self.drop1(self.act(self.fc1(x)))))


class MixerBlock(nn.Module):
    """Two pre-norm residual MLPs on (B, seq_len, dim) tokens:
    token mixing   x + mlp_tokens(norm1(x)^T)^T   (each channel mixed across the patches),
    channel mixing x + mlp_channels(norm2(x))     (each patch mixed across the channels).
    Hidden widths are int(mlp_ratio[0] * dim) for the tokens and int(mlp_ratio[1] * dim) for the channels.
    """

    def __init__(self, dim: int, seq_len: int, mlp_ratio: Sequence[float] = (0.5, 4.0), activation: str = "gelu",
                 drop: float = 0.) -> None:
        super().__init__()
        tokens_dim, channels_dim = int(mlp_ratio[0] * dim), int(mlp_ratio[1] * dim)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp_tokens = Mlp(seq_len, tokens_dim, activation=activation, drop=drop)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp_channels = Mlp(dim, channels_dim, activation=activation, drop=drop)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.mlp_tokens(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.mlp_channels(self.norm2(x))


class MLPMixer(nn.Module):
    """Patch embedding -> num_blocks MixerBlocks -> LayerNorm -> mean over patches -> linear head.

    Initialisation: Linear weights Xavier-uniform, the patch convolution Kaiming-normal, biases zero,
    LayerNorm weight 1 and bias 0.
    """

    def __init__(self, num_classes: int, img_size: int, patch_size: int, embed_dim: int, num_blocks: int,
                 drop_rate: float = 0., activation: str = "gelu", mlp_ratio: Sequence[float] = (0.5, 4.0)) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.patchemb = PatchEmbed(img_size=img_size, patch_size=patch_size, in_chans=3, embed_dim=embed_dim)
        self.blocks = nn.Sequential(*[MixerBlock(embed_dim, self.patchemb.num_patches, mlp_ratio=mlp_ratio,
                                                 activation=activation, drop=drop_rate)
                                      for _ in range(num_blocks)])
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, num_classes)
        self.apply(self.init_weights)

    @staticmethod
    def init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def forward(self, images: Tensor) -> Tensor:
        """(batch, 3, img_size, img_size) images -> (batch, num_classes) logits."""
        x = self.norm(self.blocks(self.patchemb(images)))
        return self.head(x.mean(axis=1))

    def visualize(self, logdir: str | os.PathLike) -> str:
        """Save the first token-mixing layer of block 0, as in the MLP-Mixer paper: each hidden unit's weights
        over the patches drawn as a grid_size x grid_size image (scaled by its largest magnitude, so that
        red and blue are the signs). Returns the PNG's path."""
        weight = self.blocks[0].mlp_tokens.fc1.weight.numpy()  # (hidden units, num_patches)
        grid = self.patchemb.grid_size
        units = scale_symmetric(weight.reshape(-1, grid, grid))
        mosaic = tile(units, fill=0.0)
        return save_panels(os.path.join(logdir, "mlpmixer_token_mixing_weights.png"),
                           [(f"{len(units)} hidden units over the {grid}x{grid} patch grid", mosaic,
                             {"cmap": "RdBu_r", "vmin": -1.0, "vmax": 1.0})],
                           title="MLP-Mixer block 0: token-mixing fc1 weights")
