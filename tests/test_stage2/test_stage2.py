"""DisAlign stage-2 mechanics on a tiny model trained for real with the
mmengine Runner: freezing, BN in eval mode, no weight decay on the
magnitude, checkpoint checks."""
import copy
import logging

import pytest
import torch
from mmengine.dataset import BaseDataset
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, MODELS
from mmengine.runner import Runner
from torch import nn

from mmlt.core import DisAlignLinear, GRWKLLoss
from mmlt.stage2 import DisAlignRunner, check_stage1_state_dict

NUM_CLASSES = 3


@DATASETS.register_module(force=True)
class TinyBlobs(BaseDataset):
    METAINFO = dict(classes=('a', 'b', 'c'))

    def __init__(self, **kwargs):
        super().__init__(serialize_data=False, **kwargs)

    def load_data_list(self):
        gen = torch.Generator().manual_seed(0)
        labels = [0] * 12 + [1] * 4 + [2] * 2
        return [
            dict(inputs=torch.randn(4, generator=gen) + 2 * label, label=label)
            for label in labels
        ]


@MODELS.register_module(force=True)
class TinyClassifier(BaseModel):

    def __init__(self, calibrated=False, loss=None, sync_bn=False):
        super().__init__()
        norm = nn.SyncBatchNorm if sync_bn else nn.BatchNorm1d
        self.backbone = nn.Sequential(nn.Linear(4, 8), norm(8), nn.ReLU())
        head = DisAlignLinear if calibrated else nn.Linear
        self.fc = head(8, NUM_CLASSES)
        self.loss_module = GRWKLLoss(**loss) if loss else nn.CrossEntropyLoss()

    def forward(self, inputs, label, mode='tensor', **kwargs):
        logits = self.fc(self.backbone(inputs))
        if mode == 'loss':
            return dict(loss=self.loss_module(logits, torch.as_tensor(label)))
        return logits


def runner_cfg(work_dir, calibrated, **extra):
    cfg = dict(
        model=dict(type='TinyClassifier', calibrated=calibrated),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=dict(type='TinyBlobs'),
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            batch_size=6,
            num_workers=0),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.5, momentum=0.9,
                           weight_decay=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        log_level='WARNING',
        randomness=dict(seed=0),
        default_scope=None)
    cfg.update(extra)
    return cfg


