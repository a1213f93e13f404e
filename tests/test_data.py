"""Data: datasets, the loader, batch transforms, and every file format (written by the tests themselves),
plus the shared real datasets when they are present."""
from __future__ import annotations

import gzip
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_ift as tg
from tinygrad_ift import data
from tinygrad_ift.backend import cuda_available
from tinygrad_ift.data.paths import default_data_dir

SHARED = default_data_dir()


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGRAD_IFT_CACHE", str(tmp_path / "cache"))


def images(n, h=32, w=32, c=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, c), dtype=np.uint8)


# ----- datasets and the loader -------------------------------------------------------------------------
def test_random_split_is_disjoint_and_seeded():
    ds = data.ArrayDataset(np.arange(100), np.arange(100))
    a, b = data.random_split(ds, [90, 10], seed=3)
    assert len(a) == 90 and len(b) == 10
    assert not set(a.indices) & set(b.indices) and set(a.indices) | set(b.indices) == set(range(100))
    np.testing.assert_array_equal(data.random_split(ds, [90, 10], seed=3)[1].indices, b.indices)
    with pytest.raises(ValueError, match="add up to 99"):
        data.random_split(ds, [90, 9])


def test_loader_batches_len_drop_last_and_tensors(device):
    ds = data.ArrayDataset(np.arange(10, dtype=np.float32)[:, None], np.arange(10))
    loader = data.DataLoader(ds, batch_size=4, device=device)
    batches = list(loader)
    assert len(loader) == len(batches) == 3 and batches[-1][0].shape == (2, 1)
    assert isinstance(batches[0][0], tg.Tensor) and batches[0][1].dtype == np.int64
    assert len(data.DataLoader(ds, batch_size=4, drop_last=True, device=device)) == 2
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in batches]), np.arange(10))


def test_shuffle_is_seeded_changes_per_epoch_and_prefetch_changes_nothing(device):
    ds = data.ArrayDataset(np.arange(50)[:, None], np.arange(50))

    def epochs(loader):
        return [np.concatenate([y.numpy() for _, y in loader]) for _ in range(2)]
    first = epochs(data.DataLoader(ds, batch_size=8, shuffle=True, seed=1, device=device))
    assert sorted(first[0]) == list(range(50)) and not np.array_equal(first[0], first[1])
    for other in (data.DataLoader(ds, batch_size=8, shuffle=True, seed=1, prefetch=False, device=device),
                  data.DataLoader(ds, batch_size=8, shuffle=True, seed=1, device=device)):
        for a, b in zip(first, epochs(other)):
            np.testing.assert_array_equal(a, b)
    tg.manual_seed(5)
    a = epochs(data.DataLoader(ds, batch_size=8, shuffle=True, device=device))
    tg.manual_seed(5)
    np.testing.assert_array_equal(a[0], epochs(data.DataLoader(ds, batch_size=8, shuffle=True, device=device))[0])


def test_loader_applies_transform_and_reports_worker_errors(device):
    ds = data.ArrayDataset(images(6), np.zeros(6, dtype=np.int64))
    x, _ = next(iter(data.DataLoader(ds, batch_size=6, transform=data.ToFloatCHW(), device=device)))
    assert x.shape == (6, 3, 32, 32) and x.dtype == np.float32 and float(x.numpy().max()) <= 1.0

    class Broken:
        def __len__(self):
            return 4

        def __getitem__(self, index):
            raise OSError("disk gone")
    with pytest.raises(OSError, match="disk gone"):
        list(data.DataLoader(Broken(), batch_size=2, device=device))


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(), shuffle=st.booleans())
def test_an_epoch_visits_every_item_once(n, batch_size, drop_last, shuffle):
    ds = data.ArrayDataset(np.zeros((n, 2), np.float32), np.arange(n))
    loader = data.DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=0)
    seen = [y.numpy() for _, y in loader]
    full = seen if drop_last else seen[:-1]
    assert len(seen) == len(loader) and all(len(y) == batch_size for y in full)
    seen = np.concatenate(seen) if seen else np.zeros(0, np.int64)
    assert len(set(seen.tolist())) == len(seen) == (n // batch_size * batch_size if drop_last else n)


def test_loader_casts_inputs_to_float32_and_labels_to_int64(device):
    ds = data.ArrayDataset(np.ones((5, 3), np.float64), np.arange(5, dtype=np.int32))
    x, y = next(iter(data.DataLoader(ds, batch_size=5, device=device)))
    assert x.dtype == np.float32 and y.dtype == np.int64
    targets = data.ArrayDataset(np.ones((5, 3), np.float32), np.ones((5, 1), np.float32))
    assert next(iter(data.DataLoader(targets, batch_size=5, device=device)))[1].dtype == np.float32


def test_datasets_without_batch_indexing_are_gathered_item_by_item(device):
    class Squares:
        def __len__(self):
            return 7

        def __getitem__(self, i):
            assert isinstance(i, int)
            return np.full(2, i * i, np.float32), i

    loader = data.DataLoader(data.random_split(Squares(), [5, 2], seed=0)[0], batch_size=3, shuffle=True, seed=4)
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in loader])
    x, y = np.concatenate(xs), np.concatenate(ys)
    assert x.shape == (5, 2) and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0], y ** 2)


