"""Class-balanced sampling for the decoupled baselines (cRT, LWS) and any
stage 2 that wants it: pick a class uniformly, then one of its samples
uniformly (Kang et al., ICLR 2020), with replacement.

Registered in mmengine's root ``DATA_SAMPLERS``, so mmpretrain, mmdet and
mmseg configs find it by name. It reads each sample's classes through the
dataset's ``get_cat_ids(idx)`` (mmpretrain: the image label; mmdet: the
labels of its instances, an image then counts for each class it holds, as
mmdet's ``ClassAwareSampler`` does).
"""
import math
from typing import Iterator, List, Optional, Sized

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


def samples_by_class(dataset) -> List[List[int]]:
    """Indices of the samples of each class (classes with none left out),
    from ``dataset.get_cat_ids``."""
    if not hasattr(dataset, 'get_cat_ids'):
        raise TypeError(
            f'ClassBalancedSampler reads the classes of each sample with '
            f'get_cat_ids(idx), which {type(dataset).__name__} does not have.')
    by_class = {}
    for idx in range(len(dataset)):
        for label in set(int(c) for c in dataset.get_cat_ids(idx)):
            by_class.setdefault(label, []).append(idx)
    if not by_class:
        raise ValueError('ClassBalancedSampler: the dataset has no labelled '
                         'sample.')
    return [by_class[c] for c in sorted(by_class)]


@DATA_SAMPLERS.register_module()
class ClassBalancedSampler(Sampler):
    """Class uniformly, then sample uniformly within the class.

    Args:
        dataset: the training dataset (with ``get_cat_ids``).
        num_samples: draws per epoch over all ranks; the dataset's length by
            default, so an epoch is as long as with ``DefaultSampler``.
        seed: the random seed, the same on every rank (mmengine's
            ``sync_random_seed`` by default); each epoch draws with
            ``seed + epoch``, so ``--resume`` repeats the draws.
    """

    def __init__(self,
                 dataset: Sized,
                 num_samples: Optional[int] = None,
                 seed: Optional[int] = None) -> None:
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.by_class = samples_by_class(dataset)
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        total = len(dataset) if num_samples is None else num_samples
        self.num_samples = math.ceil(total / self.world_size)
        self.total_size = self.num_samples * self.world_size

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        classes = torch.randint(len(self.by_class), (self.total_size, ),
                                generator=g).tolist()
        picks = torch.rand(self.total_size, generator=g).tolist()
        indices = []
        for cls, pick in zip(classes, picks):
            members = self.by_class[cls]
            indices.append(members[min(int(pick * len(members)),
                                       len(members) - 1)])
        # the same draws on every rank; each takes its share
        return iter(indices[self.rank:self.total_size:self.world_size])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
