from __future__ import annotations

import numpy as np
import pytest

from redact.types import Detections


def test_from_arrays_and_indexing() -> None:
    d = Detections.from_arrays([[0, 0, 10, 10], [5, 5, 20, 30]], [0.9, 0.4], "face")
    assert len(d) == 2
    assert d.label.tolist() == ["face", "face"]
    assert d.track_id.tolist() == [-1, -1]
    sub = d[d.score > 0.5]
    assert len(sub) == 1 and sub.xyxy.tolist() == [[0, 0, 10, 10]]
    np.testing.assert_allclose(d.area, [100, 375])


def test_concat_and_empty() -> None:
    a = Detections.from_arrays([[0, 0, 1, 1]], [0.5], "face")
    b = Detections.from_arrays([[1, 1, 2, 2]], [0.6], "plate", source="tracker", track_id=[3])
    c = Detections.concat([a, Detections.empty(), b])
    assert c.label.tolist() == ["face", "plate"]
    assert c.source.tolist() == ["detector", "tracker"]
    assert c.track_id.tolist() == [-1, 3]
    assert len(Detections.concat([])) == 0


def test_immutable() -> None:
    d = Detections.from_arrays([[0, 0, 1, 1]], [0.5], "face")
    with pytest.raises(ValueError):
        d.xyxy[0, 0] = 5


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"xyxy": [[0, 0, 1, 1]], "score": [0.5, 0.6], "label": "face"}, "score"),
        ({"xyxy": [[0, 0, 1, 1]], "score": [0.5], "label": "car"}, "unknown label"),
        ({"xyxy": [[0, 0, np.nan, 1]], "score": [0.5], "label": "face"}, "NaN"),
        ({"xyxy": [[0, 0, 1, 1]], "score": [0.5], "label": "face", "source": "guess"}, "unknown source"),
    ],
)
def test_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Detections.from_arrays(**kwargs)