# ----- transforms ----------------------------------------------------------------------------------------
def batch(n=4, c=3, h=8, w=8, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(np.float32)


def test_flip_twice_is_identity_and_p_controls_it():
    x = batch()
    flip = data.RandomHorizontalFlip(1.0)
    np.testing.assert_array_equal(flip(x), x[..., ::-1])
    np.testing.assert_array_equal(flip(flip(x)), x)
    np.testing.assert_array_equal(data.RandomHorizontalFlip(0.0)(x), x)
    tg.manual_seed(0)
    flipped = (data.RandomHorizontalFlip(0.5)(batch(n=400)) != batch(n=400)).any(axis=(1, 2, 3)).mean()
    assert 0.4 < flipped < 0.6


def test_random_crop_takes_windows_of_the_padded_image():
    x = batch()
    out = data.RandomCrop(8, padding=2)(x)
    assert out.shape == (4, 3, 8, 8)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for i in range(4):
        assert any(np.array_equal(out[i], padded[i, :, t:t + 8, l:l + 8]) for t in range(5) for l in range(5))
    with pytest.raises(ValueError, match="larger"):
        data.RandomCrop(20)(x)


def test_random_resized_crop():
    x = batch(h=12, w=12)
    np.testing.assert_allclose(data.RandomResizedCrop(12, scale=(1, 1), ratio=(1, 1))(x), x, atol=1e-6)
    out = data.RandomResizedCrop(6, scale=(0.8, 1.0), ratio=(0.9, 1.1))(x)
    assert out.shape == (4, 3, 6, 6) and out.min() >= x.min() - 1e-6 and out.max() <= x.max() + 1e-6
    crops = data.RandomResizedCrop(6, scale=(0.25, 0.25), ratio=(1, 1))(x)  # 6x6 windows, not resized
    for i in range(4):
        assert any(np.allclose(crops[i], x[i, :, t:t + 6, l:l + 6], atol=1e-6) for t in range(7) for l in range(7))
    wide = data.RandomResizedCrop((4, 10), scale=(0.5, 1.0))(batch(h=6, w=20))
    assert wide.shape == (4, 3, 4, 10) and wide.dtype == np.float32


def test_normalize_and_compose():
    x = batch(n=200)
    out = data.Compose([data.Normalize([0.5] * 3, [0.25] * 3)])(x)
    np.testing.assert_allclose(out, (x - 0.5) / 0.25, rtol=1e-6)
    with pytest.raises(ValueError, match="Normalize"):
        data.Normalize([0.5], [0.2])(x)


def test_rotate_90_equals_rot90_and_360_is_identity():
    x = batch(h=9, w=9)
    np.testing.assert_allclose(data.Rotate(90)(x), np.rot90(x, 1, axes=(2, 3)), atol=1e-5)
    np.testing.assert_allclose(data.Rotate(360)(x), x, atol=1e-5)
    assert np.abs(data.Rotate(45)(x)[:, :, 0, 0]).max() == 0  # corners come from outside: zero fill


def test_transforms_are_seeded():
    x = batch(n=16)
    t = data.Compose([data.RandomHorizontalFlip(), data.RandomCrop(8, 1), data.RandomResizedCrop(8)])
    tg.manual_seed(11)
    a = t(x)
    tg.manual_seed(11)
    np.testing.assert_array_equal(a, t(x))


@pytest.mark.skipif(not cuda_available(), reason="needs CuPy and a CUDA GPU")
def test_loader_and_transforms_run_on_the_gpu():
    ds = data.ArrayDataset(images(8), np.arange(8))
    transform = data.Compose([data.ToFloatCHW(), data.RandomHorizontalFlip(1.0), data.RandomCrop(32, padding=4),
                              data.RandomResizedCrop(32), data.Rotate(90), data.Normalize([0.5] * 3, [0.2] * 3)])
    x, y = next(iter(data.DataLoader(ds, batch_size=8, transform=transform, device="cuda")))
    assert x.device == "cuda" and y.device == "cuda" and x.shape == (8, 3, 32, 32) and x.dtype == np.float32
    flip = data.Compose([data.ToFloatCHW(), data.RandomHorizontalFlip(1.0)])
    gpu = next(iter(data.DataLoader(ds, batch_size=8, transform=flip, device="cuda")))[0].numpy()
    np.testing.assert_array_equal(gpu, flip(images(8)))


# ----- file formats, written here ------------------------------------------------------------------------
def write_cifar_pickles(folder: Path, n=4):
    folder.mkdir(parents=True)
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        x = images(n, seed=i)
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": x.transpose(0, 3, 1, 2).reshape(n, -1), b"labels": list(range(n))}, f)


def test_cifar10_pickles(tmp_path):
    write_cifar_pickles(tmp_path / "cifar-10-batches-py")
    out = data.load_cifar10(tmp_path)
    assert out["x_train"].shape == (20, 32, 32, 3) and out["x_test"].shape == (4, 32, 32, 3)
    np.testing.assert_array_equal(out["x_test"], images(4, seed=5))
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="test_batch"):
        data.load_cifar10(tmp_path)


