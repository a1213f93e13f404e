"""Dataset downloads without torchvision, served here from local file:// URLs: checksum, unpacking, cache reuse,
and the offline error that says how to give the data by hand."""
import gzip
import hashlib
import importlib
import io
import pickle
import tarfile

import numpy as np
import pytest

from tinygrad_ift import data

dl = importlib.import_module("tinygrad_ift.data.download")  # the module (the package exports its function)


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def _serve(monkeypatch, name, sources):
    monkeypatch.setitem(dl.SOURCES, name, tuple(sources))


@pytest.fixture
def cifar_archive(tmp_path):
    """A miniature cifar-10-python.tar.gz: the official layout, 4 images per batch."""
    rng = np.random.default_rng(0)
    archive = tmp_path / "served" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), b"labels": [0, 1, 2, 3]}
            payload = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return archive


def test_cifar10_downloads_checks_and_unpacks(cifar_archive, tmp_path, monkeypatch):
    _serve(monkeypatch, "cifar10", [dl.Source(cifar_archive.name, (cifar_archive.as_uri(),), _md5(cifar_archive),
                                              unpack=True)])
    root = tmp_path / "cache"
    loaded = data.load_cifar10(root, download=True)
    assert loaded["x_train"].shape == (20, 32, 32, 3) and loaded["x_test"].shape == (4, 32, 32, 3)
    assert not list(root.glob(".*unpacking"))
    cifar_archive.unlink()  # a second call finds the data in the cache and fetches nothing
    assert data.download("cifar10", root) == root / "cifar-10-batches-py"


def test_fashion_mnist_idx_files_download(tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    sources = []
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    for name, array, magic in (("train-images-idx3-ubyte.gz", images, 2051), ("train-labels-idx1-ubyte.gz",
                               np.array([3, 7], np.uint8), 2049), ("t10k-images-idx3-ubyte.gz", images, 2051),
                               ("t10k-labels-idx1-ubyte.gz", np.array([1, 2], np.uint8), 2049)):
        header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
        (served / name).write_bytes(gzip.compress(header + array.tobytes()))
        sources.append(dl.Source(name, ("file:///no/such/mirror/" + name, (served / name).as_uri()),
                                 _md5(served / name)))
    _serve(monkeypatch, "fashion_mnist", sources)
    monkeypatch.setenv("TINYGRAD_IFT_DOWNLOADS", str(tmp_path / "cache"))
    folder = dl.download_dir("fashion_mnist")  # the first mirror fails, the second answers
    assert folder == tmp_path / "cache" / "fashion_mnist"
    loaded = data.load_fashion_mnist(folder)
    assert loaded["y_train"].tolist() == [3, 7] and (loaded["x_test"] == images).all()


def test_a_wrong_checksum_keeps_nothing(cifar_archive, tmp_path, monkeypatch):
    _serve(monkeypatch, "cifar10", [dl.Source(cifar_archive.name, (cifar_archive.as_uri(),), "0" * 32, unpack=True)])
    with pytest.raises(dl.DataUnavailableError, match="MD5"):
        data.download("cifar10", tmp_path / "cache")
    assert not (tmp_path / "cache" / cifar_archive.name).exists()
    assert not list((tmp_path / "cache").glob("*.tmp")) and not list((tmp_path / "cache").glob(".*.tmp"))


def test_offline_error_names_data_dir_and_the_environment_variable(tmp_path, monkeypatch):
    _serve(monkeypatch, "mnist", [dl.Source("train-images-idx3-ubyte.gz", ("file:///no/such/host/file.gz",),
                                            "0" * 32)])
    with pytest.raises(dl.DataUnavailableError) as error:
        data.download("mnist", tmp_path)
    assert "--data_dir" in str(error.value) and "TINYGRAD_IFT_DATA" in str(error.value)


def test_every_dataset_has_official_sources():
    for name in ("cifar10", "mnist", "fashion_mnist"):
        for source in dl.SOURCES[name]:
            assert source.urls and all(url.startswith("http") for url in source.urls) and len(source.md5) == 32


def test_train_without_any_data_downloads_or_says_what_to_do(tmp_path, monkeypatch, capsys):
    from tinygrad_ift.training import cli
    monkeypatch.setattr(cli, "default_data_dir", lambda: None)
    _serve(monkeypatch, "mnist", [dl.Source("train-images-idx3-ubyte.gz", ("file:///no/such/host/file.gz",),
                                            "0" * 32)])
    monkeypatch.setenv("TINYGRAD_IFT_DOWNLOADS", str(tmp_path / "cache"))
    with pytest.raises(SystemExit) as stop:
        cli.main(["--dataset", "mnist", "--epochs", "1", "--logdir", str(tmp_path / "run")])
    message = capsys.readouterr().err
    assert stop.value.code == 2 and "--data_dir" in message and "TINYGRAD_IFT_DATA" in message
    assert "Traceback" not in message
