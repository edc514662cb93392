"""Modules configured by the training class counts (G-RW loss, logit
adjustment), and the one place that reads them.

A module takes its counts inline (``class_counts``) or from an mmlt
class-frequency file (``frequency_file``, written by
``tools/analysis/class_frequency.py``), and remembers where they came from
so that the stage-2 runner can check them against the training set (class
names, label order, the counts themselves).
"""
from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from .frequency import ClassFrequency


class UsesClassCounts(nn.Module):
    """Base of the modules that read the training class counts.

    After ``read_class_counts`` the module has ``class_counts`` (floats),
    ``num_classes``, ``classes`` and ``category_ids`` (None when inline),
    ``count_kind`` ('images' / 'instances' / 'pixels', None when inline)
    and ``source`` (the file, or 'class_counts').
    """

    def read_class_counts(self,
                          class_counts: Optional[Sequence[float]] = None,
                          frequency_file: Optional[str] = None,
                          count_kind: Optional[str] = None) -> Tensor:
        """Set the attributes above; return the counts as a float tensor."""
        owner = type(self).__name__
        if (class_counts is None) == (frequency_file is None):
            raise ValueError(
                f'{owner} needs the training class frequencies: give exactly '
                'one of `class_counts` (a list) or `frequency_file` (a JSON '
                'from tools/analysis/class_frequency.py).')
        self.classes = None
        self.category_ids = None  # the annotation file's, in label order
        # what the counts count, when known: the stage-2 runner recounts
        # them on the training set
        self.count_kind = None
        self.source = 'class_counts'
        if frequency_file is not None:
            freq = ClassFrequency.load(frequency_file)
            class_counts = freq.counts_array(count_kind)
            self.classes = tuple(freq.classes)
            self.category_ids = freq.category_ids
            self.count_kind = count_kind or freq.kind
            self.source = str(frequency_file)
        elif count_kind is not None:
            raise ValueError('`count_kind` selects counts of a '
                             '`frequency_file`; it has no meaning with '
                             '`class_counts`.')
        self.class_counts = tuple(float(c) for c in class_counts)
        self.num_classes = len(self.class_counts)
        return torch.tensor(self.class_counts, dtype=torch.float64)
