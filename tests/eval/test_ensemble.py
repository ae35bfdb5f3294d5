from __future__ import annotations

import json

import numpy as np
import pytest

from fer_engine.eval.ensemble import EnsembleError, create_ensemble, vote
from fer_engine.scoring.metrics import summary
from fer_engine.eval.source import predictions_for, train_class_counts
from fer_engine.training.runs_list import list_runs


def test_soft_and_hard_voting_on_hand_made_probabilities():
    members = np.array([
        [[0.6, 0.4, 0.0], [0.1, 0.5, 0.4], [0.2, 0.3, 0.5]],
        [[0.6, 0.4, 0.0], [0.1, 0.45, 0.45], [0.1, 0.5, 0.4]],
        [[0.0, 0.1, 0.9], [0.2, 0.1, 0.7], [0.4, 0.5, 0.1]],
    ])
    soft, soft_pred = vote(members, "soft")
    np.testing.assert_allclose(soft, members.mean(0), rtol=1e-6)
    # face 0: soft mean (0.4, 0.3, 0.3) -> class 0; face 1: mean (0.133, 0.35, 0.517) -> class 2
    np.testing.assert_array_equal(soft_pred, [0, 2, 1])
    hard, hard_pred = vote(members, "hard")
    # face 0: votes 0, 0, 2 -> class 0; face 1: votes 1, 1, 2 -> class 1 (soft says 2)
    # face 2: votes 2, 1, 1 -> class 1
    np.testing.assert_array_equal(hard_pred, [0, 1, 1])
    np.testing.assert_allclose(hard[0], [2 / 3, 0, 1 / 3], atol=1e-5)
    np.testing.assert_allclose(hard.sum(1), 1, atol=1e-6)


def test_hard_vote_ties_go_to_the_higher_mean_probability():
    members = np.array([[[0.9, 0.1]], [[0.4, 0.6]]])  # one vote each; mean favours class 0
    _, pred = vote(members, "hard")
    assert pred[0] == 0
    _, pred = vote(members[:, :, ::-1].copy(), "hard")
    assert pred[0] == 1


def test_ensemble_directory_evaluates_like_a_run(fake_runs, tmp_path):
    a = fake_runs.make("synthA", seed=1, name="cnn")
    b = fake_runs.make("synthA", seed=2, name="resnet")
    ens = create_ensemble([a.path, b.path], "soft", fake_runs.root / "ens-soft")
    spec = json.loads((ens.path / "ensemble.json").read_text())
    assert spec["vote"] == "soft" and len(spec["members"]) == 2
    assert ens.status().state == "finished"
    assert any(r.path == ens.path for r in list_runs(fake_runs.root))  # listed beside the runs
    p = predictions_for(ens, "test")
    pa, pb = predictions_for(a, "test"), predictions_for(b, "test")
    np.testing.assert_allclose(p.probs, (pa.probs + pb.probs) / 2, rtol=1e-5)
    np.testing.assert_array_equal(p.y_true, pa.y_true)
    assert p.features.shape[1] == pa.features.shape[1] + pb.features.shape[1]
    assert (ens.path / "predictions" / "test.npz").is_file()
    calls = fake_runs.forwards()
    again = predictions_for(ens.path, "test")
    assert fake_runs.forwards() == calls
    np.testing.assert_array_equal(again.y_pred, p.y_pred)
    s = summary(p, train_class_counts(ens))
    assert 0 <= s["accuracy"] <= 1 and "prior_corrected" in s
    hard = create_ensemble([a.path, b.path], "hard", fake_runs.root / "ens-hard")
    hp = predictions_for(hard, "test")
    np.testing.assert_array_equal(hp.y_pred, vote(np.stack([pa.probs, pb.probs]), "hard")[1])


def test_members_must_share_class_names_and_be_finished(fake_runs):
    a = fake_runs.make("synthA")
    b = fake_runs.make("synthA", class_names=("angry", "happy", "neutral"))
    with pytest.raises(EnsembleError, match="share class names"):
        create_ensemble([a.path, b.path], "soft", fake_runs.root / "e1")
    c = fake_runs.make("synthA")
    c.write_status("stopped")
    with pytest.raises(EnsembleError, match="stopped, not finished"):
        create_ensemble([a.path, c.path], "soft", fake_runs.root / "e2")
    with pytest.raises(EnsembleError, match="at least two"):
        create_ensemble([a.path], "soft", fake_runs.root / "e3")
    with pytest.raises(EnsembleError, match="vote must be"):
        create_ensemble([a.path, a.path], "median", fake_runs.root / "e4")
    assert not (fake_runs.root / "e1").exists()


def test_one_source_protocol_opens_a_run_and_an_ensemble(fake_runs):
    from fer_engine.eval.source import open_source

    a, b = fake_runs.make("synthA", seed=1), fake_runs.make("synthA", seed=2)
    ens = create_ensemble([a.path, b.path], "hard", fake_runs.root / "ens")
    run_src, ens_src = open_source(a.path), open_source(ens.path)
    assert (run_src.kind, len(run_src.runs), run_src.describe()) == ("run", 1, "single run")
    assert (ens_src.kind, [r.path for r in ens_src.runs]) == ("ensemble", [a.path.resolve(), b.path.resolve()])
    assert ens_src.describe() == "ensemble (hard vote) of 2 runs" and ens_src.vote == "hard"
    assert ens_src.class_names == run_src.class_names
    assert ens_src.checkpoint_label({}) == "members' best.pt" and run_src.checkpoint_label({}).startswith("best.pt")
    with pytest.raises(ValueError, match="members' best checkpoints"):
        ens_src.predictions("test", checkpoint="last")
