"""Optimiser param groups and every learning-rate schedule, checked against their definitions."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from fer_engine.config import ConfigError, OptimConfig, RunConfig, ScheduleConfig
from fer_engine.recipe import optim
from fer_engine.recipe.optim import build_optimizer, param_groups
from fer_engine.recipe.schedule import LRSchedule, preview_lr, preview_note


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.ln = nn.LayerNorm(4)
        self.fc = nn.Linear(4, 7)
        self.pos_embed = nn.Parameter(torch.zeros(1, 4, 4))
        self.frozen = nn.Linear(2, 2)
        self.frozen.requires_grad_(False)

    def no_weight_decay(self):
        return {"pos_embed"}


def test_weight_decay_skips_biases_norm_layers_and_declared_names():
    net = Net()
    decay, no_decay = param_groups(net, 0.05)
    ids = lambda ps: {id(p) for p in ps}  # noqa: E731
    assert ids(decay["params"]) == {id(net.conv.weight), id(net.fc.weight)}
    assert ids(no_decay["params"]) == {id(p) for p in (net.conv.bias, net.bn.weight, net.bn.bias, net.ln.weight,
                                                         net.ln.bias, net.fc.bias, net.pos_embed)}
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0


@pytest.mark.parametrize("name, cls", [("sgd", torch.optim.SGD), ("adam", torch.optim.Adam),
                                       ("adamw", torch.optim.AdamW)])
def test_optimisers_are_built_from_the_config(name, cls):
    opt = build_optimizer(Net(), OptimConfig(name=name, lr=0.03, weight_decay=0.01, betas=[0.8, 0.99]))
    assert type(opt) is cls and len(opt.param_groups) == 2
    assert [g["weight_decay"] for g in opt.param_groups] == [0.01, 0.0]
    if name == "sgd":
        assert opt.defaults["nesterov"] and opt.defaults["momentum"] == 0.9
    else:
        assert opt.defaults["betas"] == (0.8, 0.99)
    with pytest.raises(ConfigError, match="optim.name"):
        build_optimizer(Net(), OptimConfig(name="lion"))


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_fused_update_matches_the_per_tensor_one(name, monkeypatch):
    def small():
        torch.manual_seed(0)
        # no conv bias before the norm: its gradient is rounding noise, which Adam would amplify
        return nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(144, 7))

    net, ref = small(), small()
    cfg = OptimConfig(name=name, lr=0.05, weight_decay=0.01)
    fused = build_optimizer(net, cfg)
    assert fused.defaults["fused"]
    monkeypatch.setattr(optim, "_FUSED_DEVICES", ())
    plain = build_optimizer(ref, cfg)
    assert not plain.defaults["fused"]
    for _ in range(3):
        x = torch.randn(4, 1, 8, 8)
        for model, opt in ((net, fused), (ref, plain)):
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
    for a, b in zip(net.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def sched(name="cosine", epochs=10, spe=4, lr=1.0, **kw):
    return LRSchedule(ScheduleConfig(name=name, **kw), lr, epochs, spe)


def test_warmup_starts_low_and_reaches_the_base_lr():
    s = sched("constant", warmup_epochs=2, warmup_start_factor=0.1)
    lrs = [s.lr_at(i) for i in range(12)]
    assert lrs[0] == pytest.approx(0.1)
    assert all(a < b for a, b in zip(lrs[:8], lrs[1:9]))  # rising through the 8 warmup steps
    assert lrs[8] == pytest.approx(1.0) and lrs[11] == pytest.approx(1.0)


def test_cosine_runs_from_base_to_min_lr_after_the_warmup():
    s = sched("cosine", min_lr=0.01, warmup_epochs=1)
    lrs = np.array([s.lr_at(i) for i in range(s.total_steps + 1)])
    assert lrs[4] == pytest.approx(1.0) and lrs[-1] == pytest.approx(0.01)
    assert np.all(np.diff(lrs[4:]) < 0)
    mid = 4 + (s.total_steps - 4) // 2
    assert lrs[mid] == pytest.approx((1.0 + 0.01) / 2)


def test_step_decays_exactly_at_step_size():
    s = sched("step", step_size=3, gamma=0.5)
    assert [s.lr_at(e * 4) for e in range(8)] == pytest.approx([1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
    assert s.lr_at(11) == 1.0 and s.lr_at(12) == 0.5


def test_warm_restarts_restart_at_t0_and_t0_times_one_plus_t_mult():
    t0, t_mult, spe = 2, 2, 5
    s = sched("warm_restarts", epochs=14, spe=spe, t0=t0, t_mult=t_mult, min_lr=0.0)
    lrs = np.array([s.lr_at(i) for i in range(s.total_steps)])
    jumps = np.flatnonzero(np.diff(lrs) > 0) + 1
    assert list(jumps) == [t0 * spe, t0 * (1 + t_mult) * spe]
    assert lrs[0] == lrs[jumps[0]] == lrs[jumps[1]] == 1.0
    assert lrs[jumps[0] - 1] < 0.1 and lrs[jumps[1] - 1] < 0.1  # the end of each cycle is low
    # per-step resolution: the middle of the second (4-epoch) cycle is half-way down
    assert lrs[t0 * spe + t0 * t_mult * spe // 2] == pytest.approx(0.5)


def test_plateau_reduces_after_patience_and_restores_its_state():
    s = LRSchedule(ScheduleConfig(name="plateau", plateau_patience=2, plateau_factor=0.5), 1.0, 20, 3, mode="max")
    for m in (0.5, 0.6, 0.6, 0.59):  # best 0.6, then two epochs without improvement
        s.on_epoch_end(m)
    assert s.lr_at(100) == 1.0
    s.on_epoch_end(0.6)  # third epoch without improvement > patience
    assert s.lr_at(100) == 0.5
    state = s.state_dict()
    t = LRSchedule(ScheduleConfig(name="plateau", plateau_patience=2, plateau_factor=0.5), 1.0, 20, 3)
    t.load_state_dict(state)
    assert t.lr_at(0) == 0.5 and t.state_dict() == state
    loss_mode = LRSchedule(ScheduleConfig(name="plateau", plateau_patience=0), 1.0, 5, 1, mode="min")
    loss_mode.on_epoch_end(1.0)
    loss_mode.on_epoch_end(0.9)
    assert loss_mode.lr_at(3) == 1.0  # a falling loss is an improvement
    loss_mode.on_epoch_end(0.95)
    assert loss_mode.lr_at(3) == 0.5


def test_apply_sets_every_group():
    opt = build_optimizer(Net(), OptimConfig(name="sgd", lr=0.1))
    s = LRSchedule(ScheduleConfig(name="step", step_size=1, gamma=0.1), 0.1, 3, 2)
    assert s.apply(opt, 2) == pytest.approx(0.01)
    assert all(g["lr"] == pytest.approx(0.01) for g in opt.param_groups)


def test_preview_covers_the_whole_run():
    cfg = RunConfig().replace(**{"train.epochs": 6, "optim.lr": 0.1, "schedule.name": "cosine",
                                 "schedule.warmup_epochs": 1.0})
    curve = preview_lr(cfg, 10)
    assert curve.shape == (60,) and curve[0] == pytest.approx(0.01) and curve[10] == pytest.approx(0.1)
    assert preview_note(cfg) == ""
    plateau = cfg.replace(**{"schedule.name": "plateau"})
    assert np.allclose(preview_lr(plateau, 10)[10:], 0.1) and "upper bound" in preview_note(plateau)


def test_unknown_schedule_is_refused():
    with pytest.raises(ConfigError, match="schedule.name"):
        sched("linear")
    assert math.isclose(sched("constant").lr_at(39), 1.0)
