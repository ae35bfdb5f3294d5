"""The pipeline on the real video (woman2.mp4): detection, classification, overlay, CAM, snapshot."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from fer_engine.data.images import decode_image
from fer_engine.eval.predictor import load_predictor
from fer_engine.live import (DetectorError, LivePipeline, annotate, create_detector, crop_face,
                             make_smoother, open_source, play, save_snapshot)
from fer_engine.live.cam import make_cam_fn
from fer_engine.training.rundir import RunDirError
from fer_engine.recipe.preprocess import prepare_batch


@pytest.fixture(scope="module")
def predictor(tiny_run):
    return load_predictor(tiny_run, "cpu")


@pytest.fixture(scope="module")
def frames(video):
    """Every 8th frame of the video (58 frames spread over its whole length)."""
    with open_source(video) as src:
        return [f for f in src if f.index % 8 == 0]


def test_faces_found_in_most_frames_each_with_a_7_class_distribution(predictor, frames):
    pipe = LivePipeline(predictor, create_detector("haar"), make_smoother("ema", alpha=0.5))
    results = [pipe.process(f) for f in frames]
    assert all(r.detected for r in results)
    found = sum(len(r.boxes) > 0 for r in results)
    assert found >= 0.8 * len(frames), f"faces found in only {found} of {len(frames)} frames"
    for r in results:
        assert r.probs.shape == r.smoothed.shape == (len(r.boxes), 7)
        np.testing.assert_allclose(r.probs.sum(axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(r.smoothed.sum(axis=1), 1.0, atol=1e-5)
        assert ((r.boxes[:, 2] >= 40) & (r.boxes[:, 3] >= 40)).all()
        assert set(r.latency_ms) == {"capture", "detect", "classify", "cam", "total"}
    one_face = [r for r in results if len(r.boxes) == 1]
    assert len({int(r.track_ids[0]) for r in one_face}) <= 3  # one person keeps (nearly) one id
    assert results[-1].fps > 0


def test_faces_are_converted_exactly_like_training_input(predictor, frames):
    """The probabilities equal the model on decode_image(crop) -> prepare_batch with the run's values."""
    frame = frames[3]
    box = create_detector("haar").detect(frame.image)[:1]
    pipe = LivePipeline(predictor, create_detector("haar"), make_smoother("none"))
    result = pipe.process(frame)
    np.testing.assert_array_equal(result.boxes, box)
    rgb_crop = crop_face(frame.image, box[0], 0.1)[..., ::-1]
    face = decode_image(rgb_crop, 48, 1).copy()
    np.testing.assert_array_equal(result.faces[0], face)
    pre = predictor.preprocess
    x = prepare_batch(torch.from_numpy(face[None]), pre.mean, pre.std, pre.input_size)
    with torch.inference_mode(), predictor.precision():
        expected = predictor.model(x).float().softmax(-1).numpy()
    np.testing.assert_allclose(result.probs, expected, rtol=1e-4, atol=1e-6)


def test_detection_interval_holds_boxes_and_grad_cam_runs_at_a_reduced_rate(predictor, frames, tmp_path):
    pipe = LivePipeline(predictor, create_detector("haar"), make_smoother("ema"), detect_every=3,
                        cam_every=4, cam_fn=make_cam_fn(predictor))
    results = [pipe.process(f) for f in frames[:9]]
    assert [r.detected for r in results] == [True, False, False] * 3
    assert all(np.array_equal(r.boxes, results[0].boxes) for r in results[1:3])
    with_face = [r for r in results if len(r.boxes)]
    assert with_face and all(r.cam is not None and r.cam.shape == (48, 48) for r in with_face)
    assert all(0.0 <= r.cam.min() and r.cam.max() <= 1.0 for r in with_face)
    computed = [r.latency_ms["cam"] > 0.5 for r in results]
    assert computed[0] and not all(computed)  # computed on some frames, reused on others
    # overlay and snapshot
    r, frame = results[0], frames[0]
    shown = annotate(frame.image, r)
    assert shown.shape == frame.image.shape and not np.array_equal(shown, frame.image)
    assert not np.array_equal(shown, annotate(frame.image, dataclasses.replace(r, cam=None)))  # CAM drawn
    paths = save_snapshot(tmp_path, frame.image, shown, r, stem="snap")
    assert [p.name for p in paths] == ["snap.png", f"snap_face{r.track_ids[0]}.png", "snap.json"]
    meta = json.loads(paths[-1].read_text())
    assert meta["faces"][0]["label"] == r.labels[0] and len(meta["faces"][0]["probs"]) == 7


def test_classification_interval_holds_probabilities_but_classifies_new_faces(predictor, frames):
    pipe = LivePipeline(predictor, create_detector("haar"), make_smoother("ema", alpha=0.5), classify_every=3)
    results = [pipe.process(f) for f in frames[:4]]
    assert all(len(r.boxes) == 1 for r in results)
    for held in results[1:3]:
        np.testing.assert_array_equal(held.probs, results[0].probs)
        np.testing.assert_array_equal(held.smoothed, results[0].smoothed)
    assert not np.array_equal(results[3].probs, results[0].probs)  # classified again on frame 3
    for _ in range(2):  # the face is lost for two detections and comes back under a new id
        pipe.tracker.update(np.zeros((0, 4)))
    fresh = pipe.process(frames[4])
    assert fresh.track_ids[0] != results[0].track_ids[0]
    assert not np.array_equal(fresh.probs, results[3].probs)  # classified at once, not held


def test_play_stops_when_asked(predictor, video):
    pipe = LivePipeline(predictor, create_detector("haar"), detect_every=5)
    with open_source(video) as src:
        seen = [f.index for f, _ in play(src, pipe, should_stop=lambda: True)]
    assert seen == [0]


def test_detector_errors(tmp_path):
    with pytest.raises(DetectorError, match="YuNet model file not found: .*missing.onnx"):
        create_detector("yunet", model_path=str(tmp_path / "missing.onnx"))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not onnx")
    with pytest.raises(DetectorError, match="cannot load YuNet model"):
        create_detector("yunet", model_path=str(junk))
    with pytest.raises(KeyError, match="unknown face detector 'dlib'"):
        create_detector("dlib")


def test_min_face_filters_small_faces(frames):
    assert len(create_detector("haar", min_face=40).detect(frames[0].image)) == 1
    assert len(create_detector("haar", min_face=250).detect(frames[0].image)) == 0


def test_run_without_checkpoint_is_a_clear_error(tmp_path):
    from live_runs import make_run

    run = make_run(tmp_path, checkpoint=False)
    with pytest.raises(RunDirError, match="has no checkpoint yet"):
        load_predictor(run, "cpu")
