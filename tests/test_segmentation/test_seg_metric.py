"""LongTailIoUMetric: the group numbers against a hand computation."""
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import mmlt.segmentation  # noqa: F401
from mmlt.core.frequency import ClassFrequency
from mmlt.segmentation import LongTailIoUMetric

CLASSES = ('a', 'b', 'c', 'd')


def sample(pred, gt):
    s = SegDataSample()
    s.pred_sem_seg = PixelData(data=torch.tensor([pred]))
    s.gt_sem_seg = PixelData(data=torch.tensor([gt]))
    return s.to_dict()


def evaluate(metric):
    metric.dataset_meta = dict(classes=CLASSES)
    # gt:   a a b c   pred: a b b a   (class d absent: NaN, skipped)
    metric.process([], [sample([[0, 1, 1, 0]], [[0, 0, 1, 2]])])
    # gt:   a c 255 c pred: a c c a
    metric.process([], [sample([[0, 2, 2, 0]], [[0, 2, 255, 2]])])
    return metric.evaluate(2)


def test_groups_by_index_ranges_by_hand():
    metrics = evaluate(
        LongTailIoUMetric(class_groups=dict(head=(0, 2), tail=(2, 4))))
    # a: TP 2, gt 3, pred 4 -> IoU 2 / 5, Acc 2 / 3
    # b: TP 1, gt 1, pred 2 -> IoU 1 / 2, Acc 1
    # c: TP 1, gt 3, pred 1 -> IoU 1 / 3, Acc 1 / 3;  d: NaN
    assert metrics['mIoU_head'] == pytest.approx(
        round((2 / 5 + 1 / 2) / 2 * 100, 2))
    assert metrics['mAcc_head'] == pytest.approx(
        round((2 / 3 + 1) / 2 * 100, 2))
    assert metrics['mIoU_tail'] == pytest.approx(round(100 / 3, 2))
    assert metrics['mAcc_tail'] == pytest.approx(round(100 / 3, 2))
    assert metrics['mIoU'] == pytest.approx(
        round((2 / 5 + 1 / 2 + 1 / 3) / 3 * 100, 2))


def test_groups_from_a_frequency_file(tmp_path):
    path = tmp_path / 'freq.json'
    ClassFrequency.from_counts(
        CLASSES, [100, 50, 10, 1], 'pixels',
        split=dict(method='index_ranges', names=['head', 'tail'],
                   thresholds=dict(ranges=dict(head=[0, 1], tail=[1, 4])),
                   groups=dict(head=[0], tail=[1, 2, 3]))).save(path)
    metrics = evaluate(LongTailIoUMetric(frequency_file=str(path)))
    assert metrics['mIoU_head'] == pytest.approx(40.0)
    assert metrics['mIoU_tail'] == pytest.approx(
        round((1 / 2 + 1 / 3) / 2 * 100, 2))


def test_group_with_only_absent_classes_is_null_and_warned():
    """None (JSON null, as the classification metric writes), not NaN,
    which JSON cannot hold; the log says which group."""
    import logging

    from mmengine.logging import MMLogger
    warned = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warned.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        metrics = evaluate(
            LongTailIoUMetric(class_groups=dict(head=(0, 3), rare=(3, 4))))
    finally:
        logger.removeHandler(handler)
    assert metrics['mIoU_rare'] is None and metrics['mAcc_rare'] is None
    assert isinstance(metrics['mIoU_head'], float)
    # valid JSON as tools/test.py --out-item metrics writes it
    json.dumps({k: float(v) if v is not None else v
                for k, v in metrics.items()}, allow_nan=False)
    assert any('the group(s) rare occurs' in m for m in warned)


def test_groups_must_cover_every_class():
    with pytest.raises(ValueError, match='cover each of the dataset'):
        evaluate(LongTailIoUMetric(class_groups=dict(head=(0, 2))))
    with pytest.raises(ValueError, match='or both'):
        LongTailIoUMetric()


def test_named_ade20k_groups():
    """``class_groups='ade20k'`` is DisAlign's split of ADE20K's 150
    classes, the one the configs/ade20k evaluators name."""
    metric = LongTailIoUMetric(class_groups='ade20k')
    assert {k: (min(v), max(v) + 1) for k, v in metric.groups.items()} == \
        dict(head=(0, 20), body=(20, 75), tail=(75, 150))
    with pytest.raises(ValueError, match="'lvis' is not a known split"):
        LongTailIoUMetric(class_groups='lvis')
    repo = Path(__file__).resolve().parents[2]
    paths = sorted((repo / 'configs' / 'ade20k').glob('*.py'))
    assert len(paths) == 9  # 4 stage-1 configs, their 5 stage-2 ones
    for path in paths:
        cfg = Config.fromfile(str(path))
        assert cfg.val_evaluator.class_groups == 'ade20k', path.name
        assert cfg.test_evaluator.class_groups == 'ade20k', path.name


def test_frequency_file_of_other_classes(tmp_path):
    path = tmp_path / 'freq.json'
    ClassFrequency.from_counts(['a', 'b', 'x', 'd'], [4, 3, 2, 1],
                               'pixels').save(path)
    with pytest.raises(ValueError, match="'x' \\(file\\) vs 'c'"):
        evaluate(LongTailIoUMetric(frequency_file=str(path)))
