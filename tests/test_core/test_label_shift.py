"""Tests for mmlt.core.label_shift (SADE's test-agnostic protocol).

Shifted counts are int(n_max * (1/r) ** (i / (C - 1))), truncated. For
n_max = 100, C = 10, r = 10, 100 * 10 ** (-i / 9) for i = 0..9 is
100, 77.43, 59.95, 46.42, 35.94, 27.83, 21.54, 16.68, 12.92, 10.
"""
import numpy as np
import pytest
import torch

from mmlt.core.label_shift import (resample_to_prior, shifted_counts,
                                   shifted_prior)

FORWARD_10 = [100, 77, 59, 46, 35, 27, 21, 16, 12, 10]


def test_shifted_counts_by_hand():
    assert shifted_counts(100, 10, 10) == FORWARD_10
    assert shifted_counts(100, 10, 10, 'forward') == FORWARD_10
    assert shifted_counts(100, 10, 10, 'backward') == FORWARD_10[::-1]
    assert shifted_counts(100, 10, 1) == [100] * 10
    assert shifted_counts(100, 10, 1, 'backward') == [100] * 10
    # C = 3, r = 5: 5 * 0.2 ** (0, 0.5, 1) = 5, 2.236, 1
    assert shifted_counts(5, 3, 5) == [5, 2, 1]
    # r = 2, C = 3: 50 * 0.5 ** 0.5 = 35.36 -> 35 (truncated, not 36)
    assert shifted_counts(50, 3, 2) == [50, 35, 25]
    assert shifted_counts(7, 1, 50) == [7]


@pytest.mark.parametrize('args, message', [
    ((100, 10, 0.5), 'a number >= 1'),
    ((100, 10, float('inf')), 'a number >= 1'),
    ((0, 10, 2), 'per_class must be an integer >= 1'),
    ((100, 0, 2), 'num_classes must be an integer >= 1'),
    ((100, 10, 2, 'sideways'), "direction must be one of"),
])
def test_shifted_counts_errors(args, message):
    with pytest.raises(ValueError, match=message):
        shifted_counts(*args)


def labels_with_sizes(sizes, seed=0):
    """Shuffled labels: class c appears sizes[c] times."""
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return np.random.default_rng(seed).permutation(labels)


def test_resample_counts_by_hand():
    labels = labels_with_sizes([5, 6, 7])  # balanced count: the min, 5
    kept = resample_to_prior(labels, 5)
    assert np.bincount(labels[kept]).tolist() == [5, 2, 1]
    assert (np.diff(kept) > 0).all()  # ascending, no repeat
    back = resample_to_prior(labels, 5, 'backward')
    assert np.bincount(labels[back]).tolist() == [1, 2, 5]
    # train counts 1, 100, 10: rank order is class 1, 2, 0
    ranked = resample_to_prior(labels, 5, train_counts=[1, 100, 10])
    assert np.bincount(labels[ranked]).tolist() == [1, 5, 2]
    # r = 1 keeps 5 of each
    assert np.bincount(labels[resample_to_prior(labels, 1)]).tolist() == \
        [5, 5, 5]
    # torch labels give the same indices
    np.testing.assert_array_equal(
        resample_to_prior(torch.from_numpy(labels), 5), kept)


def test_resample_is_deterministic_per_seed():
    labels = labels_with_sizes([50] * 4)
    a = resample_to_prior(labels, 10, seed=3)
    np.testing.assert_array_equal(a, resample_to_prior(labels, 10, seed=3))
    assert any(not np.array_equal(a, resample_to_prior(labels, 10, seed=s))
               for s in (4, 5, 6))


@pytest.mark.parametrize('direction', ['forward', 'backward'])
def test_matches_sades_own_draw(direction):
    """SADE's IMBALANCECIFAR10.gen_imbalanced_data on a balanced set
    (np.random.seed(0), shuffle each class's indices in class order, keep
    the first n), written out here: seed 0 draws the same subset."""
    labels = labels_with_sizes([30] * 10, seed=1)
    counts = shifted_counts(30, 10, 10, direction)
    state = np.random.get_state()
    try:
        np.random.seed(0)
        sade = []
        for c, n in zip(np.unique(labels), counts):
            idx = np.where(labels == c)[0]
            np.random.shuffle(idx)
            sade.extend(idx[:n])
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(resample_to_prior(labels, 10, direction),
                                  np.sort(sade))


def test_resample_errors():
    with pytest.raises(ValueError, match=r'class\(es\) \[1\] have no test'):
        resample_to_prior(np.array([0, 0, 2, 2]), 2)
    with pytest.raises(ValueError, match=r'class\(es\) \[2\]'):
        resample_to_prior(np.array([0, 1]), 2, num_classes=3)
    with pytest.raises(ValueError, match='integers'):
        resample_to_prior(np.array([0.0, 1.0]), 2)
    with pytest.raises(ValueError, match='label 3 is not a class of 3'):
        resample_to_prior(np.array([0, 1, 3]), 2, train_counts=[5, 3, 1])


def test_shifted_prior():
    np.testing.assert_allclose(shifted_prior([5, 2, 1]),
                               [0.625, 0.25, 0.125])
    prior = shifted_prior(shifted_counts(100, 10, 10))
    assert prior.sum() == pytest.approx(1.0)
    assert prior[0] == pytest.approx(100 / sum(FORWARD_10))
    with pytest.raises(ValueError, match='all 0'):
        shifted_prior([0, 0])
    with pytest.raises(ValueError, match='>= 0'):
        shifted_prior([1, -1])
