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
    metric.setdefault('classwise', True)
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
             class_counts=COUNTS, pred_key='cls_score', prefix='lt_cls',
             classwise=True),
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


def probability_samples(rows):
    """(true class, probabilities) -> data samples."""
    return [{'pred_score': torch.tensor(p), 'gt_label': torch.tensor([gt])}
            for gt, p in rows]


def evaluate_rows(rows, classes=('a', 'b'), **metric):
    evaluator = Evaluator(
        dict(type='LongTailAccuracy', _scope_='mmpretrain',
             class_groups=dict(many=(0, 1), few=(1, 2)), **metric))
    evaluator.dataset_meta = dict(classes=classes)
    evaluator.process(probability_samples(rows))
    return evaluator.evaluate(len(rows))


def test_expected_calibration_error_by_hand(tmp_path):
    # four samples, each alone in one of 15 bins: |accuracy - confidence|
    # = |1 - .9|, |0 - .8|, |1 - .7|, |0 - .6|
    rows = [(0, [0.9, 0.1]), (1, [0.8, 0.2]), (1, [0.3, 0.7]),
            (0, [0.4, 0.6])]
    m = evaluate_rows(rows, ece_bins=15, per_class_dir=str(tmp_path))
    assert m['lt/ece'] == pytest.approx(100 * (0.1 + 0.8 + 0.3 + 0.6) / 4)
    assert m['lt/ece_many'] == pytest.approx(100 * (0.1 + 0.6) / 2)  # class 0
    assert m['lt/ece_few'] == pytest.approx(100 * (0.8 + 0.3) / 2)
    bins = json.loads((tmp_path / 'reliability_lt.json').read_text())
    assert sum(bins['count']) == 4
    assert bins['ece'] == pytest.approx(m['lt/ece'])


def test_label_shifted_test_sets_by_hand():
    # class 0 always right, class 1 always wrong, 10 samples each; at
    # imbalance 5 forward keeps 10 of class 0 and 10 / 5 = 2 of class 1
    rows = [(0, [0.9, 0.1])] * 10 + [(1, [0.9, 0.1])] * 10
    m = evaluate_rows(rows, label_shift=dict(imbalance=(5, )))
    assert m['lt/forward5_top1'] == pytest.approx(100 * 10 / 12)
    assert m['lt/backward5_top1'] == pytest.approx(100 * 2 / 12)
    assert m['lt/top1'] == 50
    assert 'lt/forward5_top1_prior' not in m
    # the test prior moves the posterior: backward (2 of class 0, 10 of
    # class 1), .6 * 2/12 < .4 * 10/12, so every sample is called class 1
    rows = [(0, [0.6, 0.4])] * 10 + [(1, [0.6, 0.4])] * 10
    m = evaluate_rows(rows, label_shift=dict(imbalance=(5, ), adjust=True))
    assert m['lt/backward5_top1'] == pytest.approx(100 * 2 / 12)
    assert m['lt/backward5_top1_prior'] == pytest.approx(100 * 10 / 12)
    assert m['lt/forward5_top1_prior'] == pytest.approx(100 * 10 / 12)
    with pytest.raises(ValueError, match='label_shift takes imbalance'):
        evaluate_rows(rows, label_shift=dict(ratio=5))


def test_per_class_file(tmp_path):
    from mmlt.core.per_class import read_per_class
    rows = [(0, [0.9, 0.1])] * 3 + [(1, [0.9, 0.1]), (1, [0.2, 0.8])]
    evaluate_rows(rows, per_class_results=True, per_class_dir=str(tmp_path))
    found = read_per_class(tmp_path / 'per_class_lt.json')
    assert found['task'] == 'classification'
    assert [(r['name'], r['group'], r['top1'], r['test_samples'])
            for r in found['classes']] == [('a', 'many', 100.0, 3),
                                           ('b', 'few', 50.0, 2)]
    assert (tmp_path / 'per_class_lt.csv').read_text().splitlines()[0] == \
        'id,name,train_count,group,top1,test_samples'
