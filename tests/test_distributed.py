"""Two processes on the gloo backend on a CPU, started by
tools/dist_train.sh (torchrun) as a user starts them: a DisAlign stage 2
and a DeiT-LT student. ``RankConsistencyHook`` compares the ranks: the
calibration parameters, the frozen weights (and the DeiT-LT teacher), the
DRW switch and weights and the G-RW class weights are identical on both."""
import json

import pytest
import torch
from mmengine.config import Config

from mmlt.engine.distributed import AnyDeviceDDP, model_digests, \
    setup_distributed
from tiny_runs import (dist_train, dump, state_dict, tiny_cls_data,
                       tiny_config, tiny_student, train)

EPOCHS = 2


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return tiny_cls_data(tmp_path_factory.mktemp('lt_digits'))


def consistency(work_dir):
    """rank_consistency.json: a check every 2 iterations, per epoch and at
    the end."""
    history = json.loads((work_dir / 'rank_consistency.json').read_text())
    whens = [h['when'] for h in history]
    assert [w for w in whens if not w.startswith('iter ')] == [
        *(f'epoch {e}' for e in range(1, EPOCHS + 1)), 'end of training']
    assert 'iter 2' in whens and 'iter 4' in whens
    for h in history:
        assert h['world_size'] == 2 and len(h['ranks']) == 2
        assert h['mismatched'] == []
        assert h['ranks'][0] == h['ranks'][1]
    return history


def run_two_ranks(cfg, tmp_path, name):
    cfg.custom_hooks = [*cfg.get('custom_hooks', []),
                        dict(type='RankConsistencyHook', interval=2)]
    work_dir = tmp_path / name
    out = dist_train(dump(cfg, tmp_path / f'{name}.py'), work_dir, 2)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'Distributed training: True' in log
    assert "dist_cfg: {'backend': 'gloo'}" in log
    return work_dir, consistency(work_dir)


def test_disalign_stage2_on_two_ranks(data, tmp_path):
    stage1 = tiny_config('cls_stage1', data, 1)
    train(dump(stage1, tmp_path / 'stage1.py'), tmp_path / 'stage1')
    stage1_ckpt = tmp_path / 'stage1' / 'epoch_1.pth'
    cfg = tiny_config('cls_stage2', data, EPOCHS, load_from=str(stage1_ckpt))
    work_dir, history = run_two_ranks(cfg, tmp_path, 'stage2')
    digests = history[-1]['ranks'][0]
    assert digests['trainable'] and digests['frozen']
    assert digests['class_weights']  # the G-RW loss's weights
    # the calibration learned; the frozen model is the stage-1 model
    before, after = state_dict(stage1_ckpt), state_dict(
        work_dir / f'epoch_{EPOCHS}.pth')
    assert not torch.equal(after['head.fc.calibration.margin'],
                           torch.zeros(10))
    for key, value in before.items():
        assert torch.equal(after[key], value), key
    assert history[0]['ranks'][0]['trainable'] != digests['trainable']


def test_deit_lt_student_on_two_ranks_switches_drw_together(data, tmp_path):
    # the second of two epochs is re-weighted
    cfg = tiny_student(data, tmp_path, EPOCHS, drw_epoch=1)
    _, history = run_two_ranks(cfg, tmp_path, 'student')
    first, last = history[0]['ranks'][0], history[-1]['ranks'][0]
    assert first['teacher'] and first['teacher'] == last['teacher']
    assert first['drw_on'] == [] and last['drw_on'] == ['', 'head']


def test_setup_distributed_on_cpu(monkeypatch):
    """Without a GPU: gloo and AnyDeviceDDP; other launchers are refused
    with the way out; a single process is left alone."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    setup_distributed(cfg, 'none')
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'
    with pytest.raises(RuntimeError, match='torchrun'):
        setup_distributed(cfg, 'slurm')
    for var in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(RuntimeError, match=r'\$RANK is not set'):
        setup_distributed(cfg, 'pytorch')
    calls = []
    monkeypatch.setattr(torch.distributed, 'init_process_group',
                        lambda **kwargs: calls.append(kwargs))
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', '29500')
    setup_distributed(cfg, 'pytorch')
    assert calls == [dict(backend='gloo', rank=0, world_size=1)]
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.type == 'AnyDeviceDDP'
    assert issubclass(AnyDeviceDDP, torch.nn.parallel.DistributedDataParallel)


def test_model_digests_see_a_changed_calibration():
    model = torch.nn.Linear(3, 2)
    model.bias.requires_grad_(False)
    before = model_digests(model)
    with torch.no_grad():
        model.weight[0, 0] += 1e-3
    after = model_digests(model)
    assert before['trainable'] != after['trainable']
    assert before['frozen'] == after['frozen']
    assert before['teacher'] is None and before['class_weights'] is None
