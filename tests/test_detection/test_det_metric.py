"""LongTailLVISMetric: mmdet's LVISMetric plus the per-category file, on a
one-image LVIS v1 json whose per-category AP is known by hand."""
import json

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import mmlt.detection  # noqa: F401
from mmlt.core.per_class import read_per_class
from mmlt.engine.compat import fix_numpy_aliases_for_lvis


@pytest.fixture(scope='module', autouse=True)
def numpy_alias_for_lvis():
    """lvis 0.5.3 needs np.float (what the tools' setup_runtime adds)."""
    added = fix_numpy_aliases_for_lvis()
    yield
    if added:
        del np.float


def lvis_json(path):
    """One 100 x 100 image with a box of 'cat_a' (train images 50,
    frequent) and one of 'cat_b' (3, rare); 'cat_c' (20, common) is in
    no val image."""
    categories = [
        {'id': i + 1, 'name': name, 'frequency': letter,
         'image_count': count, 'instance_count': count, 'synset': name,
         'synonyms': [name], 'def': name}
        for i, (name, letter, count) in enumerate(
            [('cat_a', 'f', 50), ('cat_b', 'r', 3), ('cat_c', 'c', 20)])]
    images = [dict(id=1, width=100, height=100,
                   coco_url='http://images.cocodataset.org/val2017/1.jpg',
                   neg_category_ids=[], not_exhaustive_category_ids=[])]
    annotations = [
        dict(id=1, image_id=1, category_id=1, bbox=[10, 10, 30, 30],
             area=900, segmentation=[[10, 10, 40, 10, 40, 40, 10, 40]]),
        dict(id=2, image_id=1, category_id=2, bbox=[50, 50, 30, 30],
             area=900, segmentation=[[50, 50, 80, 50, 80, 80, 50, 80]])]
    path.write_text(json.dumps(dict(images=images, annotations=annotations,
                                    categories=categories)))
    return path


def test_per_category_ap_by_hand(tmp_path):
    from mmdet.registry import METRICS
    init_default_scope('mmdet')
    metric = METRICS.build(dict(
        type='LongTailLVISMetric', ann_file=str(lvis_json(tmp_path / 'v.json')),
        metric=['bbox'], per_class_results=True,
        per_class_dir=str(tmp_path)))
    metric.dataset_meta = dict(classes=('cat_a', 'cat_b', 'cat_c'))
    # cat_a found exactly (precision 1 at every recall and IoU: AP 100);
    # cat_b's one detection misses its box (IoU 0: AP 0)
    pred = dict(bboxes=torch.tensor([[10., 10., 40., 40.], [0., 0., 5., 5.]]),
                scores=torch.tensor([0.9, 0.8]),
                labels=torch.tensor([0, 1]))
    metric.process({}, [dict(img_id=1, ori_shape=(100, 100),
                             pred_instances=pred)])
    metrics = metric.evaluate(1)
    assert metrics['lvis/bbox_AP'] == pytest.approx(0.5)
    assert not any(k.endswith('_precision') for k in metrics)
    found = read_per_class(tmp_path / 'per_class_det.json')
    assert found['metrics'] == ['bbox_AP']
    assert [(r['name'], r['train_count'], r['group'], r['bbox_AP'])
            for r in found['classes']] == [('cat_a', 50, 'frequent', 100.0),
                                           ('cat_b', 3, 'rare', 0.0),
                                           ('cat_c', 20, 'common', None)]
