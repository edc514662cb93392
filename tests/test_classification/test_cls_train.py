"""End to end on a few LT-Digits images: the demo's stage-1 and stage-2
configs trained for real with the mmengine runners, tested, evaluated by
tools/test.py and plotted.

LT-Digits is generated into a temporary folder and cut to at most 24 train
and 4 val / test images per class (train counts 24 x 6, 20, 12, 7, 4), so
the two trainings take seconds; many / few are > 20 / < 10 images here.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.runner import Runner

from mmlt.stage2 import DisAlignRunner
from tiny_runs import two_epoch_config

REPO = Path(__file__).resolve().parents[2]
CALIBRATION = ('head.fc.calibration.magnitude', 'head.fc.calibration.margin',
               'head.fc.calibration.confidence.weight',
               'head.fc.calibration.confidence.bias')
# the tiny data and stage 1 (cls_data_24, cls_stage1_ckpt): conftest's
pytestmark = pytest.mark.usefixtures('safe_checkpoint_loader')
demo_cfg = two_epoch_config


@pytest.fixture(scope='module')
def stage2(cls_data_24, cls_stage1_ckpt, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('cls_stage2')
    cfg = demo_cfg('cls_stage2', cls_data_24, work_dir,
                   load_from=str(cls_stage1_ckpt))
    assert cfg.runner_type == 'DisAlignRunner'
    runner = DisAlignRunner.from_cfg(cfg)
    runner.train()
    return runner, work_dir / 'epoch_2.pth'


def test_stage2_learns_only_the_calibration(cls_stage1_ckpt, stage2):
    runner, checkpoint = stage2
    before = torch.load(cls_stage1_ckpt, weights_only=False)['state_dict']
    after = torch.load(checkpoint, weights_only=False)['state_dict']
    assert sorted(set(after) - set(before)) == sorted(CALIBRATION)
    for key, value in before.items():
        # backbone, fc and the BN running statistics unchanged
        assert torch.equal(after[key], value), key
    assert not torch.equal(after['head.fc.calibration.magnitude'],
                           torch.ones(10))
    assert not torch.equal(after['head.fc.calibration.margin'],
                           torch.zeros(10))
    trainable = [n for n, p in runner.model.named_parameters()
                 if p.requires_grad]
    assert sorted(trainable) == sorted(CALIBRATION)
    # no warning per frozen weight from mmengine's optimizer constructor
    # (the log holds warnings: log_level is WARNING)
    [log] = Path(runner.work_dir).glob('*/*.log')
    assert 'requires_grad=False' not in log.read_text()


def test_calibrated_model_starts_from_stage1_logits(cls_data_24,
                                                   cls_stage1_ckpt, tmp_path):
    """Before any stage-2 step the calibrated model of the paper's recipe
    (the identity start) predicts exactly what the stage-1 model predicts;
    mmlt's recipe starts at the logit adjustment
    (tests/test_stage2/test_disalign_recipe.py)."""
    runners = []
    for name in ('cls_stage1', 'cls_stage2_paper'):
        cfg = demo_cfg(name, cls_data_24, tmp_path / name,
                       load_from=str(cls_stage1_ckpt))
        runner = (DisAlignRunner if cfg.get('runner_type') else
                  Runner).from_cfg(cfg)
        runner.load_or_resume()
        runner.model.eval()
        runners.append(runner)
    batch = next(iter(runners[0].test_dataloader))
    logits = []
    for runner in runners:
        with torch.no_grad():
            data_ = runner.model.data_preprocessor(batch, False)
            logits.append(runner.model(data_['inputs'], mode='tensor'))
    assert torch.equal(logits[0], logits[1])


def test_runner_test_reports_long_tail_metrics(stage2):
    runner, _ = stage2
    metrics = runner.test()
    for key in ('lt/top1', 'lt/many', 'lt/medium', 'lt/few'):
        assert 0 <= metrics[key] <= 100, key
    classwise = metrics['lt/top1_classwise']
    assert metrics['lt/few'] == pytest.approx((classwise[8] + classwise[9]) /
                                              2)
    assert len(metrics['lt/top1_classwise']) == 10
    # 4 test images per class: overall = mean of the classes
    assert metrics['lt/top1'] == pytest.approx(
        sum(metrics['lt/top1_classwise']) / 10)


def test_test_script_and_plots(cls_data_24, cls_stage1_ckpt, stage2, tmp_path):
    runner, checkpoint = stage2
    freq = cls_data_24 / 'image_frequency.json'
    overrides = [f'test_dataloader.dataset.data_root={cls_data_24}',
                 f'test_dataloader.dataset.classes={cls_data_24}/classes.txt',
                 f'test_evaluator.frequency_file={freq}',
                 f'model.head.loss.frequency_file={freq}']
    out = tmp_path / 'stage2.json'
    subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'test.py'),
         str(REPO / 'configs' / 'demo' / 'cls_stage2.py'), str(checkpoint),
         '--work-dir', str(tmp_path / 'test'), '--out', str(out),
         '--out-item', 'metrics', '--cfg-options', *overrides],
        check=True, capture_output=True, cwd=tmp_path)
    metrics = json.loads(out.read_text())
    assert {'lt/top1', 'lt/many', 'lt/medium', 'lt/few'} <= set(metrics)

    sys.path.insert(0, str(REPO / 'tools' / 'analysis'))
    try:
        import plot_class_accuracy as plot
    finally:
        sys.path.pop(0)
    png = tmp_path / 'accuracy.png'
    plot.main(['accuracy', str(out), str(out), '--labels', 'a', 'b',
               '--frequency', str(freq), '-o', str(png)])
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    png = tmp_path / 'calibration.png'
    plot.main(['calibration', str(checkpoint), '--frequency',
               str(cls_data_24 / 'lt_digits_train.txt'), '--classes',
               str(cls_data_24 / 'classes.txt'), '-o', str(png)])
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    # with the config: the mean confidence of each class's test images
    config = tmp_path / 'stage2.py'
    runner.cfg.dump(str(config))
    sigma = plot.mean_confidence(str(config), str(checkpoint), 10)
    assert sigma.shape == (10, ) and ((sigma > 0) & (sigma <= 1)).all()
    plot.main(['calibration', str(checkpoint), '--config', str(config),
               '--frequency', str(cls_data_24 / 'lt_digits_train.txt'),
               '--classes', str(cls_data_24 / 'classes.txt'), '-o', str(png)])
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    with pytest.raises(KeyError, match='calibration'):
        plot.calibration_params(str(cls_stage1_ckpt))