def test_cifar10_npz(tmp_path):
    np.savez(tmp_path / "cifar10.npz", x_train=images(3), y_train=np.arange(3), x_test=images(2), y_test=np.arange(2))
    assert data.load_cifar10(tmp_path)["x_train"].shape == (3, 32, 32, 3)
    assert data.load_cifar10(tmp_path / "cifar10.npz")["y_test"].tolist() == [0, 1]
    np.savez(tmp_path / "test-only.npz", x_test=images(2), y_test=np.array([3, 4], np.int32))
    only = data.load_cifar10(tmp_path / "test-only.npz")
    assert sorted(only) == ["x_test", "y_test"] and only["y_test"].dtype == np.int64
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"\(N, 32, 32, 3\)"):
        data.load_cifar10(tmp_path / "bad.npz")


def write_tree(root: Path, split: str, classes, per_class=2):
    from PIL import Image
    for c, name in enumerate(classes):
        (root / split / name).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(np.full((32, 32, 3), 10 * c + i, np.uint8)).save(root / split / name / f"{i}.png")


def test_cifar10_image_folders_and_tar(tmp_path):
    classes = data.CIFAR10_CLASSES[:3]
    write_tree(tmp_path / "folders", "train", classes)
    write_tree(tmp_path / "folders", "test", classes, per_class=1)
    out = data.load_cifar10(tmp_path / "folders")
    assert out["x_train"].shape == (6, 32, 32, 3) and out["y_train"].tolist() == [0, 0, 1, 1, 2, 2]
    assert out["x_train"][2, 0, 0, 0] == 10  # class 1, image 0, lossless PNG
    shared = tmp_path / "shared"
    shared.mkdir()
    with tarfile.open(shared / "cifar10-train-jpeg.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "folders" / "train", arcname="train")
    np.savez(shared / "cifar10-test.npz", x_test=images(2), y_test=np.array([1, 2]))
    out = data.load_cifar10(shared)
    assert out["y_train"].tolist() == [0, 0, 1, 1, 2, 2] and out["x_test"].shape == (2, 32, 32, 3)


def test_image_folder_class_order_cache_and_errors(tmp_path):
    for split in ("train", "test"):  # CIFAR class folders keep CIFAR label ids
        write_tree(tmp_path / "cifar", split, ["cat", "airplane"], per_class=1)
    assert data.load_cifar10(tmp_path / "cifar")["y_train"].tolist() == [0, 3]
    write_tree(tmp_path, "other", ["zebra", "ant"], per_class=1)  # anything else: sorted folder order
    out = data.read_image_folder(tmp_path / "other")
    assert out["classes"].tolist() == ["ant", "zebra"] and out["x"][0, 0, 0, 0] == 10
    caches = sorted((tmp_path / "cache").glob("imagefolder-*"))
    cached = data.read_image_folder(tmp_path / "other")  # a second read comes from the cache
    assert sorted((tmp_path / "cache").glob("imagefolder-*")) == caches
    np.testing.assert_array_equal(cached["x"], out["x"])
    from PIL import Image
    Image.fromarray(np.full((32, 32, 3), 99, np.uint8)).save(tmp_path / "other" / "ant" / "0.png")
    assert data.read_image_folder(tmp_path / "other")["x"][0, 0, 0, 0] == 99  # a changed file is seen
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "other" / "ant" / "1.png")
    with pytest.raises(ValueError, match="differ in size"):
        data.read_image_folder(tmp_path / "other")
    (tmp_path / "other" / "ant" / "1.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="1.png: not a readable image"):
        data.read_image_folder(tmp_path / "other")


def test_cifar10_empty_folder_lists_what_was_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py.*cifar10.npz.*train/ and test/"):
        data.load_cifar10(tmp_path)


def write_idx(path: Path, array: np.ndarray, compress: bool):
    magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_idx_files(tmp_path, compress):
    x = images(5, 28, 28, 1)[..., 0]
    for stem, arr in (("train-images-idx3-ubyte", x), ("train-labels-idx1-ubyte", np.arange(5)),
                      ("t10k-images-idx3-ubyte", x[:2]), ("t10k-labels-idx1-ubyte", np.arange(2))):
        write_idx(tmp_path / stem, arr, compress)
    out = data.load_fashion_mnist(tmp_path)
    np.testing.assert_array_equal(out["x_train"], x)
    assert out["y_test"].dtype == np.int64 and data.load_mnist(tmp_path)["x_test"].shape == (2, 28, 28)


def test_idx_corrupt_and_missing(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x07" + b"\x00" * 12)
    with pytest.raises(ValueError, match="magic number"):
        data.read_idx(tmp_path / "train-images-idx3-ubyte")
    write_idx(tmp_path / "short", np.zeros((2, 28, 28)), False)
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-10])
    with pytest.raises(ValueError, match="holds"):
        data.read_idx(tmp_path / "short")
    (tmp_path / "partial").mkdir()
    write_idx(tmp_path / "partial" / "train-images-idx3-ubyte", np.zeros((2, 28, 28)), False)
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        data.load_mnist(tmp_path / "partial")


