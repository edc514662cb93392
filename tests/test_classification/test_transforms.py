"""The mmpretrain adapter's transforms."""
import numpy as np
import pytest
from mmpretrain.datasets.transforms import RandomCrop

from mmlt.classification.transforms import RandomShift


def shifted(transform, image, seed):
    np.random.seed(seed)
    return transform.transform(dict(img=image.copy()))['img']


@pytest.mark.parametrize('size', [28, 32])
def test_random_shift_keeps_the_size_and_is_random_crop(size):
    image = np.random.RandomState(0).randint(
        0, 255, (size, size, 3)).astype(np.uint8)
    shift = RandomShift(padding=2)
    crop = RandomCrop(crop_size=size, padding=2)
    outs = [shifted(shift, image, seed) for seed in range(8)]
    assert all(out.shape == image.shape for out in outs)
    # the same draws as RandomCrop with the image's own size: the same crops
    for seed, out in enumerate(outs):
        np.testing.assert_array_equal(out, shifted(crop, image, seed))
    # shifted, not copied: some draw moves the image
    assert any(not np.array_equal(out, image) for out in outs)


def test_random_shift_follows_each_image():
    shift = RandomShift(padding=2)
    assert shifted(shift, np.zeros((32, 32, 3), np.uint8), 0).shape[:2] == (
        32, 32)
    assert shifted(shift, np.zeros((20, 24, 3), np.uint8), 0).shape[:2] == (
        20, 24)
