"""What happens when the input is wrong: one test (or a small parametrised
group) per row of the README's bad-input table. Each checks the error and
its message, or the documented behaviour; where a guard could be missing,
a control shows what would happen without it.

Runs use a tiny model on a handful of numbers (a few iterations, seconds);
the DeiT-LT and image-loading rows build small mmpretrain parts.
"""
import importlib.util
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, MODELS
from mmengine.runner import Runner
from torch import nn

from mmlt.core import DisAlignLinear, GRWKLLoss, effective_number_weights
from mmlt.engine import (CheckpointMatchesModelHook, FiniteLossHook,
                         check_default_scope)
from mmlt.stage2 import DisAlignRunner
from mmlt.core.frequency import ClassFrequency, from_lvis_json

from tiny_models import resnet8_teacher_cfg as teacher_cfg
from tiny_models import tiny_deit_student as student

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIGS = sorted((REPO / 'configs' / 'demo').glob('*.py'))


# --------------------------------------------------------------- tiny run
@DATASETS.register_module(force=True)
class BadInputBlobs(BaseDataset):
    """3 classes, 4-d inputs; ``values`` instead: 1-d inputs, label 0."""
    METAINFO = dict(classes=('a', 'b', 'c'))

    def __init__(self, values=None, **kwargs):
        self.values = values
        super().__init__(serialize_data=False, **kwargs)

    def load_data_list(self):
        if self.values is not None:
            return [dict(inputs=torch.tensor([float(v)]), label=0,
                         img_path=f'sample_{i}.png')
                    for i, v in enumerate(self.values)]
        gen = torch.Generator().manual_seed(0)
        return [dict(inputs=torch.randn(4, generator=gen) + 2 * label,
                     label=label)
                for label in [0] * 12 + [1] * 4 + [2] * 2]


@MODELS.register_module(force=True)
class BadInputNet(BaseModel):
    """``kind='cls'``: backbone + fc (+ optional G-RW loss), as a stage-1 /
    stage-2 classifier; ``kind='scalar'``: one weight w, loss_x = (w x - 1)^2
    plus a small finite loss_reg; ``kind='linear'``: loss_x = w x."""

    def __init__(self, kind='cls', calibrated=False, width=8, loss=None,
                 backbone_name='backbone', init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.kind = kind
        if kind == 'cls':
            setattr(self, backbone_name,
                    nn.Sequential(nn.Linear(4, width), nn.ReLU()))
            self.backbone_name = backbone_name
            self.fc = (DisAlignLinear if calibrated else nn.Linear)(width, 3)
            self.loss_module = (GRWKLLoss(**loss) if loss else
                                nn.CrossEntropyLoss())
        else:
            self.w = nn.Parameter(torch.ones(1))

    def forward(self, inputs, label, mode='tensor', **kwargs):
        if self.kind != 'cls':
            out = self.w * inputs
            if mode != 'loss':
                return out
            if self.kind == 'linear':
                return dict(loss_x=out.mean())
            return dict(loss_x=((out - 1)**2).mean(),
                        loss_reg=1e-3 * (self.w**2).sum())
        logits = self.fc(getattr(self, self.backbone_name)(inputs))
        if mode == 'loss':
            return dict(loss=self.loss_module(logits, torch.as_tensor(label)))
        return logits


def run_cfg(work_dir, model=None, dataset=None, batch_size=6, lr=0.1,
            **extra):
    cfg = dict(
        model=dict(type='BadInputNet', **(model or {})),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=dict(type='BadInputBlobs', **(dataset or {})),
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=batch_size,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=lr)),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=2)),
        log_level='WARNING',
        randomness=dict(seed=0),
        default_scope=None)
    cfg.update(extra)
    return cfg


