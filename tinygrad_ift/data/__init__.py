"""Datasets, loaders and batch transforms: `from tinygrad_ift.data import DataLoader, load_cifar10`."""
from .cifar10 import CLASSES as CIFAR10_CLASSES
from .cifar10 import MEAN as CIFAR10_MEAN
from .cifar10 import STD as CIFAR10_STD
from .cifar10 import load_cifar10
from .dataset import ArrayDataset, Dataset, Subset, gather, random_split
from .download import download
from .images import read_image_folder, read_image_tar
from .loader import DataLoader
from .mnist import load_fashion_mnist, load_mnist, read_idx
from .paths import default_data_dir
from .rotated import load_rotated_fashion_mnist
from .svhn import load_svhn
from .transforms import (Compose, Normalize, RandomCrop, RandomHorizontalFlip, RandomResizedCrop, Rotate, ToFloatCHW,
                         bilinear_sample, rotate)

__all__ = ["Dataset", "ArrayDataset", "Subset", "gather", "random_split", "DataLoader",
           "Compose", "ToFloatCHW", "Normalize", "RandomHorizontalFlip", "RandomCrop", "RandomResizedCrop", "Rotate",
           "rotate", "bilinear_sample",
           "load_cifar10", "load_mnist", "load_fashion_mnist", "load_svhn", "load_rotated_fashion_mnist",
           "read_idx", "read_image_folder", "read_image_tar", "default_data_dir", "download",
           "CIFAR10_CLASSES", "CIFAR10_MEAN", "CIFAR10_STD"]
