"""The decoupled baselines through the stage-2 runner, as the demo configs
run them, on a few LT-Digits images: cRT and LWS train only their own
parameters with class-balanced sampling; the post-hoc methods refuse to
train, change no weight and predict ``argmax z - tau log(prior)``; the tau
tool picks tau on val; the sampler draws classes uniformly."""
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch
from mmengine.runner import Runner

from mmlt.stage2 import ClassBalancedSampler, DisAlignRunner
from tiny_runs import two_epoch_config

REPO = Path(__file__).resolve().parents[2]
# the tiny data and stage 1 of the DisAlign runs: conftest's
pytestmark = pytest.mark.usefixtures('safe_checkpoint_loader')
demo_cfg = two_epoch_config


@pytest.mark.parametrize('name, own', [
    ('cls_crt', ['head.fc.retrained.bias', 'head.fc.retrained.weight']),
    ('cls_lws', ['head.fc.calibration.scale']),
])
def test_trained_baselines_learn_only_their_own_parameters(
        cls_data_24, cls_stage1_ckpt, tmp_path, name, own):
    cfg = demo_cfg(name, cls_data_24, tmp_path, load_from=str(cls_stage1_ckpt))
    runner = DisAlignRunner.from_cfg(cfg)
    assert isinstance(runner.train_dataloader.sampler, ClassBalancedSampler)
    runner.train()
    trainable = sorted(n for n, p in runner.model.named_parameters()
                       if p.requires_grad)
    assert trainable == own
    before = torch.load(cls_stage1_ckpt, weights_only=False)['state_dict']
    after = torch.load(tmp_path / 'epoch_2.pth',
                       weights_only=False)['state_dict']
    assert sorted(set(after) - set(before)) == own
    for key, value in before.items():  # body, stage-1 fc, BN statistics
        assert torch.equal(after[key], value), key
    model_state = runner.model.state_dict()
    if name == 'cls_lws':
        assert not torch.equal(model_state[own[0]], torch.ones(10))
    else:  # re-initialised, then trained: not the stage-1 classifier
        assert not torch.equal(model_state['head.fc.retrained.weight'],
                               before['head.fc.weight'])


def predictions(runner):
    batch = next(iter(runner.test_dataloader))
    runner.model.eval()
    with torch.no_grad():
        data_ = runner.model.data_preprocessor(batch, False)
        return runner.model(data_['inputs'], mode='tensor')


def test_post_hoc_methods_change_no_weight_and_refuse_to_train(
        cls_data_24, cls_stage1_ckpt, tmp_path):
    counts = torch.tensor([float(len([1 for line in (
        cls_data_24 / 'lt_digits_train.txt').read_text().splitlines()
        if line.rsplit(maxsplit=1)[1] == str(c)])) for c in range(10)])
    plain = Runner.from_cfg(demo_cfg('cls_stage1', cls_data_24,
                                     tmp_path / 'plain',
                                     load_from=str(cls_stage1_ckpt)))
    plain.load_or_resume()
    z = predictions(plain)
    stage1_state = torch.load(cls_stage1_ckpt,
                              weights_only=False)['state_dict']
    for name, tau in (('cls_logit-adjustment', 0.7), ('cls_tau-norm', 0.5)):
        cfg = demo_cfg(name, cls_data_24, tmp_path / name,
                       load_from=str(cls_stage1_ckpt))
        cfg.model.head.tau = tau
        runner = DisAlignRunner.from_cfg(cfg)
        runner.load_or_resume()
        assert sorted(runner.model.state_dict()) == sorted(stage1_state)
        for key, value in runner.model.state_dict().items():
            assert torch.equal(value, stage1_state[key]), key
        out = predictions(runner)
        if name == 'cls_logit-adjustment':
            expected = z - tau * torch.log(counts / counts.sum())
        else:
            w, b = stage1_state['head.fc.weight'], stage1_state['head.fc.bias']
            feature = (z - b) @ torch.linalg.pinv(w).T  # z = f W^T + b
            expected = feature @ (w / w.norm(dim=1, keepdim=True) ** tau).T
        assert torch.allclose(out, expected, atol=1e-4), name
        with pytest.raises(ValueError, match='nothing to learn.*post-hoc'):
            DisAlignRunner.from_cfg(demo_cfg(
                name, cls_data_24, tmp_path / f'{name}_train',
                load_from=str(cls_stage1_ckpt))).train()


