"""The tricks registry describes every trick, reports which are on, and flags each conflict."""
import pytest

from fer_engine.config import ConfigError, RunConfig, field_paths
from fer_engine.recipe.checks import check_config, raise_on_errors
from fer_engine.recipe.tricks import GROUPS, TRICKS, active_tricks

KEYS = {k for k, _, _ in field_paths()}


def test_every_trick_is_documented_with_real_config_keys():
    assert len(TRICKS.names()) >= 35
    for name, t in TRICKS.items():
        assert t.name == name and t.group in GROUPS and t.title
        assert 20 < len(t.description) < 300, name
        assert t.keys and set(t.keys) <= KEYS, f"{name}: {set(t.keys) - KEYS}"
        assert all(c in TRICKS for c in t.conflicts)
    assert {t.group for _, t in TRICKS.items()} == set(GROUPS)


OFF = {"augment.hflip": 0.0, "augment.rotation": 0.0, "augment.translate": 0.0, "augment.scale": 0.0,
       "augment.brightness": 0.0, "augment.contrast": 0.0, "schedule.name": "constant", "train.amp": False,
       "optim.weight_decay": 0.0, "normalize.mode": "fixed"}

# one config change that turns each trick on (from a config with everything off)
TURN_ON = {
    "dataset_normalization": {"normalize.mode": "dataset"}, "backbone_normalization": {"normalize.mode": "backbone"},
    "upscale": {"model.input_size": 96}, "hflip": {"augment.hflip": 0.5}, "rotation": {"augment.rotation": 10.0},
    "translate": {"augment.translate": 0.1}, "scale": {"augment.scale": 0.1},
    "random_resized_crop": {"augment.random_resized_crop": 0.6}, "perspective": {"augment.perspective": 0.2},
    "blur": {"augment.blur": 0.2}, "noise": {"augment.noise": 0.02}, "brightness": {"augment.brightness": 0.2},
    "contrast": {"augment.contrast": 0.2}, "erasing": {"augment.erasing": 0.5},
    "mixup": {"mix.mixup_alpha": 0.2}, "cutmix": {"mix.cutmix_alpha": 1.0},
    "balanced_sampler": {"sampler.balanced": True}, "class_weights": {"loss.class_weights": "effective"},
    "focal_loss": {"loss.name": "focal"}, "focal_alpha": {"loss.name": "focal", "loss.focal_alpha": [1.0] * 7},
    "prior_correction": {"eval.prior_correction": "uniform"},
    "nesterov": {"optim.name": "sgd"}, "warmup": {"schedule.warmup_epochs": 1.0},
    "step_lr": {"schedule.name": "step"}, "cosine_lr": {"schedule.name": "cosine"},
    "warm_restarts": {"schedule.name": "warm_restarts"}, "plateau_lr": {"schedule.name": "plateau"},
    "grad_accumulation": {"train.accumulate_steps": 4}, "grad_clipping": {"train.grad_clip": 1.0},
    "amp": {"train.amp": True}, "early_stopping": {"train.early_stopping_patience": 5},
    "label_smoothing": {"loss.label_smoothing": 0.1}, "weight_decay": {"optim.weight_decay": 1e-4},
    "dropout": {"model.dropout": 0.3}, "multi_sample_dropout": {"model.dropout": 0.3, "model.multi_sample_dropout": 5},
    "tta_flip": {"eval.tta": "flip"}, "tta_tencrop": {"eval.tta": "tencrop"},
    "tta_hard_vote": {"eval.tta": "flip", "eval.tta_vote": "hard"}, "kfold": {"kfold.k": 5},
    "final_on_train_val": {"kfold.k": 5, "kfold.final_on_train_val": True},
}


def test_each_trick_is_on_exactly_when_its_setting_is():
    base = RunConfig().replace(**OFF)
    assert active_tricks(base) == []
    assert set(TURN_ON) == set(TRICKS.names())
    for name, change in TURN_ON.items():
        assert name in active_tricks(base.replace(**change)), name
    assert active_tricks(base.replace(**{"mix.mixup_alpha": 0.2, "mix.prob": 0.0})) == []