def test_mnist_npz(tmp_path):
    x = images(3, 28, 28, 1)[..., 0]
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=np.arange(3), x_test=x, y_test=np.arange(3))
    assert data.load_mnist(tmp_path)["x_train"].shape == (3, 28, 28)
    np.savez(tmp_path / "partial.npz", x_train=x)
    with pytest.raises(ValueError, match="lacks keys"):
        data.load_mnist(tmp_path / "partial.npz")


def test_svhn_mat(tmp_path):
    from scipy.io import savemat
    for split, n in (("train", 3), ("test", 2)):
        labels = np.array([[10], [1], [5]][:n])  # the files store the digit 0 as label 10
        savemat(tmp_path / f"{split}_32x32.mat", {"X": images(n).transpose(1, 2, 3, 0), "y": labels})
    out = data.load_svhn(tmp_path)
    assert out["x_train"].shape == (3, 32, 32, 3) and out["y_train"].tolist() == [0, 1, 5]
    np.testing.assert_array_equal(out["x_test"], images(2))
    with pytest.raises(FileNotFoundError, match="train_32x32.mat"):
        data.load_svhn(tmp_path / "nowhere")
    (tmp_path / "test_32x32.mat").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="test_32x32.mat is not an SVHN .mat file"):
        data.load_svhn(tmp_path)


