"""Inputs that used to run to the end with exit 0 and a wrong number: each
is now a clear error, or a warning where a user may mean it."""
import pytest
import torch

from mmlt.core import GRWKLLoss, grw_weights

LT_DIGITS = [440, 300, 200, 100, 50, 30, 20, 10, 5, 4]


@pytest.mark.parametrize('rho, smallest', [(20, '1.47e-40'),
                                           (50, '8.52e-102'),
                                           (200, '5.27e-408')])
def test_rho_that_underflows_float32_is_refused(rho, smallest):
    match = (rf'rho={rho}.0 is too large .* range from {smallest} to '
             r'(9.89e\+0|1e\+1)')
    with pytest.raises(ValueError, match=match):
        grw_weights(LT_DIGITS, rho)
    with pytest.raises(ValueError, match=match):  # when the loss is built
        GRWKLLoss(class_counts=LT_DIGITS, rho=rho)
    # the paper's range is fine, and so is a large but representable rho
    for ok in (0.2, 1.5, 10):
        assert (grw_weights(LT_DIGITS, ok) > 0).all()


# ------------------------------- frequency counts against the training set
def _loss_from(freq, path):
    freq.save(path)
    return torch.nn.ModuleDict(dict(loss=GRWKLLoss(frequency_file=str(path))))


def test_classification_counts_must_be_the_training_sets(tmp_path):
    import mmlt.classification  # noqa: F401
    from mmpretrain.registry import DATASETS
    from tiny_runs import tiny_cls_data

    from mmlt.stage2 import check_frequency_counts
    from mmlt.core.frequency import ClassFrequency
    data = tiny_cls_data(tmp_path / 'lt_digits')
    dataset = DATASETS.build(dict(
        type='LongTailListDataset', data_root=str(data),
        ann_file='lt_digits_train.txt', classes=str(data / 'classes.txt'),
        pipeline=[]))
    good = ClassFrequency.load(data / 'image_frequency.json')
    check_frequency_counts(_loss_from(good, tmp_path / 'good.json'),
                           dataset, 'the training set')
    # the same classes counted on another split: quietly other weights
    other = ClassFrequency.from_counts(good.classes,
                                       [30] * good.num_classes, 'images')
    with pytest.raises(ValueError, match=r"images counts of .*other.json "
                       r"disagree with the training set for 10 classes, "
                       r"e.g. 'digit_0': 30 \(file\) vs 16 \(dataset\)"):
        check_frequency_counts(_loss_from(other, tmp_path / 'other.json'),
                               dataset, 'the training set')


def test_detection_counts_differing_from_the_training_set_warn(tmp_path):
    from test_label_order import build_lvis_dataset, write_lvis_json

    from mmlt.stage2 import check_frequency_counts
    from mmlt.core.frequency import from_lvis_json
    ann_file = write_lvis_json(tmp_path / 'lvis.json')
    dataset = build_lvis_dataset(ann_file)
    freq = from_lvis_json(ann_file, count='instances')
    freq.save(tmp_path / 'f.json')
    loss = torch.nn.ModuleDict(dict(loss=GRWKLLoss(
        frequency_file=str(tmp_path / 'f.json'), background=True)))
    check_frequency_counts(loss, dataset)
    freq.counts = (1, 2, 5, 99)
    freq.save(tmp_path / 'f.json')
    loss = torch.nn.ModuleDict(dict(loss=GRWKLLoss(
        frequency_file=str(tmp_path / 'f.json'), background=True)))
    with pytest.warns(UserWarning, match=r"'ant': 99 \(file\) vs 11 "
                      r"\(dataset\).*filter_cfg"):
        check_frequency_counts(loss, dataset)


# ------------------------------------------ stage-1 / stage-2 checkpoints
def test_stage1_config_on_a_stage2_checkpoint_is_an_error():
    from mmlt.engine import check_checkpoint_matches_model
    from torch import nn

    from mmlt.core import DisAlignLinear
    stage2 = nn.Sequential(nn.Linear(4, 8), DisAlignLinear(8, 3))
    stage1 = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3))
    with pytest.raises(ValueError, match=r'ckpt.pth is a DisAlign stage-2 '
                       r'checkpoint: it holds a calibration \(1.calibration'
                       r'.magnitude.*Evaluate it with the stage-2 config'):
        check_checkpoint_matches_model(stage1, stage2.state_dict(),
                                       'ckpt.pth')
    # the other way round is fine: the calibration starts at the identity
    check_checkpoint_matches_model(stage2, stage1.state_dict(), 'ckpt.pth')