def test_defaults_and_built_in_presets_have_no_problems():
    from fer_engine.presets import builtin_presets, load_preset

    assert check_config(RunConfig()) == []
    for name in builtin_presets():
        assert check_config(load_preset(name)) == [], name


CASES = [
    # (changes, key, severity, words the message must contain)
    ({"optim.lr": 0.0}, "optim.lr", "error", "(0, 10]"),
    ({"train.epochs": 0}, "train.epochs", "error", "[1, 100000]"),
    ({"augment.hflip": 1.5}, "augment.hflip", "error", "[0, 1]"),
    ({"mix.prob": -0.1}, "mix.prob", "error", "[0, 1]"),
    ({"data.channels": 2}, "data.channels", "error", "1, 3"),
    ({"optim.name": "lion"}, "optim.name", "error", "sgd, adam, adamw"),
    ({"schedule.name": "linear"}, "schedule.name", "error", "warm_restarts"),
    ({"loss.name": "hinge"}, "loss.name", "error", "ce, focal"),
    ({"eval.tta": "fivecrop"}, "eval.tta", "error", "tencrop"),
    ({"train.accumulate_steps": 0}, "train.accumulate_steps", "error", "[1, 1024]"),
    ({"kfold.k": 1}, "kfold.k", "error", "[2, 100]"),
    ({"train.monitor": "acc"}, "train.monitor", "error", "val_acc"),
    ({"train.device": "gpu"}, "train.device", "error", "cuda:N"),
    ({"augment.scale": 1.0}, "augment.scale", "error", "[0, 1)"),
    ({"normalize.mode": "fixed", "normalize.mean": [0.5, 0.5]}, "normalize.mean", "error", "data.channels=1"),
    ({"data.val_fraction": 0.5, "data.test_fraction": 0.5}, "data.val_fraction", "error", "leave training data"),
    ({"optim.name": "sgd", "optim.momentum": 0.0}, "optim.nesterov", "error", "momentum > 0"),
    ({"schedule.min_lr": 0.01, "optim.lr": 0.001}, "schedule.min_lr", "error", "cannot decay"),
    ({"sampler.balanced": True, "loss.class_weights": "inverse"}, "loss.class_weights", "warning", "second time"),
    ({"sampler.balanced": True, "loss.name": "focal", "loss.focal_alpha": [1.0] * 7}, "loss.focal_alpha",
     "warning", "second time"),
    ({"loss.class_weights": "inverse", "loss.name": "focal", "loss.focal_alpha": [1.0] * 7}, "loss.focal_alpha",
     "warning", "multiply"),
    ({"sampler.balanced": True, "eval.prior_correction": "uniform"}, "eval.prior_correction", "warning",
     "over-corrects"),
    ({"loss.class_weights": "effective", "eval.prior_correction": "uniform"}, "eval.prior_correction", "warning",
     "again"),
    ({"loss.focal_alpha": [1.0] * 7}, "loss.focal_alpha", "warning", "no effect unless loss.name='focal'"),
    ({"schedule.name": "plateau", "schedule.t0": 5}, "schedule.t0", "warning", "schedule.name='warm_restarts'"),
    ({"schedule.step_size": 5}, "schedule.step_size", "warning", "no effect unless schedule.name='step'"),
    ({"optim.name": "adamw", "optim.momentum": 0.5}, "optim.momentum", "warning", "optim.name='sgd'"),
    ({"loss.focal_gamma": 1.0}, "loss.focal_gamma", "warning", "loss.name='focal'"),
    ({"augment.blur_sigma": 2.0}, "augment.blur_sigma", "warning", "augment.blur > 0"),
    ({"mix.cutmix_alpha": 1.0, "mix.switch_prob": 0.2}, "mix.switch_prob", "warning", "both"),
    ({"normalize.mean": [0.4]}, "normalize.mean", "warning", "normalize.mode='fixed'"),
    ({"optim.name": "adam", "optim.weight_decay": 0.01}, "optim.weight_decay", "warning", "adamw"),
    ({"model.multi_sample_dropout": 4}, "model.multi_sample_dropout", "warning", "model.dropout > 0"),
    ({"schedule.warmup_epochs": 10.0, "train.epochs": 10}, "schedule.warmup_epochs", "warning", "never starts"),
    ({"schedule.name": "step", "schedule.step_size": 10, "train.epochs": 10}, "schedule.step_size", "warning",
     "never decays"),
    ({"schedule.name": "warm_restarts", "schedule.t0": 20, "train.epochs": 10}, "schedule.t0", "warning",
     "no restart"),
    ({"schedule.name": "warm_restarts", "schedule.t0": 5, "train.early_stopping_patience": 3},
     "train.early_stopping_patience", "warning", "restart cycle"),
    ({"schedule.name": "plateau", "schedule.plateau_patience": 3, "train.early_stopping_patience": 4},
     "train.early_stopping_patience", "warning", "plateau_patience + 1"),
    ({"eval.tta_vote": "hard"}, "eval.tta_vote", "warning", "no effect unless eval.tta is"),
    ({"eval.tta": "tencrop", "data.image_size": 16}, "eval.tta", "warning", "near-identical"),
    ({"kfold.final_on_train_val": True}, "kfold.final_on_train_val", "warning", "unless kfold.k >= 2"),
    ({"mix.mixup_alpha": 0.2, "train.batch_size": 1}, "mix.prob", "warning", "batch of at least 2"),
]