def test_rotated_fashion_mnist(tmp_path):
    x = np.zeros((20, 28, 28), np.uint8)
    x[:, 4:24, 12:16] = 255  # a vertical bar
    np.savez(tmp_path / "fashion-mnist.npz", x_train=x, y_train=np.zeros(20), x_test=x[:5], y_test=np.zeros(5))
    out = data.load_rotated_fashion_mnist(tmp_path, seed=1)
    assert out["x_train"].shape == (20, 1, 28, 28) and out["y_train"].shape == (20, 1)
    assert abs(out["y_train"].mean()) < 1e-5 and abs(out["y_train"].std() - 1) < 1e-4
    assert out["x_train"].min() >= -1.0 - 1e-6 and out["x_train"].max() <= 1.0 + 1e-6
    again = data.load_rotated_fashion_mnist(tmp_path, seed=1)
    np.testing.assert_array_equal(out["x_train"], again["x_train"])
    angles = out["y_train"][:, 0] * out["target_std"] + out["target_mean"]
    assert np.all(np.abs(angles) <= 180)


# ----- the real datasets, when present -------------------------------------------------------------------
needs_shared = pytest.mark.skipif(SHARED is None or not (SHARED / "cifar10-test.npz").exists(),
                                  reason="../shared/data is not present")


@needs_shared
def test_shared_datasets():
    fm = data.load_fashion_mnist(SHARED)
    assert fm["x_train"].shape == (60000, 28, 28) and abs(fm["x_train"].mean() / 255 - 0.2860) < 1e-3
    mnist = data.load_mnist(SHARED / "mnist.npz")
    assert mnist["y_train"][:5].tolist() == [5, 0, 4, 1, 9]
    test = data.load_cifar10(SHARED / "cifar10-test.npz")
    assert test["x_test"].shape == (10000, 32, 32, 3) and np.bincount(test["y_test"]).tolist() == [1000] * 10
    means = test["x_test"].reshape(-1, 3).mean(axis=0) / 255
    np.testing.assert_allclose(means, data.CIFAR10_MEAN, atol=0.01)  # test-split means sit near the train ones


# ----- damaged files, the decode cache, and paths to the files themselves ------------------------------------
def cut(path: Path, keep: float = 0.5) -> None:
    """Truncate a file, as a full disk or an interrupted copy would."""
    raw = path.read_bytes()
    path.write_bytes(raw[:int(len(raw) * keep)])