def test_crt_checkpoint_and_stage1_config_do_not_mix():
    """cRT's classifier replaces the stage-1 one: a cRT checkpoint under
    the stage-1 config would give stage 1's numbers, the stage-1 checkpoint
    under the cRT config a random classifier's."""
    from torch import nn

    from mmlt.core.classifier_retraining import RetrainedLinear
    from mmlt.engine import check_checkpoint_matches_model
    crt = nn.Sequential(nn.Linear(4, 8), RetrainedLinear(8, 3))
    stage1 = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3))
    with pytest.raises(ValueError, match=r'is a cRT stage-2 checkpoint: it '
                       r'holds a re-trained classifier \(1.retrained'):
        check_checkpoint_matches_model(stage1, crt.state_dict(), 'ckpt.pth')
    with pytest.raises(ValueError, match='lacks the re-trained classifier'):
        check_checkpoint_matches_model(crt, stage1.state_dict(), 'ckpt.pth')


def test_stage2_from_a_stage2_checkpoint_warns(tmp_path):
    import logging

    from mmengine.runner import Runner
    from test_stage2 import runner_cfg

    from mmlt.stage2 import DisAlignRunner
    stage1 = Runner(**runner_cfg(tmp_path / 's1', False))
    stage1.train()
    first = DisAlignRunner(**runner_cfg(
        tmp_path / 's2', True, load_from=str(tmp_path / 's1' / 'epoch_2.pth'),
        log_level='INFO'))
    first.train()
    messages = []
    for load_from, name in ((tmp_path / 's2' / 'epoch_2.pth', 's2b'),
                            (tmp_path / 's1' / 'epoch_2.pth', 's2c')):
        runner = DisAlignRunner(**runner_cfg(
            tmp_path / name, True, load_from=str(load_from),
            log_level='INFO'))
        handler = logging.Handler()
        handler.emit = lambda record: messages.append(
            (name, record.getMessage()))
        runner.logger.addHandler(handler)
        runner.load_or_resume()
    warned = [n for n, m in messages if 'already holds a calibration' in m]
    assert warned == ['s2b']  # from stage 2: warned; from stage 1: not


# -------------------------------------------- work dirs and --resume
def test_work_dir_of_another_run_and_resume_with_changed_settings(tmp_path):
    import subprocess
    import sys

    from tiny_runs import REPO, dump, tiny_cls_data, tiny_config, train
    data = tiny_cls_data(tmp_path / 'lt_digits', train_per_class=4)
    config = dump(tiny_config('cls_stage1', data, 1), tmp_path / 'cfg.py')
    work = tmp_path / 'work'
    train(config, work)
    assert (work / 'epoch_1.pth').is_file()

    again = subprocess.run(
        [sys.executable, 'tools/train.py', str(config), '--work-dir',
         str(work)], cwd=REPO, capture_output=True, text=True)
    assert again.returncode != 0
    assert 'already holds the checkpoints of a run (epoch_1.pth, ' \
        'last_checkpoint); a new run there would overwrite' in again.stderr

    # --resume with another learning rate: the checkpoint's state wins, and
    # the log says so
    out = train(config, work, '--resume', '--cfg-options',
                'optim_wrapper.optimizer.lr=0.05', 'train_cfg.max_epochs=2')
    assert "optim_wrapper.optimizer.lr: 0.1 -> 0.05" in out.stdout + \
        out.stderr
    assert 'checkpoint\'s optimizer and scheduler state win' in \
        out.stdout + out.stderr

    # --overwrite: the earlier run's checkpoints go, the new run's come
    train(config, work, '--overwrite')
    assert sorted(p.name for p in work.glob('*.pth')) == ['epoch_1.pth']
