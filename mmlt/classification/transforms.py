"""Data transforms of the mmpretrain adapter."""
from mmpretrain.datasets.transforms import RandomCrop
from mmpretrain.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomShift(RandomCrop):
    """Shift the image by up to ``padding`` pixels: pad each border, then
    crop back to the image's own size at a random offset.

    mmpretrain's ``RandomCrop`` with the crop size taken from each image, so
    that the pipeline fits data of any size (a fixed ``crop_size=28`` would
    silently crop 32-px images); the same draws, so the same crops.

    Args:
        padding: pixels added on each border (or as ``RandomCrop`` takes).
        **kwargs: ``RandomCrop``'s ``pad_val`` and ``padding_mode``.
    """

    def __init__(self, padding, **kwargs):
        super().__init__(crop_size=1, padding=padding, **kwargs)

    def transform(self, results: dict) -> dict:
        self.crop_size = tuple(results['img'].shape[:2])
        return super().transform(results)