def assert_one_line(error: pytest.ExceptionInfo, *fragments: str) -> None:
    message = str(error.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def write_shared_layout(folder: Path, per_class: int = 2) -> None:
    """cifar10-test.npz with cifar10-train-jpeg.tar.gz, as in ../shared/data."""
    classes = data.CIFAR10_CLASSES[:3]
    write_tree(folder / "tree", "train", classes, per_class=per_class)
    with tarfile.open(folder / "cifar10-train-jpeg.tar.gz", "w:gz") as tar:
        tar.add(folder / "tree" / "train", arcname="train")
    np.savez(folder / "cifar10-test.npz", x_test=images(2), y_test=np.array([1, 2]))


def test_damaged_dataset_files_are_one_line_errors_naming_the_file(tmp_path):
    np.savez(tmp_path / "cifar10.npz", x_train=images(50), y_train=np.arange(50), x_test=images(2), y_test=[0, 1])
    cut(tmp_path / "cifar10.npz")
    with pytest.raises(ValueError) as error:
        data.load_cifar10(tmp_path)
    assert_one_line(error, "CIFAR-10", str(tmp_path / "cifar10.npz"), "damaged", "fetch it again")

    (tmp_path / "shared").mkdir()
    write_shared_layout(tmp_path / "shared")
    cut(tmp_path / "shared" / "cifar10-train-jpeg.tar.gz", 0.6)
    with pytest.raises(ValueError) as error:
        data.load_cifar10(tmp_path / "shared")
    assert_one_line(error, "cifar10-train-jpeg.tar.gz", "damaged", "fetch it again")

    write_idx(tmp_path / "train-images-idx3-ubyte", images(20, 28, 28, 1)[..., 0], compress=True)
    cut(tmp_path / "train-images-idx3-ubyte.gz")
    with pytest.raises(ValueError) as error:
        data.read_idx(tmp_path / "train-images-idx3-ubyte.gz")
    assert_one_line(error, "train-images-idx3-ubyte.gz", "damaged", "fetch it again")


def test_a_damaged_svhn_mat_file_says_fetch_it_again(tmp_path):
    from scipy.io import savemat
    for split in ("train", "test"):
        savemat(tmp_path / f"{split}_32x32.mat", {"X": images(3).transpose(1, 2, 3, 0), "y": np.ones((3, 1))})
    cut(tmp_path / "test_32x32.mat")
    with pytest.raises(ValueError) as error:
        data.load_svhn(tmp_path / "train_32x32.mat")  # the path of either file stands for the folder
    assert_one_line(error, "test_32x32.mat", "fetch it again")


def test_a_damaged_cache_file_is_rebuilt_with_a_warning(tmp_path):
    write_tree(tmp_path, "pics", ["ant", "bee"], per_class=2)
    first = data.read_image_folder(tmp_path / "pics")
    cache, = (tmp_path / "cache").glob("imagefolder-*")
    cut(cache)
    with pytest.warns(UserWarning, match="decode cache is unusable.*rebuild"):
        again = data.read_image_folder(tmp_path / "pics")
    np.testing.assert_array_equal(again["x"], first["x"])
    assert sorted(tg.load(cache)) == ["classes", "x", "y"]  # rewritten whole


def test_an_unwritable_cache_folder_is_a_warning_not_a_crash(tmp_path, monkeypatch):
    (tmp_path / "a_file").write_text("x")
    monkeypatch.setenv("TINYGRAD_IFT_CACHE", str(tmp_path / "a_file" / "cache"))  # no folder can be made there
    write_tree(tmp_path, "pics", ["ant", "bee"], per_class=1)
    with pytest.warns(UserWarning, match="cannot write the decode cache.*TINYGRAD_IFT_CACHE"):
        out = data.read_image_folder(tmp_path / "pics")
    assert out["y"].tolist() == [0, 1]


def test_the_first_decode_shows_a_progress_bar(tmp_path, capsys):
    write_shared_layout(tmp_path, per_class=3)
    data.load_cifar10(tmp_path)
    err = capsys.readouterr().err
    assert "decoding" in err and "cifar10-train-jpeg.tar.gz" in err and "9/9" in err
    assert "reading" in err  # reading a big archive takes a while too
    data.load_cifar10(tmp_path)  # from the cache: nothing to decode
    assert "decoding" not in capsys.readouterr().err


def test_a_path_to_the_dataset_file_itself_is_accepted(tmp_path):
    write_cifar_pickles(tmp_path / "pickles")
    assert data.load_cifar10(tmp_path / "pickles" / "test_batch")["x_train"].shape == (20, 32, 32, 3)
    (tmp_path / "shared").mkdir()
    write_shared_layout(tmp_path / "shared")
    assert data.load_cifar10(tmp_path / "shared" / "cifar10-train-jpeg.tar.gz")["x_train"].shape == (6, 32, 32, 3)
    x = images(5, 28, 28, 1)[..., 0]
    (tmp_path / "idx").mkdir()
    for stem, arr in (("train-images-idx3-ubyte", x), ("train-labels-idx1-ubyte", np.arange(5)),
                      ("t10k-images-idx3-ubyte", x[:2]), ("t10k-labels-idx1-ubyte", np.arange(2))):
        write_idx(tmp_path / "idx" / stem, arr, compress=True)
    assert data.load_mnist(tmp_path / "idx" / "t10k-labels-idx1-ubyte.gz")["x_train"].shape == (5, 28, 28)
    with pytest.raises(FileNotFoundError) as error:
        data.load_mnist(tmp_path / "shared" / "cifar10-train-jpeg.tar.gz")
    assert_one_line(error, "is not a MNIST file", "mnist.npz", "IDX")


@pytest.mark.parametrize("load, forms", [
    (data.load_mnist, ["mnist.npz", "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte", ".gz",
                       "any one of these files"]),
    (data.load_fashion_mnist, ["fashion-mnist.npz", "fashion_mnist.npz", "train-labels-idx1-ubyte"]),
    (data.load_cifar10, ["cifar-10-batches-py", "data_batch_1", "cifar10.npz", "cifar-10.npz", "train/ and test/",
                         "cifar10-test.npz", "cifar10-train-jpeg.tar.gz", "any one of these files"]),
])
def test_nothing_found_lists_every_accepted_form(load, forms, tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        load(tmp_path)
    assert_one_line(error, str(tmp_path), "found no dataset", *forms)
