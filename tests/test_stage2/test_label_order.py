"""The frequency file's class order is mmdet's label order.

mmdet's ``LVISV1Dataset`` / ``CocoDataset`` label categories in the order
the json lists them, not by sorted id. A json listed in reverse id order,
with non-contiguous ids, must give a frequency file whose count of label
``i`` is the count of the dataset's label ``i``; and the stage-2 check must
refuse a file whose order is not the dataset's.
"""
import json
from collections import Counter

import pytest
import torch

from mmlt.core import GRWKLLoss
from mmlt.stage2 import check_frequency_classes, dataset_label_order
from mmlt.core.frequency import ClassFrequency, from_lvis_json

# reverse id order, non-contiguous ids; instances per category id
CATEGORIES = [(40, 'yak'), (17, 'moth'), (9, 'heron'), (2, 'ant')]
INSTANCES = {40: 1, 17: 2, 9: 5, 2: 11}


def write_lvis_json(path):
    images, anns = [], []
    for cat_id, n in INSTANCES.items():
        for _ in range(n):
            image_id = len(images) + 1
            images.append(dict(id=image_id, width=32, height=32,
                               coco_url=f'http://x/train2017/{image_id}.jpg',
                               neg_category_ids=[],
                               not_exhaustive_category_ids=[]))
            anns.append(dict(id=len(anns) + 1, image_id=image_id,
                             category_id=cat_id, bbox=[1, 1, 8, 8], area=64,
                             segmentation=[[1, 1, 9, 1, 9, 9, 1, 9]]))
    cats = [dict(id=i, name=n, frequency='r', synset=n, synonyms=[n],
                 def_='', image_count=INSTANCES[i],
                 instance_count=INSTANCES[i]) for i, n in CATEGORIES]
    path.write_text(json.dumps(dict(images=images, annotations=anns,
                                    categories=cats)))
    return path


def build_lvis_dataset(ann_file):
    import mmlt.detection  # noqa: F401
    from mmdet.registry import DATASETS
    return DATASETS.build(
        dict(type='LVISV1Dataset', data_root='', ann_file=str(ann_file),
             data_prefix=dict(img=''), pipeline=[],
             metainfo=dict(classes=tuple(n for _, n in CATEGORIES))))


def test_counts_follow_mmdets_labels(tmp_path):
    ann_file = write_lvis_json(tmp_path / 'lvis.json')
    freq = from_lvis_json(ann_file, count='instances')
    dataset = build_lvis_dataset(ann_file)
    per_label = Counter(inst['bbox_label'] for i in range(len(dataset))
                        for inst in dataset.get_data_info(i)['instances'])
    assert list(freq.counts) == [per_label[i] for i in range(len(CATEGORIES))]
    assert freq.counts == (1, 2, 5, 11)  # yak, moth, heron, ant
    assert freq.category_ids == tuple(dataset.cat_ids) == (40, 17, 9, 2)
    assert dataset_label_order(dataset) == (
        tuple(n for _, n in CATEGORIES), [40, 17, 9, 2])


def test_stage2_check_refuses_another_label_order(tmp_path):
    ann_file = write_lvis_json(tmp_path / 'lvis.json')
    dataset = build_lvis_dataset(ann_file)
    classes, cat_ids = dataset_label_order(dataset)
    good = from_lvis_json(ann_file, count='instances')
    good.save(tmp_path / 'good.json')
    model = torch.nn.ModuleDict(dict(
        loss=GRWKLLoss(frequency_file=str(tmp_path / 'good.json'),
                       background=True)))
    check_frequency_classes(model, classes, 'the LVIS set', cat_ids)

    # the same categories sorted by id, with the same names as the config:
    # the old tool's output, whose weights a name check alone lets through
    order = sorted(range(len(CATEGORIES)), key=lambda i: good.category_ids[i])
    sorted_by_id = ClassFrequency.from_counts(
        classes, [good.counts[i] for i in order], 'instances')
    sorted_by_id.category_ids = tuple(good.category_ids[i] for i in order)
    sorted_by_id.save(tmp_path / 'sorted.json')
    model = torch.nn.ModuleDict(dict(
        loss=GRWKLLoss(frequency_file=str(tmp_path / 'sorted.json'),
                       background=True)))
    with pytest.raises(ValueError, match=r'not in the label order of the '
                       r'LVIS set: label 0: category id 2 \(file\) vs 40 '
                       r'\(dataset\)'):
        check_frequency_classes(model, classes, 'the LVIS set', cat_ids)

    # a file without ids cannot be checked for order: say so
    sorted_by_id.category_ids = None
    sorted_by_id.save(tmp_path / 'no_ids.json')
    model = torch.nn.ModuleDict(dict(
        loss=GRWKLLoss(frequency_file=str(tmp_path / 'no_ids.json'),
                       background=True)))
    with pytest.warns(UserWarning, match='has no category ids'):
        check_frequency_classes(model, classes, 'the LVIS set', cat_ids)


def test_stage2_check_compares_names_when_the_ids_agree(tmp_path):
    """The frequency file and the dataset read one json, so their ids
    agree; but the config names the classes in id order while the json
    lists them in reverse: the names do not name the labels."""
    ann_file = write_lvis_json(tmp_path / 'lvis.json')
    from_lvis_json(ann_file, count='instances').save(tmp_path / 'freq.json')
    model = torch.nn.ModuleDict(dict(
        loss=GRWKLLoss(frequency_file=str(tmp_path / 'freq.json'),
                       background=True)))
    cat_ids = [40, 17, 9, 2]  # the json's order, as mmdet labels them
    by_id = tuple(n for _, n in sorted(CATEGORIES))  # ant, heron, moth, yak
    with pytest.raises(ValueError, match=r"class 0: 'yak' \(file\) vs 'ant' "
                       r'\(dataset\).*another order than the config'):
        check_frequency_classes(model, by_id, 'the LVIS set', cat_ids)
    # one name spelled otherwise (as 'speaker_(stero_equipment)' in the
    # real LVIS v1 json): the same class, a warning that names it
    respelled = ('yak', 'moth', 'heron', 'ants')
    with pytest.warns(UserWarning, match=r"label 3: 'ant' \(file\) vs "
                      r"'ants' \(dataset\)"):
        check_frequency_classes(model, respelled, 'the LVIS set', cat_ids)


def test_frequency_tool_takes_a_respelled_class_of_the_json(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    repo = Path(__file__).resolve().parents[2]
    ann_file = write_lvis_json(tmp_path / 'lvis.json')
    names = tmp_path / 'classes.txt'
    names.write_text('yak\nmoth\nheron\nants\n')
    out = subprocess.run(
        [sys.executable, 'tools/analysis/class_frequency.py', 'lvis',
         str(ann_file), '--classes', str(names), '-o',
         str(tmp_path / 'freq.json')], cwd=repo, capture_output=True,
        text=True)
    assert out.returncode == 0, out.stderr
    assert "[3] 'ant' (file) vs 'ants'" in out.stderr
    names.write_text('moth\nyak\nheron\nant\n')  # out of place: an error
    out = subprocess.run(
        [sys.executable, 'tools/analysis/class_frequency.py', 'lvis',
         str(ann_file), '--classes', str(names), '-o',
         str(tmp_path / 'freq2.json')], cwd=repo, capture_output=True,
        text=True)
    assert out.returncode != 0 and 'class names differ' in out.stderr
