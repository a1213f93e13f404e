"""The course's data pipeline: load a dataset, split its training images once into train/valid, and build
the loaders (augmentation for training only, normalisation for all three splits)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .. import data

VALID_SIZE = 5000  # held out of the training images (fewer when a dataset is small: a tenth of it)
NUM_CLASSES = 10


@dataclass(frozen=True)
class DatasetSpec:
    """How to read a dataset and normalise it; `augment` says whether training images are flipped and cropped."""

    load: Callable[[str], dict]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    augment: bool


SPECS = {
    "cifar10": DatasetSpec(data.load_cifar10, data.CIFAR10_MEAN, data.CIFAR10_STD, augment=True),
    "mnist": DatasetSpec(data.load_mnist, (0.1307,), (0.3081,), augment=False),
    "fashion_mnist": DatasetSpec(data.load_fashion_mnist, (0.2860,), (0.3530,), augment=False),
}
DATASETS = tuple(SPECS)


@dataclass
class DataSplits:
    """The three loaders of a run and the shape of one image (channels, height, width)."""

    train_loader: data.DataLoader
    valid_loader: data.DataLoader
    test_loader: data.DataLoader
    image_shape: tuple[int, int, int]
    num_classes: int = NUM_CLASSES


def train_transform(spec: DatasetSpec, image_size: int) -> data.Compose:
    """uint8 HWC -> float CHW, then (CIFAR) horizontal flip and a mild random resized crop, then normalise."""
    steps = [data.ToFloatCHW()]
    if spec.augment:
        steps += [data.RandomHorizontalFlip(),
                  data.RandomResizedCrop(image_size, scale=(0.8, 1.0), ratio=(0.9, 1.1))]
    return data.Compose(steps + [data.Normalize(spec.mean, spec.std)])


def eval_transform(spec: DatasetSpec) -> data.Compose:
    return data.Compose([data.ToFloatCHW(), data.Normalize(spec.mean, spec.std)])


def prepare_data(config: dict) -> DataSplits:
    """Loaders for config['dataset'] in config['data_dir']: a seeded train/valid split of the training images
    (train limited to its first config['subset'] images when set) and the test set, batches on config['device']."""
    spec = SPECS[config["dataset"]]
    arrays = spec.load(config["data_dir"])
    missing = [key for key in ("x_train", "y_train", "x_test", "y_test") if key not in arrays]
    if missing:
        raise ValueError(f"{config['data_dir']} has no {'/'.join(missing)}: training needs both the training and "
                         "the test split (pass the folder that holds both, or a file that does)")
    full_train = data.ArrayDataset(arrays["x_train"], arrays["y_train"])
    valid_size = min(VALID_SIZE, len(full_train) // 10)
    train_set, valid_set = data.random_split(full_train, [len(full_train) - valid_size, valid_size],
                                             seed=config["seed"])
    if config["subset"] is not None:
        train_set = data.Subset(full_train, train_set.indices[:config["subset"]])
    test_set = data.ArrayDataset(arrays["x_test"], arrays["y_test"])
    height, width = arrays["x_train"].shape[1:3]
    channels = arrays["x_train"].shape[3] if arrays["x_train"].ndim == 4 else 1

    def loader(dataset, transform, shuffle: bool) -> data.DataLoader:
        return data.DataLoader(dataset, batch_size=config["batch_size"], shuffle=shuffle, transform=transform,
                               device=config["device"], seed=config["seed"], num_classes=NUM_CLASSES)

    return DataSplits(train_loader=loader(train_set, train_transform(spec, height), shuffle=True),
                      valid_loader=loader(valid_set, eval_transform(spec), shuffle=False),
                      test_loader=loader(test_set, eval_transform(spec), shuffle=False),
                      image_shape=(channels, height, width))
