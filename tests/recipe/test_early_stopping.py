"""Early stopping stops after exactly `patience` epochs without an improvement above min_delta."""
import pytest

from fer_engine.recipe.early_stopping import EarlyStopping, monitor_mode


def run(stopper, values):
    """Epoch (1-based) at which training stops, or None."""
    for epoch, v in enumerate(values, 1):
        stopper.update(v)
        if stopper.should_stop:
            return epoch
    return None


def test_stops_after_the_patience():
    assert run(EarlyStopping(3, 0.0, "max"), [0.5, 0.6, 0.55, 0.6, 0.58, 0.7]) == 5
    assert run(EarlyStopping(3, 0.0, "max"), [0.5, 0.6, 0.55, 0.61, 0.58, 0.6]) is None


def test_min_delta_ignores_tiny_gains():
    assert run(EarlyStopping(2, 0.01, "max"), [0.5, 0.505, 0.509]) == 3
    s = EarlyStopping(2, 0.01, "max")
    assert s.update(0.5) and not s.update(0.505) and s.update(0.52)


def test_min_mode_for_losses_and_patience_zero_never_stops():
    assert run(EarlyStopping(1, 0.0, "min"), [1.0, 0.8, 0.9]) == 3
    assert run(EarlyStopping(0, 0.0, "max"), [0.9] + [0.1] * 50) is None
    assert (monitor_mode("val_loss"), monitor_mode("val_acc"), monitor_mode("val_f1")) == ("min", "max", "max")


def test_state_round_trip():
    s = EarlyStopping(3, 0.0, "max")
    for v in (0.4, 0.5, 0.45):
        s.update(v)
    t = EarlyStopping(3, 0.0, "max")
    t.load_state_dict(s.state_dict())
    assert (t.best, t.bad_epochs) == (0.5, 1)
    t.update(0.3), t.update(0.3)
    assert t.should_stop
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(1, 0.0, "up")
