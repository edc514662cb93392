"""Tests for mmlt.core.calibration_error against ECEs computed by hand.

15 bins of width 1/15 = 0.0667 over [0, 1], bin b = (b/15, (b+1)/15]:
bin 0 (0, .067], 4 (.267, .333], 7 (.467, .533], 8 (.533, .6],
9 (.6, .667], 10 (.667, .733], 12 (.8, .867], 14 (.933, 1].
"""
import json

import numpy as np
import pytest
import torch

from mmlt.core.calibration_error import (calibration_per_group,
                                         expected_calibration_error,
                                         read_reliability, reliability_bins,
                                         write_reliability)

# confidence -> bin, correct:
#   0.95 -> 14, right;  0.94 -> 14, wrong: bin 14 acc 0.5, conf 0.945,
#                                          gap 0.445, 2 samples
#   0.62 -> 9,  right:  gap 0.38
#   0.30 -> 4,  right:  gap 0.70
#   0.05 -> 0,  wrong:  gap 0.05
# ECE = (2 * 0.445 + 0.38 + 0.70 + 0.05) / 5 = 2.02 / 5 = 0.404 -> 40.4 %
CONF = [0.95, 0.94, 0.62, 0.30, 0.05]
CORRECT = [True, False, True, True, False]


def test_bins_by_hand():
    bins = reliability_bins(CONF, CORRECT)
    count = np.zeros(15, int)
    count[[0, 4, 9, 14]] = [1, 1, 1, 2]
    np.testing.assert_array_equal(bins['count'], count)
    accuracy = np.zeros(15)  # empty bins hold 0.0, never NaN
    accuracy[[4, 9, 14]] = [1.0, 1.0, 0.5]
    np.testing.assert_allclose(bins['accuracy'], accuracy)
    confidence = np.zeros(15)
    confidence[[0, 4, 9, 14]] = [0.05, 0.30, 0.62, 0.945]
    np.testing.assert_allclose(bins['confidence'], confidence)
    np.testing.assert_allclose(bins['lower'], np.arange(15) / 15)
    np.testing.assert_allclose(bins['upper'], np.arange(1, 16) / 15)


def test_ece_by_hand_numpy_and_torch():
    assert expected_calibration_error(CONF, CORRECT) == pytest.approx(40.4)
    assert expected_calibration_error(
        torch.tensor(CONF), torch.tensor(CORRECT)) == pytest.approx(40.4)
    assert expected_calibration_error(
        np.array(CONF), np.array(CORRECT, dtype=int)) == pytest.approx(40.4)
    # with 1 bin: acc 3/5 = 0.6, mean conf 2.86/5 = 0.572 -> 2.8 %
    assert expected_calibration_error(CONF, CORRECT, num_bins=1) == \
        pytest.approx(2.8)


def test_perfectly_calibrated_is_zero():
    # bin 7 (.467, .533]: conf 0.5, half right; bin 14: conf 1.0, all right
    conf = [0.5, 0.5, 1.0, 1.0]
    assert expected_calibration_error(conf, [1, 0, 1, 1]) == 0.0


def test_bins_are_closed_above():
    edges = np.linspace(0, 1, 16)  # MiSLAS's edges, float for float
    bins = reliability_bins([edges[5], 0.0, 1.0], [1, 1, 1])
    # edges[5] is the upper edge of bin 4, not the lower edge of bin 5;
    # 0 goes to the first bin (MiSLAS drops it), 1 to the last
    assert bins['count'][4] == 1 and bins['count'][5] == 0
    assert bins['count'][0] == 1 and bins['count'][14] == 1


@pytest.mark.parametrize('conf, correct, message', [
    ([0.5, 1.2], [1, 0], r'probabilities in \[0, 1\]'),
    ([0.5, np.nan], [1, 0], 'NaN'),
    ([0.5, -0.1], [1, 0], 'not logits'),
    ([0.5], [1, 0], 'same length'),
    ([[0.5]], [[1]], '1-D'),
    ([], [], 'no samples'),
    ([0.5], [2], '0 / 1'),
])
def test_bad_input(conf, correct, message):
    with pytest.raises(ValueError, match=message):
        expected_calibration_error(conf, correct)
    with pytest.raises(ValueError, match='num_bins'):
        reliability_bins([0.5], [1], num_bins=0)


# 3 classes; many = [0], medium = [1] (no test sample), few = [2]
#   s0 [.70, .20, .10] label 0: conf .70 (bin 10), right, gap .30
#   s1 [.50, .10, .40] label 0: conf .50 (bin 7),  right, gap .50
#   s2 [.05, .10, .85] label 2: conf .85 (bin 12), right, gap .15
#   s3 [.55, .15, .30] label 2: conf .55 (bin 8),  wrong, gap .55
# many (.30 + .50) / 2 = 40 %; few (.15 + .55) / 2 = 35 %;
# all 1.5 / 4 = 37.5 %; medium: no sample -> None
PROBS = [[.70, .20, .10], [.50, .10, .40], [.05, .10, .85], [.55, .15, .30]]
LABELS = [0, 0, 2, 2]
GROUPS = {'many': [0], 'medium': [1], 'few': [2]}


def test_per_group_by_hand():
    result = calibration_per_group(np.array(PROBS), np.array(LABELS), GROUPS)
    assert list(result) == ['ece', 'many', 'medium', 'few']
    assert result['ece'] == pytest.approx(37.5)
    assert result['many'] == pytest.approx(40.0)
    assert result['few'] == pytest.approx(35.0)
    assert result['medium'] is None
    from_torch = calibration_per_group(torch.tensor(PROBS),
                                       torch.tensor(LABELS), GROUPS)
    assert from_torch == pytest.approx(result)


@pytest.mark.parametrize('probs, labels, groups, message', [
    (PROBS, [0, 0, 3, 2], GROUPS, r'integers in \[0, 3\)'),
    (PROBS, [0, 0, 2], GROUPS, r'\(N, C\)'),
    ([[2.0, 1.0, 0.5]] * 4, LABELS, GROUPS, 'not logits'),
    (PROBS, LABELS, {'few': [5]}, r"group 'few' holds class indices"),
    (PROBS, LABELS, {'ece': [0]}, "named 'ece'"),
])
def test_per_group_bad_input(probs, labels, groups, message):
    with pytest.raises(ValueError, match=message):
        calibration_per_group(np.array(probs), np.array(labels), groups)


def test_reliability_file_round_trip(tmp_path):
    path = write_reliability(tmp_path / 'd' / 'rel.json',
                             reliability_bins(CONF, CORRECT))
    data = json.loads(path.read_text())
    assert data['ece'] == pytest.approx(40.4)
    assert data['count'][14] == 2
    back = read_reliability(path)
    np.testing.assert_allclose(back['confidence'][[0, 14]], [0.05, 0.945])
    assert back['ece'] == pytest.approx(40.4)
    assert sorted(p.name for p in path.parent.iterdir()) == ['rel.json']
    with pytest.raises(ValueError, match=r"no \['lower'"):
        write_reliability(tmp_path / 'x.json', {'count': [1]})
    (tmp_path / 'other.json').write_text('{"ece": 1}')
    with pytest.raises(ValueError, match=r'other\.json: not a reliability'):
        read_reliability(tmp_path / 'other.json')
