"""Second pass (issue 19): non-finite numbers, upper bounds, memory estimates, file modes."""
from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
from PIL import Image

from fer_engine.config import ConfigError, DataConfig, RunConfig
from fer_engine.data import DatasetError, load_dataset
from fer_engine.data import memory
from fer_engine.recipe.checks import check_config
from fer_engine.utils.atomic import atomic_write_text


@pytest.mark.parametrize("raw", ["Infinity", "-Infinity", "NaN", "1e999"])
def test_non_finite_numbers_are_refused_on_the_command_line(raw):
    with pytest.raises(ConfigError, match=r"optim.lr must be a finite number"):
        RunConfig().with_overrides([f"optim.lr={raw}"])


def test_non_finite_numbers_are_refused_in_a_config_file_and_lists(tmp_path):
    p = tmp_path / "config.json"
    p.write_text('{"normalize": {"mean": [0.5, Infinity]}}')
    with pytest.raises(ConfigError, match=r"normalize.mean\[1\] must be a finite number"):
        RunConfig.load(p)


def test_non_finite_numbers_built_in_code_are_errors_of_the_check():
    cfg = RunConfig()
    cfg.train.grad_clip = float("inf")
    cfg.optim.betas = [0.9, float("nan")]
    errors = {p.key: p.message for p in check_config(cfg) if p.severity == "error"}
    assert errors["train.grad_clip"].startswith("must be a finite number")
    assert errors["optim.betas"].startswith("must be a finite number")


@pytest.mark.parametrize("key, value", [
    ("data.image_size", 20000), ("model.input_size", 5000), ("train.batch_size", 10 ** 6),
    ("train.epochs", 10 ** 7), ("train.accumulate_steps", 10 ** 5), ("kfold.k", 1000),
    ("train.seed", 2 ** 40), ("data.split_seed", -1), ("model.multi_sample_dropout", 10 ** 4),
])
def test_sizes_and_counts_have_an_upper_bound(key, value):
    errors = [p for p in check_config(RunConfig().replace(**{key: value})) if p.severity == "error"]
    assert [p.key for p in errors] == [key] and "must be" in errors[0].message


def test_a_dataset_that_cannot_fit_is_refused_with_the_estimate(tmp_path, monkeypatch):
    for name in ("happy", "sad"):
        (tmp_path / "ds" / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((12, 12), 30 * i, np.uint8)).save(tmp_path / "ds" / name / f"{i}.png")
    cfg = DataConfig(path=str(tmp_path / "ds"), image_size=1024, channels=3, cache_dir=str(tmp_path / "c"))
    monkeypatch.setattr(memory, "available_bytes", lambda: 10 * 2 ** 20)  # 10 MiB free
    with pytest.raises(DatasetError, match=r"ds: 6 faces at 1024x1024x3 need 18 MiB decoded, but only "
                                           r"10 MiB of memory is free.*lower data.image_size"):
        load_dataset(cfg)
    with pytest.raises(DatasetError, match=r"35887 faces at 1024x1024x1 need 35\.0 GiB"):
        memory.ensure_fits(35887, 1024, 1, "fer2013", available=24 * 2 ** 30)
    assert len(load_dataset(DataConfig(path=cfg.path, image_size=16, cache_dir=cfg.cache_dir)).images) == 6


def test_run_files_get_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.json", "{}")
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
        os.chmod(tmp_path / "a.json", 0o640)  # a file replaced keeps its own mode
        atomic_write_text(tmp_path / "a.json", json.dumps({"x": 1}))
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o640
        os.umask(0o077)
        atomic_write_text(tmp_path / "b.json", "{}")
        assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o600
    finally:
        os.umask(old)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