@pytest.mark.parametrize("changes, key, severity, words", CASES, ids=[c[1] + ":" + c[3] for c in CASES])
def test_check_config_flags_each_problem(changes, key, severity, words):
    problems = check_config(RunConfig().replace(**changes))
    hits = [p for p in problems if p.key == key and p.severity == severity]
    assert hits, f"no {severity} on {key}: {problems}"
    assert any(words in p.message for p in hits), hits
    assert not any(p.key == key for p in check_config(RunConfig())), "flagged on the default config too"


def test_wrongly_typed_values_built_in_code_are_errors_not_crashes():
    cfg = RunConfig()
    cfg.optim.lr = "fast"
    assert [(p.key, p.severity) for p in check_config(cfg)] == [("optim.lr", "error")]


def test_raise_on_errors_lists_every_error_and_returns_warnings():
    bad = RunConfig().replace(**{"optim.lr": -1.0, "train.epochs": 0, "augment.erasing": 2.0})
    with pytest.raises(ConfigError) as e:
        raise_on_errors(bad)
    text = str(e.value)
    assert "3 error(s)" in text and all(k in text for k in ("optim.lr", "train.epochs", "augment.erasing"))
    warn = raise_on_errors(RunConfig().replace(**{"eval.tta_vote": "hard"}))
    assert [p.key for p in warn] == ["eval.tta_vote"]


def test_backbone_must_exist_and_declare_statistics_for_backbone_normalisation():
    problems = check_config(RunConfig().replace(**{"model.backbone": "no_such_net"}))
    assert [(p.key, p.severity) for p in problems] == [("model.backbone", "error")]
    assert "fer_cnn" in problems[0].message  # lists what exists
    scratch = check_config(RunConfig().replace(**{"normalize.mode": "backbone", "model.backbone": "fer_cnn"}))
    assert [(p.key, p.severity) for p in scratch] == [("normalize.mode", "error")]
    assert check_config(RunConfig().replace(**{"normalize.mode": "backbone", "model.backbone": "resnet18"})) == []


def test_upscale_follows_the_backbones_default_input_size():
    assert "upscale" not in active_tricks(RunConfig())  # fer_cnn: 48 px in, 48 px stored
    assert "upscale" in active_tricks(RunConfig().replace(**{"model.backbone": "resnet18"}))  # 224 px
    assert "upscale" not in active_tricks(RunConfig().replace(**{"model.backbone": "resnet18",
                                                                 "model.input_size": 48}))
