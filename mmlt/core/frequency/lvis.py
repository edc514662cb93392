"""Class frequencies of an LVIS v1 / COCO json: images or instances per
category, in mmdet's label order."""
import warnings

import numpy as np

from .class_frequency import ClassFrequency
from .counts import (MANY_ANNOTATIONS, PathLike, as_counts, progress_bar,
                     quoted, read_json)
from .splits import split_lvis


def from_lvis_json(path: PathLike, count: str = 'images') -> ClassFrequency:
    """Images or instances per category of an LVIS v1 / COCO json.

    Counts are computed from the annotations: the number of distinct images
    with at least one annotation of the category, and the number of
    annotations. When the categories carry LVIS's own ``image_count`` /
    ``instance_count`` and these disagree with the annotations, a warning
    says so (the computed numbers are used). Classes are the category names
    in the order the json lists them, which is mmdet's label order
    (``LVISV1Dataset`` / ``CocoDataset`` label ``lvis.get_cat_ids()``, the
    json's order, not the ids sorted); their ids are kept in
    ``category_ids``. Categories with no
    annotation are kept with count 0 (with a warning): dropping them would
    shift every later label. Split: LVIS's ``frequency`` letters when every
    category has one, else the LVIS image-count rule.
    """
    if count not in ('images', 'instances'):
        raise ValueError(f"from_lvis_json: count must be 'images' or "
                         f"'instances', got {count!r}.")
    path = str(path)
    where = f'annotation file {path}'
    data = read_json(path, where)
    if not isinstance(data, dict):
        raise ValueError(f'{where}: expected a JSON object with "categories" '
                         f'and "annotations", got {type(data).__name__}.')
    missing = [k for k in ('categories', 'annotations') if k not in data]
    if missing:
        raise ValueError(f'{where}: missing key(s) {missing}; expected an '
                         'LVIS / COCO instance annotation file.')
    categories = data['categories']
    if not isinstance(categories, list) or not categories:
        raise ValueError(f'{where}: "categories" must be a non-empty list.')
    for i, cat in enumerate(categories):
        if not isinstance(cat, dict) or 'id' not in cat or 'name' not in cat:
            raise ValueError(f'{where}: categories[{i}] has no "id" / "name".')
    ids = [c['id'] for c in categories]
    not_int = [i for i in ids if isinstance(i, bool) or not isinstance(i, int)]
    if not_int:
        raise ValueError(f'{where}: category ids must be integers (LVIS and '
                         f'COCO write them so), got {quoted(not_int[0])}.')
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f'{where}: duplicate category id(s) {dup[:10]}.')
    label_of = {cat_id: label for label, cat_id in enumerate(ids)}
    num_classes = len(ids)

    annotations = data['annotations']
    if not isinstance(annotations, list):
        raise ValueError(f'{where}: "annotations" must be a list.')
    labels = np.empty(len(annotations), dtype=np.int64)
    images_index = np.empty(len(annotations), dtype=np.int64)
    image_number = {}  # image id -> 0, 1, 2, ... in order of appearance
    for i, ann in enumerate(progress_bar(annotations, len(annotations),
                                         'annotations', MANY_ANNOTATIONS)):
        try:
            cat_id, image_id = ann['category_id'], ann['image_id']
        except (KeyError, TypeError):
            raise ValueError(f'{where}: annotations[{i}] has no '
                             '"category_id" / "image_id".') from None
        if cat_id not in label_of:
            kind = ('' if isinstance(cat_id, int) else
                    f' (a {type(cat_id).__name__}; the ids are integers)')
            raise ValueError(f'{where}: annotations[{i}] has category_id '
                             f'{quoted(cat_id)}{kind}, which is not in '
                             '"categories".')
        labels[i] = label_of[cat_id]
        images_index[i] = image_number.setdefault(image_id, len(image_number))
    instances = np.bincount(labels, minlength=num_classes)
    # Each distinct (label, image) pair is one image of that class.
    stride = max(len(image_number), 1)
    pairs = np.unique(labels * stride + images_index)
    images = np.bincount(pairs // stride, minlength=num_classes)

    names = [str(c['name']) for c in categories]
    for key, computed in (('image_count', images),
                          ('instance_count', instances)):
        if not all(key in c for c in categories):
            continue
        stored = np.asarray([c[key] for c in categories])
        bad = np.flatnonzero(stored != computed)
        if len(bad):
            shown = ', '.join(f'{names[i]!r}: {int(stored[i])} vs '
                              f'{int(computed[i])}' for i in bad[:5])
            warnings.warn(f'{where}: the categories\' own "{key}" disagrees '
                          f'with the annotations for {len(bad)} '
                          f'categories (json vs computed: {shown}); using the '
                          'counts computed from the annotations.')
    zero = np.flatnonzero(images == 0)
    if len(zero):
        shown = ', '.join(repr(names[i]) for i in zero[:10])
        more = ' ...' if len(zero) > 10 else ''
        warnings.warn(f'{where}: {len(zero)} categories have no annotation '
                      f'({shown}{more}); they are kept with count 0.')

    letters = [c.get('frequency') for c in categories]
    split = split_lvis(images, letters)
    extra = {'images': images, 'instances': instances}
    return ClassFrequency(
        classes=tuple(names),
        counts=as_counts(extra[count], where),
        kind=count,
        split=split,
        extra_counts={k: as_counts(v, where) for k, v in extra.items()},
        source=f'from_lvis_json({path!r}, count={count!r})',
        category_ids=tuple(ids))
