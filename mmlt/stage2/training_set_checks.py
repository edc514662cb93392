"""Checks of a stage-2 model's class counts against its training set: the
frequency files of its long-tail losses must name the training set's
classes, in its label order, with its counts."""
import warnings
from typing import List, Optional, Sequence, Tuple

import numpy as np
from torch import nn

from ..core.class_counts import UsesClassCounts
from ..core.frequency import ClassFrequency
from ..core.frequency.counts import (differing_class_names, quoted,
                                     reordered_or_respelled)


def _unwrap(dataset):
    """The dataset inside wrappers (``ClassBalancedDataset``, ...)."""
    while not hasattr(dataset, 'metainfo') and hasattr(dataset, 'dataset'):
        dataset = dataset.dataset
    return dataset


def dataset_class_counts(dataset, kind: str,
                         num_classes: int) -> Optional[np.ndarray]:
    """Recount ``kind`` per class on a built dataset, where that is cheap:
    images per class of an mmpretrain dataset (its labels); images or
    instances per class of an mmdet dataset (its instances, ignored ones
    left out). None where it is not (pixels would take a pass over every
    label map)."""
    dataset = _unwrap(dataset)
    if hasattr(dataset, 'get_gt_labels'):  # mmpretrain
        if kind != 'images':
            return None
        labels = np.asarray(dataset.get_gt_labels(), dtype=np.int64)
        return np.bincount(labels, minlength=num_classes)[:num_classes]
    if kind not in ('images', 'instances') or not hasattr(
            dataset, 'get_data_info'):
        return None
    counts = np.zeros(num_classes, dtype=np.int64)
    for i in range(len(dataset)):
        instances = dataset.get_data_info(i).get('instances')
        if instances is None:  # not a detection dataset
            return None
        labels = [inst['bbox_label'] for inst in instances
                  if not inst.get('ignore_flag', 0)]
        if kind == 'images':
            labels = set(labels)
        for label in labels:
            if 0 <= label < num_classes:
                counts[label] += 1
    return counts


def count_mismatch(names: Sequence[str], file_counts,
                   counts) -> Optional[str]:
    """``'N classes, e.g. 'a': 30 (file) vs 16 (dataset); ...'`` where a
    frequency file's counts differ from a dataset's, else None."""
    file_counts = np.asarray(file_counts)
    bad = np.flatnonzero(file_counts != counts)
    if not len(bad):
        return None
    return f'{len(bad)} classes, e.g. ' + '; '.join(
        f'{quoted(names[i])}: {int(file_counts[i])} (file) vs '
        f'{int(counts[i])} (dataset)' for i in bad[:5])


def check_frequency_counts(model: nn.Module, dataset,
                           dataset_name: str = 'the training set') -> None:
    """Compare each G-RW loss's class counts with the training set's own.

    Classification: one image is one sample, so the counts must be equal
    (an error: a frequency file of another split or subset re-weights
    wrongly). Detection: a warning, as the dataset's ``filter_cfg`` may
    drop images on purpose. Segmentation (pixels) is not recounted.
    """
    strict = hasattr(_unwrap(dataset), 'get_gt_labels')
    for name, module in model.named_modules():
        if not isinstance(module, UsesClassCounts) or module.count_kind is None:
            continue
        counts = dataset_class_counts(dataset, module.count_kind,
                                      module.num_classes)
        if counts is None:
            continue
        names = module.classes or [f'class_{i}' for i in
                                   range(module.num_classes)]
        mismatch = count_mismatch(names, module.class_counts, counts)
        if mismatch is None:
            continue
        message = (
            f'{name}: the {module.count_kind} counts of {module.source} '
            f'disagree with {dataset_name} for {mismatch}. Compute the '
            'frequencies on this training set with '
            'tools/analysis/class_frequency.py.')
        if strict:
            raise ValueError(message)
        warnings.warn(message + ' (The dataset\'s filter_cfg may explain a '
                      'small difference.)')


def dataset_label_order(
        dataset) -> Tuple[Optional[Sequence[str]], Optional[Sequence[int]]]:
    """``(classes, category_ids)`` of a built dataset, unwrapping dataset
    wrappers (``ClassBalancedDataset``, ``RepeatDataset``, ...).

    ``category_ids`` are mmdet's ``cat_ids`` of LVIS / COCO datasets: the
    annotation file's category id of label 0, 1, ..., in the json's order.
    """
    dataset = _unwrap(dataset)
    metainfo = getattr(dataset, 'metainfo', None) or {}
    cat_ids = getattr(dataset, 'cat_ids', None)
    return metainfo.get('classes'), (None if cat_ids is None
                                     else [int(i) for i in cat_ids])


