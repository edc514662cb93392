"""A held-out part of the training set for DisAlign's stage 2.

Once stage 1 fits its training set, the training logits no longer show the
bias that test images meet (the head classes win the ambiguous cases), so
a calibration learnt on them learns the wrong thing: it sharpens the logits
and undoes any correction (measured: ``docs/en/results.md``). A stage 2
learnt on images that stage 1 did not train on, a stratified part of the
training set held out from stage 1, sees that bias. On the robustness
protocol's small sets the images held out cost stage 1 more than stage 2
won back, so mmlt's recipe does not use it; this split and
``tools/dataset_converters/split_heldout.py`` reproduce that measurement.

The rule, per class of ``n`` training samples: ``floor(fraction * n)`` are
held out, so that a class keeps at least ``n - floor(fraction * n) >= 1``
samples for stage 1 and the rare classes (``n < 1 / fraction``) keep all of
theirs: a tail class loses no image to stage 2, whose margin for it starts
at the logit adjustment's (``prior_margin``) and moves with the evidence of
the other classes' held-out images.
"""
from typing import List, Sequence, Tuple

import numpy as np


def heldout_split(labels: Sequence[int], fraction: float,
                  seed: int = 0) -> Tuple[List[int], List[int]]:
    """Indices of ``labels`` for stage 1 (``fit``) and stage 2
    (``heldout``), each sorted; see the module doc for the rule.

    Args:
        labels: the class of each training sample (ints >= 0).
        fraction: the part of each class held out, in (0, 1).
        seed: which samples; the same seed gives the same split.
    """
    fraction = float(fraction)
    if not 0 < fraction < 1:
        raise ValueError(f'the held-out fraction must be in (0, 1), got '
                         f'{fraction}.')
    labels = np.asarray(labels)
    if labels.ndim != 1 or not len(labels):
        raise ValueError('heldout_split needs a non-empty list of labels.')
    if not np.issubdtype(labels.dtype, np.integer) or (labels < 0).any():
        raise ValueError('labels must be integers >= 0.')
    rng = np.random.default_rng(seed)
    fit, heldout = [], []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        members = members[rng.permutation(len(members))]
        k = int(np.floor(fraction * len(members)))
        heldout += members[:k].tolist()
        fit += members[k:].tolist()
    if not heldout:
        raise ValueError(
            f'a held-out fraction of {fraction} holds out nothing: every '
            f'class has fewer than {int(np.ceil(1 / fraction))} samples. '
            'Raise the fraction.')
    return sorted(fit), sorted(heldout)