def test_testing_crt_on_its_stage1_checkpoint_is_refused(
        cls_data_24, cls_stage1_ckpt, tmp_path):
    """The stage-1 checkpoint has no cRT classifier: testing it would
    report a random one."""
    runner = DisAlignRunner.from_cfg(demo_cfg('cls_crt', cls_data_24, tmp_path,
                                              load_from=str(cls_stage1_ckpt)))
    with pytest.raises(ValueError, match=r'fc\.retrained\.weight.*it is a '
                       'stage-1 checkpoint'):
        runner.test()


def test_choose_tau_on_val(cls_data_24, cls_stage1_ckpt, tmp_path):
    cfg = demo_cfg('cls_logit-adjustment', cls_data_24, tmp_path / 'cfg')
    config = tmp_path / 'la.py'
    cfg.dump(str(config))
    out = subprocess.run(
        [sys.executable, 'tools/analysis/choose_tau.py', str(config),
         str(cls_stage1_ckpt), '--taus', '0', '1',
         '--work-dir', str(tmp_path / 'w'),
         '--out', str(tmp_path / 'sweep.json')],
        cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    import json
    sweep = json.loads((tmp_path / 'sweep.json').read_text())
    assert [row['tau'] for row in sweep['sweep']] == [0.0, 1.0]
    best = max(sweep['sweep'], key=lambda r: r['lt/top1'])
    assert sweep['best_tau'] == best['tau']
    assert sweep['cfg_options'] == f'model.head.tau={best["tau"]:g}'
    assert f'--cfg-options model.head.tau={best["tau"]:g}' in out.stdout


def test_choose_tau_keeps_numpy_scalar_metrics():
    """mmseg reports numpy scalars; the per-class lists are left out."""
    import importlib.util
    import numpy as np
    spec = importlib.util.spec_from_file_location(
        'choose_tau', REPO / 'tools' / 'analysis' / 'choose_tau.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.scalar_metrics({
        'mIoU': np.float32(13.5), 'aAcc': np.float64(97.0), 'top1': 88.0,
        'classwise': [1.0, 2.0], 'table': np.zeros(3)}) == {
            'mIoU': 13.5, 'aAcc': 97.0, 'top1': 88.0}


class Labels:
    """A dataset stub with ``get_cat_ids``: 95 samples of class 0, 5 of
    class 1."""

    labels = [0] * 95 + [1] * 5

    def __len__(self):
        return len(self.labels)

    def get_cat_ids(self, idx):
        return [self.labels[idx]]


def test_class_balanced_sampler_draws_classes_uniformly(monkeypatch):
    sampler = ClassBalancedSampler(Labels(), num_samples=4000, seed=3)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 4000
    share = Counter(Labels.labels[i] for i in drawn)[1] / len(drawn)
    assert 0.45 < share < 0.55  # instance sampling: 0.05
    # within the class, every sample is drawn
    assert set(i for i in drawn if i >= 95) == set(range(95, 100))
    assert list(sampler) == drawn  # same epoch, same draws (resume)
    sampler.set_epoch(1)
    assert list(sampler) != drawn
    # two ranks split one draw between them
    import mmlt.stage2.samplers as samplers
    shares = []
    for rank in (0, 1):
        monkeypatch.setattr(samplers, 'get_dist_info', lambda r=rank: (r, 2))
        shares.append(list(ClassBalancedSampler(Labels(), num_samples=10,
                                                seed=3)))
    monkeypatch.undo()
    merged = [i for pair in zip(*shares) for i in pair]
    assert merged == list(ClassBalancedSampler(Labels(), num_samples=10,
                                               seed=3))
