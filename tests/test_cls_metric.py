"""LongTailAccuracy against hand computations, through mmengine's
Evaluator (prefixes, dataset_meta) as the runner calls it."""
import json
import logging

import pytest
import torch
from mmengine.evaluator import Evaluator

import mmlt.classification  # noqa: F401
from mmlt.core.frequency import ClassFrequency, split_by_index_ranges

CLASSES = tuple(f'c{i}' for i in range(6))
# many: > 100 -> {0, 1}; medium: 20..100 -> {2, 3}; few: < 20 -> {4, 5}
COUNTS = [150, 101, 100, 20, 19, 3]
# (true class, predicted class) per test sample
SAMPLES = ([(0, 0)] * 3 + [(0, 1)] +        # class 0: 3 / 4 = 75 %
           [(1, 1)] * 2 +                   # class 1: 2 / 2 = 100 %
           [(2, 2)] + [(2, 0)] * 2 +        # class 2: 1 / 3
           [(3, 3)] * 2 + [(3, 2)] * 2 +    # class 3: 2 / 4 = 50 %
           [(4, 0)] +                       # class 4: 0 / 1
           [(5, 5)])                        # class 5: 1 / 1


def samples(pairs, key='pred_score', num_classes=6, second=None):
    out = []
    for gt, pred in pairs:
        score = torch.full((num_classes, ), 0.01)
        score[pred] = 0.9
        if second is not None:  # the runner-up, for top-k
            score[second(gt, pred)] = 0.5
        out.append({key: score, 'gt_label': torch.tensor([gt])})
    return out


def evaluate(pairs=SAMPLES, classes=CLASSES, sample_kw=None, **metric):
    evaluator = Evaluator(
        dict(type='LongTailAccuracy', _scope_='mmpretrain', **metric))
    evaluator.dataset_meta = dict(classes=classes)
    evaluator.process(samples(pairs, **(sample_kw or {})))
    return evaluator.evaluate(len(pairs))


def test_thresholds_on_counts_match_hand_computation():
    m = evaluate(class_counts=COUNTS)
    assert m['lt/top1'] == pytest.approx(100 * 9 / 15)
    # groups: mean of the per-class accuracies (not pooled samples)
    assert m['lt/many'] == pytest.approx((75 + 100) / 2)
    assert m['lt/medium'] == pytest.approx((100 / 3 + 50) / 2)
    assert m['lt/few'] == pytest.approx((0 + 100) / 2)
    assert m['lt/top1_classwise'] == pytest.approx(
        [75, 100, 100 / 3, 50, 0, 100])
    assert list(m) == ['lt/top1', 'lt/many', 'lt/medium', 'lt/few',
                       'lt/top1_classwise']


def test_custom_thresholds_and_index_ranges():
    m = evaluate(class_counts=COUNTS, many_threshold=100, few_threshold=4)
    assert m['lt/few'] == pytest.approx(100)  # only class 5 (3 images)
    assert m['lt/medium'] == pytest.approx((100 / 3 + 50 + 0) / 3)
    m = evaluate(class_groups=dict(head=(0, 1), body=(1, 4), tail=(4, 6)))
    assert m['lt/head'] == pytest.approx(75)
    assert m['lt/body'] == pytest.approx((100 + 100 / 3 + 50) / 3)
    assert m['lt/tail'] == pytest.approx(50)


def test_frequency_file_thresholds_or_its_own_split(tmp_path):
    path = tmp_path / 'freq.json'
    split = split_by_index_ranges(6, dict(a=(0, 3), b=(3, 6)))
    ClassFrequency.from_counts(CLASSES, COUNTS, 'images', split=split).save(
        path)
    by_counts = evaluate(frequency_file=str(path))
    assert by_counts['lt/many'] == pytest.approx(87.5)
    own = evaluate(frequency_file=str(path), use_file_split=True)
    assert own['lt/a'] == pytest.approx((75 + 100 + 100 / 3) / 3)
    assert own['lt/b'] == pytest.approx((50 + 0 + 100) / 3)
    # the file's classes must be the evaluated dataset's
    with pytest.raises(ValueError, match='class names differ'):
        evaluate(frequency_file=str(path),
                 classes=('x', ) + CLASSES[1:])


def test_absent_class_and_topk():
    pairs = [(0, 1), (0, 0), (1, 1), (2, 0)]  # no sample of class 3
    m = evaluate(pairs, classes=CLASSES[:4], class_counts=[200, 150, 50, 5],
                 topk=(1, 2),
                 sample_kw=dict(num_classes=4,
                                second=lambda gt, pred: gt if gt != pred
                                else (pred + 1) % 4))
    assert m['lt/top1_classwise'] == [50.0, 100.0, 0.0, None]
    # the few group has no sample: None, never NaN (the --out JSON)
    assert m['lt/few'] is None
    json.dumps(m, allow_nan=False)
    assert m['lt/top1'] == pytest.approx(50)
    assert m['lt/top2'] == pytest.approx(100)


def test_group_with_an_absent_class_says_which_classes_it_averages():
    from mmengine.logging import MMLogger
    pairs = [(0, 0), (1, 1), (2, 2), (2, 0)]  # no sample of class 3
    logger = MMLogger.get_instance('absent_class', log_level='INFO')
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        m = evaluate(pairs, classes=CLASSES[:4],
                     class_counts=[200, 150, 10, 5])
    finally:
        logger.removeHandler(handler)
    assert m['lt/few'] == pytest.approx(50)  # class 2 only, not NaN
    messages = [r.getMessage() for r in records]
    assert any("no sample of classes [3] of group 'few'; its accuracy "
               'averages classes [2] only' in t for t in messages), messages


def test_one_metric_per_head_with_prefixes():
    """DeiT-LT evaluates its CLS / DIST heads from other data-sample
    fields, each with its own prefix."""
    evaluator = Evaluator([
        dict(type='LongTailAccuracy', _scope_='mmpretrain',
             class_counts=COUNTS, pred_key='cls_score', prefix='lt_cls'),
        dict(type='LongTailAccuracy', _scope_='mmpretrain',
             class_counts=COUNTS, pred_key='dist_score', prefix='lt_dist',
             classwise=False),
    ])
    evaluator.dataset_meta = dict(classes=CLASSES)
    batch = samples(SAMPLES, key='cls_score')
    for sample, other in zip(batch, samples([(g, g) for g, _ in SAMPLES],
                                            key='dist_score')):
        sample.update(other)
    evaluator.process(batch)
    m = evaluator.evaluate(len(batch))
    assert m['lt_cls/top1'] == pytest.approx(100 * 9 / 15)
    assert m['lt_dist/top1'] == 100 and m['lt_dist/few'] == 100
    assert 'lt_dist/top1_classwise' not in m


def test_configuration_errors():
    from mmpretrain.registry import METRICS
    with pytest.raises(ValueError, match='training class counts'):
        METRICS.build(dict(type='LongTailAccuracy'))
    with pytest.raises(ValueError, match='use_file_split'):
        METRICS.build(dict(type='LongTailAccuracy', class_counts=COUNTS,
                           use_file_split=True))
    with pytest.raises(ValueError, match='7 classes'):
        evaluate(classes=CLASSES + ('extra', ), class_counts=COUNTS)
    with pytest.raises(KeyError, match='cls_score'):
        evaluate(class_counts=COUNTS, pred_key='cls_score')