def check_frequency_classes(model: nn.Module,
                            classes: Optional[Sequence[str]],
                            dataset_name: str = 'the training set',
                            category_ids: Optional[Sequence[int]] = None
                            ) -> None:
    """Fail if a G-RW loss was given frequencies of other classes, or of
    the same classes in another label order.

    With LVIS / COCO jsons the label order is the json's category order;
    when both the frequency file and the dataset know the category ids,
    they must agree label by label (a name check alone passes when the json
    lists its categories in another order, and the weights are permuted),
    and the names too: with ids that agree, a name out of place means the
    dataset's class names (the config's) do not name its labels; a name
    spelled otherwise is only warned about.
    """
    if classes is None and category_ids is None:
        return
    for name, module in model.named_modules():
        if not isinstance(module, UsesClassCounts):
            continue
        file_ids = module.category_ids
        if category_ids is not None and file_ids is not None:
            if tuple(file_ids) != tuple(category_ids):
                diff = [(i, a, b) for i, (a, b) in enumerate(
                    zip(file_ids, category_ids)) if a != b]
                detail = ('; '.join(f'label {i}: category id {a} (file) vs '
                                    f'{b} (dataset)' for i, a, b in diff[:3])
                          if diff else f'{len(file_ids)} ids (file) vs '
                          f'{len(category_ids)} (dataset)')
                raise ValueError(
                    f'{name}: the class frequencies ({module.source}) are not '
                    f'in the label order of {dataset_name}: {detail}. '
                    'Compute them from the same annotation file with '
                    'tools/analysis/class_frequency.py.')
            ids_agree = True  # the labels are the same categories
        else:
            ids_agree = False
        if category_ids is not None and file_ids is None:
            warnings.warn(
                f'{name}: {module.source} has no category ids, so its label '
                f'order cannot be checked against {dataset_name}; older '
                'mmlt versions wrote LVIS / COCO categories sorted by id. '
                'Recompute it with tools/analysis/class_frequency.py.')
        if classes is None:
            continue
        classes = tuple(classes)
        if module.num_classes != len(classes):
            raise ValueError(
                f'{name}: the class frequencies ({module.source}) cover '
                f'{module.num_classes} classes but {dataset_name} has '
                f'{len(classes)} classes. Compute them on this dataset with '
                'tools/analysis/class_frequency.py.')
        diff = differing_class_names(module.classes, classes)
        if ids_agree:
            # The same categories label by label: a name out of place means
            # the config's names do not name the labels (a json not in id
            # order); one spelled otherwise is the same class.
            diff, respelled = reordered_or_respelled(diff, module.classes,
                                                     classes)
            if respelled:
                warnings.warn(
                    f'{name}: {len(respelled)} class names of {module.source}'
                    f' are spelled otherwise in {dataset_name} (the category '
                    'ids agree, so they are the same classes), e.g. ' +
                    '; '.join(f'label {i}: {a!r} (file) vs {b!r} (dataset)'
                              for i, a, b in respelled[:3]))
        if diff:
            raise ValueError(
                f'{name}: the class names in {module.source} differ from '
                f'those of {dataset_name}, e.g. ' + '; '.join(
                    f'class {i}: {a!r} (file) vs {b!r} (dataset)'
                    for i, a, b in diff[:3]) + '. Compute the frequencies '
                'on this dataset with tools/analysis/class_frequency.py; if '
                'the category ids agree, the annotation file lists its '
                'categories in another order than the config\'s class '
                'names: give the dataset the names in the file\'s order.')


def frequency_files_in(node) -> List[str]:
    """Every ``frequency_file`` named under ``node`` (a config's model or
    evaluator), once each, in order."""
    found = []
    items = (node.items() if isinstance(node, dict) else
             enumerate(node) if isinstance(node, (list, tuple)) else ())
    for key, value in items:
        if key == 'frequency_file' and isinstance(value, str):
            found.append(value)
        else:
            found += frequency_files_in(value)
    return list(dict.fromkeys(found))


def stale_frequency_files(paths: Sequence[str], dataset) -> List[str]:
    """For ``tools/test.py``, which builds no training set: a message for
    each image-count frequency file of ``paths`` whose classes are those of
    the training set ``dataset`` but whose counts are not its counts (a
    file of another subset, or of the list before it changed). Its groups
    and priors would be stale; training refuses such a file, testing
    warns."""
    classes = (_unwrap(dataset).metainfo or {}).get('classes')
    messages = []
    for path in paths:
        try:
            freq = ClassFrequency.load(path)
        except (OSError, ValueError):
            continue  # reading it for the run reports that
        if freq.kind != 'images' or (
                classes is not None and tuple(classes) != freq.classes):
            continue  # other classes: the name checks report that
        counts = dataset_class_counts(dataset, 'images', freq.num_classes)
        if counts is None:
            continue
        mismatch = count_mismatch(freq.classes, freq.counts, counts)
        if mismatch is not None:
            messages.append(
                f'{path}: its image counts differ from the training set\'s '
                f'({type(_unwrap(dataset)).__name__} of train_dataloader) '
                f'for {mismatch}. The groups (many / medium / few) and any '
                'prior of this evaluation come from the file; compute it '
                'again on the training set with '
                'tools/analysis/class_frequency.py.')
    return messages
