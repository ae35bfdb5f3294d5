"""Pure logic: IoU tracking keeps ids, smoothing math, square crops with margins."""
from __future__ import annotations

import numpy as np
import pytest

from fer_engine.live import EmaSmoother, IoUTracker, WindowSmoother, crop_face, make_smoother
from fer_engine.live.classify import square_box
from fer_engine.live.track import iou_matrix


def test_iou_matrix():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5]])
    assert iou_matrix(a, b) == pytest.approx(np.array([[1.0, 50 / 150, 0.0]]))


def test_tracker_keeps_ids_across_moves_and_a_missed_detection():
    t = IoUTracker(iou_threshold=0.3, max_missed=1)
    first = t.update(np.array([[100, 100, 50, 50], [300, 100, 40, 40]]))
    assert [x.track_id for x in first] == [1, 2]
    moved = t.update(np.array([[305, 102, 40, 40], [104, 98, 50, 50]]))  # order swapped, small moves
    assert [x.track_id for x in moved] == [2, 1]
    assert [x.track_id for x in t.update(np.array([[106, 98, 50, 50]]))] == [1]  # face 2 missed once
    assert t.track_ids == [1, 2] and [x.track_id for x in t.visible] == [1]
    back = t.update(np.array([[106, 98, 50, 50], [306, 102, 40, 40]]))
    assert [x.track_id for x in back] == [1, 2]  # face 2 is back with its id
    t.update(np.array([[106, 98, 50, 50]]))
    t.update(np.array([[106, 98, 50, 50]]))  # face 2 missed twice: forgotten
    assert t.track_ids == [1]
    assert [x.track_id for x in t.update(np.array([[306, 102, 40, 40]]))] == [3]  # a new face


def test_ema_smoothing_math_and_per_track_state():
    s = EmaSmoother(alpha=0.25)
    np.testing.assert_allclose(s.update(1, [1.0, 0.0]), [1.0, 0.0])
    np.testing.assert_allclose(s.update(1, [0.0, 1.0]), [0.75, 0.25])
    np.testing.assert_allclose(s.update(1, [0.0, 1.0]), [0.5625, 0.4375])
    np.testing.assert_allclose(s.update(2, [0.0, 1.0]), [0.0, 1.0])  # another face is independent
    s.retain([2])
    np.testing.assert_allclose(s.update(1, [0.0, 1.0]), [0.0, 1.0])  # a forgotten track restarts


def test_window_smoothing_is_the_mean_of_the_last_n():
    s = WindowSmoother(window=2)
    s.update(7, [1.0, 0.0])
    np.testing.assert_allclose(s.update(7, [0.0, 1.0]), [0.5, 0.5])
    np.testing.assert_allclose(s.update(7, [0.0, 1.0]), [0.0, 1.0])
    s.reset()
    np.testing.assert_allclose(s.update(7, [0.2, 0.8]), [0.2, 0.8])


def test_make_smoother_modes_and_errors():
    none = make_smoother("none")
    none.update(1, [1.0, 0.0])
    np.testing.assert_allclose(none.update(1, [0.0, 1.0]), [0.0, 1.0])
    assert isinstance(make_smoother("window", window=3), WindowSmoother)
    with pytest.raises(ValueError, match="alpha"):
        make_smoother("ema", alpha=0.0)
    with pytest.raises(ValueError, match="window"):
        make_smoother("window", window=0)
    with pytest.raises(ValueError, match="one of ema, window, none"):
        make_smoother("median")


def test_square_crop_with_margin_and_edge_replication():
    assert square_box((10, 20, 40, 20), margin=0.25) == (0, 0, 60)  # centre (30, 30), side 40 * 1.5
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[:, :50] = 200
    inside = crop_face(frame, (40, 40, 20, 20), margin=0.5)
    assert inside.shape == (40, 40, 3)
    edge = crop_face(frame, (0, 0, 20, 30), margin=0.5)  # leaves the frame at the top left
    assert edge.shape == (60, 60, 3) and (edge == 200).all()  # replicated, not black
    with pytest.raises(ValueError, match="outside"):
        crop_face(frame, (300, 300, 10, 10))
