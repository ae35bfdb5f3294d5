"""Tiny models and synthetic predictions for the evaluation tests."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn


class TinyFerModel(nn.Module):
    """A FerModel-shaped net (forward, forward_features) that counts its forwards."""

    def __init__(self, num_classes: int = 3, in_chans: int = 1, dim: int = 8, input_size: int = 12):
        super().__init__()
        self.input_size = input_size
        self.body = nn.Sequential(nn.Conv2d(in_chans, dim, 3, padding=1), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(dim, num_classes)
        self.calls = 0

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


@pytest.fixture
def tiny_model() -> TinyFerModel:
    torch.manual_seed(0)
    return TinyFerModel()


@pytest.fixture
def faces() -> tuple[np.ndarray, np.ndarray]:
    """20 random 12x12 grayscale faces with labels in 0..2."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (20, 12, 12, 1), dtype=np.uint8), rng.integers(0, 3, 20)


# -- fake finished runs on synthetic datasets (no training needed) ---------------------------
from pathlib import Path  # noqa: E402

from fer_engine.config import RunConfig  # noqa: E402
from fer_engine.data.arrays import DatasetArrays  # noqa: E402
from fer_engine.training.run_files import DatasetInfo, Preprocess  # noqa: E402
from fer_engine.training.rundir import RunDir  # noqa: E402


def synthetic_dataset(class_names, n=30, seed=0, size=12) -> DatasetArrays:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(class_names)
    images = rng.integers(0, 256, (n, size, size, 1), dtype=np.uint8)
    order = rng.permutation(n)
    return DatasetArrays(images=images, labels=labels.astype(np.int64), class_names=list(class_names),
                         splits={"train": order[: n // 2], "val": order[n // 2: 2 * n // 3],
                                 "test": order[2 * n // 3:]},
                         sources=[f"face{i}.png" for i in range(n)], layout="synthetic")


class FakeRuns:
    """Finished run directories whose models are TinyFerModels and data synthetic arrays."""

    def __init__(self, root: Path, monkeypatch):
        self.root = root
        self.models: dict[str, TinyFerModel] = {}
        self.datasets: dict[str, DatasetArrays] = {}
        self.loads = 0
        import fer_engine.data as data_pkg
        import fer_engine.training.rundir as rundir

        monkeypatch.setattr(rundir, "load_run_model", self._load_run_model)
        monkeypatch.setattr(data_pkg, "load_dataset", self._load_dataset, raising=False)

    def add_data(self, path: str, dataset: DatasetArrays) -> str:
        self.datasets[path] = dataset
        return path

    def make(self, data_path: str, class_names=("angry", "happy", "sad"), seed=0, name="") -> RunDir:
        cfg = RunConfig().replace(**{"data.path": data_path, "data.image_size": 12, "name": name})
        run = RunDir.create(self.root, cfg)
        run.write_preprocess(Preprocess(class_names=list(class_names), channels=1, image_size=12,
                                        input_size=12, mean=[0.5], std=[0.25], backbone="tiny"))
        ds = self.datasets[data_path]
        run.write_dataset(DatasetInfo(class_names=ds.class_names, train_class_counts=ds.class_counts("train").tolist()))
        torch.manual_seed(seed)
        model = TinyFerModel(num_classes=len(class_names))
        run.checkpoints_dir.mkdir()
        torch.save({"model": model.state_dict()}, run.checkpoint_path("best"))
        run.write_status("finished")
        self.models[str(run.path.resolve())] = model
        return run

    def _load_run_model(self, run_dir, which="best", device="cpu"):
        run = run_dir if isinstance(run_dir, RunDir) else RunDir.open(run_dir)
        return self.models[str(run.path.resolve())].eval(), run.preprocess()

    def _load_dataset(self, cfg, progress=None, should_stop=None):
        self.loads += 1
        return self.datasets[cfg.path]

    def forwards(self) -> int:
        return sum(m.calls for m in self.models.values())


@pytest.fixture
def fake_runs(tmp_path, monkeypatch) -> FakeRuns:
    runs = FakeRuns(tmp_path / "runs", monkeypatch)
    runs.add_data("synthA", synthetic_dataset(["angry", "happy", "sad"]))
    return runs


@pytest.fixture
def make_dataset():
    """synthetic_dataset(class_names, n=30, seed=0, size=12) -> DatasetArrays."""
    return synthetic_dataset