@pytest.fixture(scope='module')
def stage1_checkpoint(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('stage1')
    Runner(**run_cfg(work_dir)).train()
    return str(work_dir / 'epoch_2.pth')


def stage2(tmp_path, checkpoint, model=None, **extra):
    return DisAlignRunner(**run_cfg(
        tmp_path, model=dict(calibrated=True, **(model or {})),
        load_from=checkpoint, **extra))


def save_variant(tmp_path, name, **model):
    """The state dict of another BadInputNet, saved as an mmengine
    checkpoint."""
    path = tmp_path / f'{name}.pth'
    torch.save(dict(meta={}, state_dict=BadInputNet(**model).state_dict()),
               path)
    return str(path)


# ------------------------------------------------ 1. frequency file
@pytest.mark.parametrize('classes, counts, match', [
    (['a', 'b', 'c', 'd'], [12, 4, 2, 1],
     r'cover 4 classes but the training set \(BadInputBlobs\) has 3'),
    (['a', 'b', 'x'], [12, 4, 2], r"class 2: 'x' \(file\) vs 'c'"),
])
def test_frequency_file_of_another_dataset(tmp_path, stage1_checkpoint,
                                           classes, counts, match):
    freq = tmp_path / 'freq.json'
    ClassFrequency.from_counts(classes, counts, 'images').save(freq)
    runner = stage2(tmp_path, stage1_checkpoint,
                    model=dict(loss=dict(frequency_file=str(freq), rho=1.0)))
    with pytest.raises(ValueError, match=match):
        runner.train()
    assert not list(tmp_path.glob('*.pth'))  # stopped before any step


def test_frequency_file_of_another_dataset_in_the_metric(tmp_path):
    from mmlt.classification import LongTailAccuracy
    freq = tmp_path / 'freq.json'
    ClassFrequency.from_counts(['a', 'b', 'x'], [30, 10, 2],
                               'images').save(freq)
    metric = LongTailAccuracy(frequency_file=str(freq))
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    with pytest.raises(ValueError, match=r"\[2\] 'x' \(file\) vs 'c'"):
        metric.compute_metrics([dict(gt=0, top=np.array([0]))])


# ------------------------------- 2. stage-1 checkpoint without classifier
def test_stage1_checkpoint_without_classifier(tmp_path, stage1_checkpoint):
    ckpt = torch.load(stage1_checkpoint, weights_only=False)
    del ckpt['state_dict']['fc.weight'], ckpt['state_dict']['fc.bias']
    torch.save(ckpt, tmp_path / 'no_fc.pth')
    runner = stage2(tmp_path, str(tmp_path / 'no_fc.pth'))
    with pytest.raises(ValueError,
                       match=r'no classifier weights \(fc.weight, fc.bias\)'):
        runner.train()


@pytest.mark.parametrize('optimizer', [
    dict(type='SGD', lr=0.1),  # SGD's default: no decay at all
    dict(type='AdamW', lr=0.01),  # AdamW's default: 0.01
])
def test_stage2_optimizer_without_weight_decay(
        tmp_path, stage1_checkpoint, optimizer):
    """An optimizer config without weight_decay: still none on the
    calibration (AdamW's default 0.01 included)."""
    runner = stage2(tmp_path, stage1_checkpoint,
                    optim_wrapper=dict(optimizer=optimizer))
    runner.train()
    groups = runner.optim_wrapper.optimizer.param_groups
    decay = {id(p): g['weight_decay'] for g in groups for p in g['params']}
    calibration = runner.model.fc.calibration
    assert [decay[id(p)] for p in calibration.parameters()] == [0.0] * 4


# ------------------------------------ 3. checkpoint of another architecture
@pytest.mark.parametrize('variant, match', [
    (dict(width=16), r'another architecture or class count: 3 shapes '
     r'differ, e.g. backbone.0.weight: checkpoint \(16, 4\) vs model \(8, 4\)'),
    (dict(backbone_name='encoder'), r'lacks 2 weights the DisAlign stage-2 '
     r'model needs, e.g. backbone.0.weight, backbone.0.bias'),
])
def test_stage2_from_a_checkpoint_of_another_architecture(
        tmp_path, variant, match):
    runner = stage2(tmp_path, save_variant(tmp_path, 'other', **variant))
    with pytest.raises(ValueError, match=match):
        runner.train()


def load_tools_script(name):
    spec = importlib.util.spec_from_file_location(
        f'mmlt_tools_{name}', REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tools_test_refuses_a_checkpoint_of_another_architecture(
        tmp_path, stage1_checkpoint, monkeypatch):
    """tools/test.py: mmengine alone would only warn and evaluate random
    weights where the shapes differ."""
    config = tmp_path / 'tiny_test.py'
    config.write_text(
        "model = dict(type='BadInputNet')\n"
        'test_dataloader = dict(dataset=dict(type="BadInputBlobs"), '
        "sampler=dict(type='DefaultSampler', shuffle=False), "
        "collate_fn=dict(type='default_collate'), batch_size=6)\n"
        'test_cfg = dict()\n'
        f"test_evaluator = dict(type='DumpResults', "
        f"out_file_path={str(tmp_path / 'preds.pkl')!r})\n"
        "log_level = 'WARNING'\n")
    test = load_tools_script('test')

    def run(checkpoint):
        monkeypatch.setattr(sys, 'argv', [
            'test.py', str(config), checkpoint, '--work-dir',
            str(tmp_path / 'work')])
        test.main()

    run(stage1_checkpoint)  # the right checkpoint evaluates
    assert (tmp_path / 'preds.pkl').is_file()
    with pytest.raises(ValueError, match=r'fc.weight: checkpoint \(3, 16\) '
                       r'vs model \(3, 8\)'):
        run(save_variant(tmp_path, 'wide', width=16))
    with pytest.raises(ValueError, match='lacks 2 of the 4 weights'):
        run(save_variant(tmp_path, 'encoder', backbone_name='encoder'))

    # without the hook mmengine loads the misfit and runs on
    runner = Runner(**run_cfg(tmp_path / 'plain', load_from=save_variant(
        tmp_path, 'wide2', width=16)))
    runner.load_or_resume()
    runner = Runner(**run_cfg(tmp_path / 'hooked', load_from=save_variant(
        tmp_path, 'wide3', width=16)))
    runner.register_hook(CheckpointMatchesModelHook())
    with pytest.raises(ValueError, match='3 shapes differ'):
        runner.load_or_resume()


def test_testing_a_stage1_checkpoint_with_a_stage2_config(
        tmp_path, stage1_checkpoint, caplog):
    """tools/test.py with a stage-2 config must test a stage-2 checkpoint:
    a stage-1 one would report stage 1 as stage 2. The stage-2 checkpoint
    tests without the training-time advice about load_from."""
    def tester(work_dir, checkpoint):
        return stage2(
            work_dir, checkpoint,
            test_dataloader=dict(
                dataset=dict(type='BadInputBlobs'),
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='default_collate'), batch_size=6),
            test_cfg=dict(),
            test_evaluator=dict(type='DumpResults', out_file_path=str(
                work_dir / 'preds.pkl')))

    with pytest.raises(ValueError, match='it is a stage-1 checkpoint'):
        tester(tmp_path / 'from_stage1', stage1_checkpoint).test()
    trained = stage2(tmp_path / 'stage2', stage1_checkpoint)
    trained.train()
    runner = tester(tmp_path / 'from_stage2',
                    str(tmp_path / 'stage2' / 'epoch_2.pth'))
    runner.logger.propagate = True  # into caplog
    runner.test()
    assert (tmp_path / 'from_stage2' / 'preds.pkl').is_file()
    assert 'already holds a calibration' not in caplog.text


def test_tools_test_refuses_nan_weights(tmp_path, stage1_checkpoint):
    ckpt = torch.load(stage1_checkpoint, weights_only=False)
    ckpt['state_dict']['fc.weight'][0, 0] = float('nan')
    torch.save(ckpt, tmp_path / 'nan.pth')
    runner = Runner(**run_cfg(tmp_path / 'work',
                              load_from=str(tmp_path / 'nan.pth')))
    runner.register_hook(CheckpointMatchesModelHook())
    with pytest.raises(ValueError, match=r'NaN or inf in 1 weights, e.g. '
                       r'fc.weight: it was saved by a run that diverged'):
        runner.load_or_resume()


def test_stage2_downloads_no_pretrained_weights(tmp_path, stage1_checkpoint):
    """A stage-1 config's pretrained backbone (mmseg's open-mmlab:// or a
    URL init_cfg) is not fetched in stage 2, where load_from replaces every
    weight: offline the download fails (here: nothing listens on the
    port)."""
    url = 'http://127.0.0.1:9/resnet50_v1c.pth'
    init_cfg = [dict(type='Pretrained', checkpoint=url),
                dict(type='Constant', val=0, layer='Linear')]
    runner = stage2(tmp_path, stage1_checkpoint,
                    model=dict(init_cfg=init_cfg))
    assert runner.model.init_cfg == [init_cfg[1]]
    runner.train()  # no download attempted
    stock = Runner(**run_cfg(tmp_path / 'stock', model=dict(
        init_cfg=init_cfg[:1])))
    with pytest.raises(Exception, match='127.0.0.1|Connection|refused'):
        stock.train()  # what mmengine alone does


# --------------------------------- 4. LVIS categories without images
def test_lvis_categories_without_images(tmp_path):
    lvis = dict(
        images=[dict(id=i, width=32, height=32) for i in range(1, 5)],
        categories=[dict(id=1, name='cat'), dict(id=2, name='dog'),
                    dict(id=3, name='unicorn'), dict(id=4, name='yak')],
        annotations=[dict(id=i + 1, image_id=img, category_id=cat,
                          bbox=[0, 0, 4, 4], area=16)
                     for i, (img, cat) in enumerate(
                         [(1, 1), (2, 1), (3, 1), (4, 1), (1, 2), (2, 2),
                          (3, 4)])])
    path = tmp_path / 'lvis.json'
    path.write_text(json.dumps(lvis))
    with pytest.warns(UserWarning, match=r"1 categories have no annotation "
                      r"\('unicorn'\); they are kept with count 0"):
        freq = from_lvis_json(path)
    # kept in place: later labels do not shift, and the file loads
    assert freq.classes == ('cat', 'dog', 'unicorn', 'yak')
    assert freq.counts == (4, 2, 0, 1)
    assert 2 in freq.groups['rare']
    freq.save(tmp_path / 'freq.json')
    loss = GRWKLLoss(frequency_file=str(tmp_path / 'freq.json'), rho=1.0)
    weights = loss.class_weights
    assert torch.isfinite(weights).all()
    # the empty category weighs as much as the rarest observed one
    assert weights[2] == weights[3] and weights[3] == weights.max()


# ------------------------------------------- 5. an unreadable image
def make_image_list(root: Path, bad: str) -> Path:
    import cv2
    good = (np.arange(8 * 8 * 3) % 255).astype(np.uint8).reshape(8, 8, 3)
    cv2.imwrite(str(root / 'good.png'), good)
    data = (root / 'good.png').read_bytes()
    if bad == 'empty':
        (root / 'bad.png').write_bytes(b'')
    elif bad == 'garbage':
        (root / 'bad.png').write_bytes(b'this is not an image' * 8)
    elif bad == 'truncated':
        (root / 'bad.png').write_bytes(data[:len(data) // 2])
    (root / 'list.txt').write_text('good.png 0\nbad.png 1\n')
    return root / 'list.txt'


@pytest.mark.parametrize('bad, backend, error', [
    ('missing', 'cv2', FileNotFoundError),
    ('empty', 'cv2', Exception),  # cv2.error, which names no file
    ('garbage', 'cv2', AssertionError),
    ('truncated', 'cv2', AssertionError),
    ('garbage', 'pillow', OSError),  # PIL's UnidentifiedImageError
    ('truncated', 'pillow', OSError),
])
def test_unreadable_image_names_the_file(tmp_path, bad, backend, error):
    from mmlt.classification import LongTailListDataset
    from mmlt.engine import setup_runtime
    setup_runtime()  # as the tools: pipeline errors name the sample
    ann = make_image_list(tmp_path, bad)
    dataset = LongTailListDataset(
        ann_file=str(ann), data_prefix=str(tmp_path), classes=['a', 'b'],
        pipeline=[dict(type='mmpretrain.LoadImageFromFile',
                       imdecode_backend=backend),
                  dict(type='mmpretrain.PackInputs')])
    assert dataset[0]['inputs'].shape == (3, 8, 8)
    with pytest.raises(error) as info:
        dataset[1]
    notes = getattr(info.value, '__notes__', [])
    text = str(info.value) + '\n'.join(notes)
    assert str(tmp_path / 'bad.png') in text
    # mmlt's note: the dataset, the sample index and its path
    assert any(n.startswith('mmlt: raised by the data pipeline on sample 1 '
                            'of LongTailListDataset (img_path=') and
               str(tmp_path / 'bad.png') in n for n in notes)


def test_unreadable_image_named_through_dataloader_workers(tmp_path):
    """Real configs load in worker processes: torch re-raises there with the
    worker's formatted traceback, which keeps the note."""
    from mmlt.classification import LongTailListDataset
    from mmlt.engine import setup_runtime
    setup_runtime()
    dataset = LongTailListDataset(
        ann_file=str(make_image_list(tmp_path, 'empty')),
        data_prefix=str(tmp_path), classes=['a', 'b'],
        pipeline=[dict(type='mmpretrain.LoadImageFromFile')])
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=2, num_workers=1, collate_fn=list)
    note = ('mmlt: raised by the data pipeline on sample 1 of '
            f'LongTailListDataset (img_path={tmp_path / "bad.png"})')
    with pytest.raises(Exception, match='Caught error in DataLoader worker'
                       r'(.|\n)*' + re.escape(note)):
        next(iter(loader))


# ---------------------------------------- 6. NaN / inf loss or weights
def nan_run_cfg(tmp_path, hooks, values=(1, 1, 1, 1, float('nan'), 1, 1, 1)):
    """8 samples, batches of 2, the NaN in the 3rd batch; a checkpoint after
    every iteration."""
    return run_cfg(
        tmp_path, model=dict(kind='scalar'), dataset=dict(values=values),
        batch_size=2, custom_hooks=hooks,
        default_hooks=dict(checkpoint=dict(
            type='CheckpointHook', by_epoch=False, interval=1)))


def test_nan_loss_stops_naming_the_iteration_and_writes_no_checkpoint(
        tmp_path):
    runner = Runner(**nan_run_cfg(tmp_path / 'guarded',
                                  [dict(type='FiniteLossHook')]))
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    message = str(info.value)
    assert 'not finite at iteration 3 (epoch 1, batch 3)' in message
    assert 'non-finite: loss=nan, loss_x=nan; finite: loss_reg=0.000999' \
        in message
    assert 'sample_4.png, sample_5.png' in message
    names = sorted(p.name for p in (tmp_path / 'guarded').glob('*.pth'))
    assert names == ['iter_1.pth', 'iter_2.pth']
    last = torch.load(tmp_path / 'guarded' / 'iter_2.pth',
                      weights_only=False)['state_dict']
    assert torch.isfinite(last['w']).all()

    # control: without the hook the NaN model is saved and training goes on
    runner = Runner(**nan_run_cfg(tmp_path / 'plain', []))
    runner.train()
    poisoned = torch.load(tmp_path / 'plain' / 'iter_3.pth',
                          weights_only=False)['state_dict']
    assert torch.isnan(poisoned['w']).all()


def test_inf_weights_after_a_finite_loss_are_not_saved(tmp_path):
    """lr 1e10, loss w x with x = 0 but 1e30 in the 3rd batch: that step's
    loss is finite (1e30), its update sends w to -inf; the checkpoint of
    that iteration is refused."""
    cfg = nan_run_cfg(tmp_path, [dict(type='FiniteLossHook')],
                      values=(0, 0, 0, 0, 1e30, 1e30, 0, 0))
    cfg['model'] = dict(type='BadInputNet', kind='linear')
    cfg['optim_wrapper'] = dict(optimizer=dict(type='SGD', lr=1e10))
    with pytest.raises(FloatingPointError,
                       match=r'Not writing the checkpoint after iteration 3 '
                       r'.*1 of its tensors hold NaN / inf, e.g. w\.'):
        Runner(**cfg).train()
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == [
        'iter_1.pth', 'iter_2.pth']


def test_finite_loss_hook_runs_before_checkpoints_everywhere(
        tmp_path, stage1_checkpoint):
    assert FiniteLossHook.priority == 'LOW'  # CheckpointHook: VERY_LOW
    # DisAlignRunner adds it when the config does not list it ...
    runner = stage2(tmp_path, stage1_checkpoint)
    kinds = [type(h).__name__ for h in runner.hooks]
    assert kinds.count('FiniteLossHook') == 1
    assert kinds.index('FiniteLossHook') < kinds.index('SafeCheckpointHook')
    assert kinds.index('LoggerHook') < kinds.index('FiniteLossHook')
    # ... and does not add a second one when it does
    runner = stage2(tmp_path / 'listed', stage1_checkpoint,
                    custom_hooks=[dict(type='FiniteLossHook',
                                       check_weights=False)])
    hooks = [h for h in runner.hooks if isinstance(h, FiniteLossHook)]
    assert len(hooks) == 1 and not hooks[0].check_weights
    # every demo config lists it (stage 2 inherits it from stage 1)
    for path in DEMO_CONFIGS:
        cfg = Config.fromfile(str(path), import_custom_modules=False)
        kinds = [h['type'] for h in cfg.get('custom_hooks', [])]
        assert 'FiniteLossHook' in kinds, path.name


# ------------------------------ 7. teacher checkpoint of another class count
def test_teacher_of_another_class_count(tmp_path):
    import mmlt.classification  # noqa: F401
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    five = tmp_path / 'five.pth'
    torch.save(dict(state_dict=PRETRAIN_MODELS.build(
        teacher_cfg(5)).state_dict()), five)
    # the checkpoint: caught when init_weights() loads it (before training)
    model = student(dict(config=teacher_cfg(3), checkpoint=str(five)))
    with pytest.raises(ValueError, match=r'head.fc.weight has shape \(5, 64\)'
                       r'.*trained for 5 classes, the student has 3'):
        model.init_weights()
    # the teacher config: caught when the model is built
    with pytest.raises(ValueError,
                       match='has 5 classes, the student 3'):
        student(dict(config=teacher_cfg(5), checkpoint=str(five)))
    # same class count, another head width: another architecture, not
    # reported as a class count
    other = tmp_path / 'narrow_head.pth'
    torch.save(dict(state_dict=PRETRAIN_MODELS.build(
        teacher_cfg(3, in_channels=32)).state_dict()), other)
    model = student(dict(config=teacher_cfg(3), checkpoint=str(other)))
    with pytest.raises(ValueError, match=r'does not fit the teacher config: '
                       r"0 missing keys .*'head.fc.weight', \(3, 32\), "
                       r'\(3, 64\)'):
        model.init_weights()


# --------------------------------------------- 8. rho / beta out of range
@pytest.mark.parametrize('rho', [-0.5, math.nan, math.inf])
def test_rho_out_of_range(rho):
    with pytest.raises(ValueError, match='G-RW rho must be a finite number '
                       r'>= 0 .* got'):
        GRWKLLoss(class_counts=[10, 5, 1], rho=rho)
    assert GRWKLLoss(class_counts=[10, 5, 1], rho=0).class_weights.tolist() \
        == [1, 1, 1]


@pytest.mark.parametrize('beta', [-0.1, 1.0, 1.5, math.nan])
def test_beta_out_of_range(beta):
    import mmlt.classification  # noqa: F401
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    match = r'effective-number beta must be in \[0, 1\)'
    with pytest.raises(ValueError, match=match):
        effective_number_weights([10, 5, 1], beta)
    # counts in the config: when the model is built
    with pytest.raises(ValueError, match=match):
        PRETRAIN_MODELS.build(dict(type='LDAMLoss', class_counts=[10, 5, 1],
                                   drw_beta=beta))
    # counts from the training set: when DRWHook hands them over, in
    # before_train (before the first iteration)
    head = PRETRAIN_MODELS.build(dict(type='DeiTLTClsHead', num_classes=3,
                                      in_channels=16, drw_beta=beta))
    with pytest.raises(ValueError, match=match):
        head.set_class_counts([10, 5, 1])


# ----------------------------- 9. default_scope of another toolbox
@pytest.mark.parametrize('scope, imports, match', [
    ('mmseg', ['mmlt.detection'],
     r"default_scope is 'mmseg' .*mmlt.detection registers into mmdet.*"
     r"Use custom_imports = dict\(imports=\['mmlt.segmentation'\].*or "
     r"default_scope = 'mmdet' if this is a detection config"),
    ('mmdet', ['mmlt.classification.deit_lt'],
     'mmlt.classification.deit_lt registers into mmpretrain'),
    (None, ['mmlt.segmentation'],
     "no default_scope.*default_scope = 'mmseg'"),
    ('mmseg', None, None), ('mmseg', ['mmlt.segmentation'], None),
    ('mmdet', ['mmlt.detection', 'mmlt.classification'], None),
    ('mmpretrain', 'mmlt.classification', None),
])
def test_default_scope_of_another_toolbox(scope, imports, match):
    cfg = dict(default_scope=scope)
    if imports is not None:
        cfg['custom_imports'] = dict(imports=imports,
                                     allow_failed_imports=False)
    if match is None:
        check_default_scope(cfg)
    else:
        with pytest.raises(ValueError, match=match):
            check_default_scope(cfg)


def test_default_scope_checked_by_tools_and_runner(tmp_path, monkeypatch):
    import mmlt.classification  # noqa: F401  (imported by the config)
    config = tmp_path / 'wrong_scope.py'
    config.write_text(
        "custom_imports = dict(imports=['mmlt.classification'], "
        'allow_failed_imports=False)\n'
        "default_scope = 'mmseg'\n"
        "model = dict(type='DisAlignLinearClsHead')\n")
    for name in ('train', 'test'):
        script = load_tools_script(name)
        argv = [f'{name}.py', str(config)] + (['x.pth'] if name == 'test'
                                              else [])
        monkeypatch.setattr(sys, 'argv', argv + ['--work-dir',
                                                 str(tmp_path)])
        with pytest.raises(ValueError, match='registers into mmpretrain'):
            script.main()
    cfg = Config.fromfile(str(config))
    cfg.work_dir = str(tmp_path)
    with pytest.raises(ValueError, match='registers into mmpretrain'):
        DisAlignRunner.from_cfg(cfg)
    # every demo config passes
    for path in DEMO_CONFIGS:
        check_default_scope(
            Config.fromfile(str(path), import_custom_modules=False))