@pytest.fixture(scope='module')
def stage1_checkpoint(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('stage1')
    runner = Runner(**runner_cfg(work_dir, calibrated=False))
    runner.train()
    return str(work_dir / 'epoch_2.pth')


def stage2_runner(tmp_path, checkpoint, **extra):
    return DisAlignRunner(**runner_cfg(
        tmp_path, calibrated=True, load_from=checkpoint, **extra))


def test_stage2_trains_only_calibration_and_keeps_bn_statistics(
        tmp_path, stage1_checkpoint):
    stage1 = torch.load(stage1_checkpoint, weights_only=False)['state_dict']
    runner = stage2_runner(tmp_path, stage1_checkpoint)
    runner.train()
    after = runner.model.state_dict()
    for key, value in stage1.items():
        # weights, biases and the BN running statistics all unchanged
        assert torch.equal(after[key], value), key
    cal = runner.model.fc.calibration
    assert not torch.equal(cal.magnitude, torch.ones(NUM_CLASSES))
    assert not torch.equal(cal.margin, torch.zeros(NUM_CLASSES))
    assert not torch.equal(cal.confidence.bias, torch.zeros(1))
    assert [n for n, p in runner.model.named_parameters() if p.requires_grad
            ] == ['fc.calibration.magnitude', 'fc.calibration.margin',
                  'fc.calibration.confidence.weight',
                  'fc.calibration.confidence.bias']
    # BN stays in eval mode although the loop called model.train()
    assert runner.model.training and not runner.model.backbone[1].training


def test_bn_stays_in_eval_when_the_runner_replaces_sync_bn(
        tmp_path, stage1_checkpoint):
    # In one process mmengine swaps SyncBN for BN modules after the model is
    # built: the eval mode must hold for the new modules too.
    stage1 = torch.load(stage1_checkpoint, weights_only=False)['state_dict']
    cfg = runner_cfg(tmp_path, calibrated=True, load_from=stage1_checkpoint)
    cfg['model']['sync_bn'] = True
    runner = DisAlignRunner(**cfg)
    assert not isinstance(runner.model.backbone[1], nn.SyncBatchNorm)
    runner.train()
    assert not runner.model.backbone[1].training
    for key in ('running_mean', 'running_var', 'num_batches_tracked'):
        assert torch.equal(runner.model.backbone[1].state_dict()[key],
                           stage1[f'backbone.1.{key}'])


def test_calibration_gets_no_weight_decay(tmp_path, stage1_checkpoint):
    runner = stage2_runner(tmp_path, stage1_checkpoint,  # weight_decay=0.1
                           log_level='INFO')
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    runner.logger.addHandler(handler)
    runner.train()
    groups = runner.optim_wrapper.optimizer.param_groups
    decay = {id(p): g['weight_decay'] for g in groups for p in g['params']}
    calibration = runner.model.fc.calibration
    assert [decay[id(p)] for p in calibration.parameters()] == [0.0] * 4
    assert any('weight_decay=0.1 of the config is not applied' in m
               for m in messages)


def test_frozen_part_builds_no_graph(tmp_path, stage1_checkpoint):
    runner = stage2_runner(tmp_path, stage1_checkpoint)
    model = runner.model
    features = model.backbone(torch.randn(2, 4))
    assert features.grad_fn is None  # nothing recorded for the frozen part
    assert model.fc(features).grad_fn is not None


def test_new_keys_are_logged(tmp_path, stage1_checkpoint, caplog):
    runner = stage2_runner(tmp_path, stage1_checkpoint, log_level='INFO')
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    runner.logger.addHandler(handler)
    runner.load_or_resume()
    new = [m for m in messages if 'new (calibration) keys' in m]
    assert len(new) == 1
    assert new[0].endswith(
        'fc.calibration.magnitude, fc.calibration.margin, '
        'fc.calibration.confidence.weight, fc.calibration.confidence.bias')


def test_checkpoint_without_classifier_is_an_error(tmp_path,
                                                   stage1_checkpoint):
    ckpt = torch.load(stage1_checkpoint, weights_only=False)
    del ckpt['state_dict']['fc.weight'], ckpt['state_dict']['fc.bias']
    bad = tmp_path / 'no_fc.pth'
    torch.save(ckpt, bad)
    runner = stage2_runner(tmp_path, str(bad))
    with pytest.raises(ValueError, match='no classifier weights.*fc.weight'):
        runner.train()


def test_checkpoint_of_another_architecture_is_an_error(
        tmp_path, stage1_checkpoint):
    ckpt = torch.load(stage1_checkpoint, weights_only=False)
    ckpt['state_dict']['fc.weight'] = torch.zeros(5, 8)
    bad = tmp_path / 'five_classes.pth'
    torch.save(ckpt, bad)
    runner = stage2_runner(tmp_path, str(bad))
    with pytest.raises(ValueError, match=r'fc.weight: checkpoint \(5, 8\)'):
        runner.train()


def test_stage2_without_load_from_is_an_error(tmp_path):
    runner = stage2_runner(tmp_path, None)
    with pytest.raises(ValueError, match='set `load_from`'):
        runner.train()


def test_model_without_calibration_is_an_error(tmp_path, stage1_checkpoint):
    cfg = runner_cfg(tmp_path, calibrated=False, load_from=stage1_checkpoint)
    with pytest.raises(ValueError, match='no calibration'):
        DisAlignRunner(**cfg)


def test_frequency_file_of_other_classes_is_an_error(tmp_path,
                                                     stage1_checkpoint):
    from mmlt.core.frequency import ClassFrequency
    freq = tmp_path / 'freq.json'
    ClassFrequency.from_counts(['a', 'b', 'x'], [12, 4, 2], 'images').save(freq)
    cfg = runner_cfg(tmp_path, calibrated=True, load_from=stage1_checkpoint)
    cfg['model']['loss'] = dict(frequency_file=str(freq), rho=1.0)
    runner = DisAlignRunner(**cfg)
    with pytest.raises(ValueError, match="class 2: 'x' \\(file\\) vs 'c'"):
        runner.train()


def test_check_stage1_state_dict_direct():
    model = nn.Sequential(nn.Linear(2, 2), DisAlignLinear(2, 3))
    stock = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 3)).state_dict()
    new, unexpected = check_stage1_state_dict(model, stock)
    assert new == ['1.calibration.magnitude', '1.calibration.margin',
                   '1.calibration.confidence.weight',
                   '1.calibration.confidence.bias']
    extra = copy.copy(stock)
    extra['aux.weight'] = torch.zeros(1)
    assert check_stage1_state_dict(model, extra)[1] == ['aux.weight']
