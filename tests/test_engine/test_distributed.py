"""Two processes on the gloo backend on a CPU, started by
tools/dist_train.sh (torchrun) as a user starts them: a DisAlign stage 2
and a DeiT-LT student. ``RankConsistencyHook`` compares the ranks: the
calibration parameters, the frozen weights (and the DeiT-LT teacher), the
DRW switch and weights and the G-RW class weights are identical on both.
A stuck rank ends the run after ``env_cfg.dist_cfg.timeout`` with a clear
error, and a killed torchrun takes its workers with it."""
import datetime
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config

from mmlt.engine.distributed import (DEFAULT_DIST_TIMEOUT, AnyDeviceDDP,
                                     model_digests, setup_distributed)
from tiny_runs import (REPO, dist_train, dump, free_port, state_dict,
                       tiny_config, tiny_student, train)
from toy_regression import toy_config

EPOCHS = 2


@pytest.fixture(scope='module')
def data(tiny_lt_digits_cls):
    return tiny_lt_digits_cls


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
    assert ("dist_cfg: {'backend': 'gloo', 'timeout': "
            f"{DEFAULT_DIST_TIMEOUT}}}") in log
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
    monkeypatch.delenv('TORCHELASTIC_RUN_ID', raising=False)
    setup_distributed(cfg, 'pytorch')
    # a collective fails after 10 minutes, not torch's 30 (gloo)
    assert DEFAULT_DIST_TIMEOUT == 600
    assert calls == [dict(backend='gloo', rank=0, world_size=1,
                          timeout=datetime.timedelta(seconds=600))]
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.env_cfg.dist_cfg.timeout == 600
    # the config's own (--cfg-options env_cfg.dist_cfg.timeout=...); None:
    # torch's default
    for timeout, passed in ((20, dict(timeout=datetime.timedelta(
            seconds=20))), (None, {})):
        calls.clear()
        setup_distributed(Config(dict(env_cfg=dict(dist_cfg=dict(
            timeout=timeout)))), 'pytorch')
        assert calls == [dict(backend='gloo', rank=0, world_size=1,
                              **passed)]
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


def children(pid):
    return [int(c) for task in os.listdir(f'/proc/{pid}/task')
            for c in open(f'/proc/{pid}/task/{task}/children').read().split()]


def rank_of(pid):
    environ = open(f'/proc/{pid}/environ', 'rb').read().split(b'\0')
    return int(next(v for v in environ if v.startswith(b'RANK='))[5:])


def alive(pid):
    """Running or stopped; not gone, not a zombie."""
    try:
        stat = open(f'/proc/{pid}/stat').read()
    except FileNotFoundError:
        return False
    return stat.rsplit(')', 1)[1].split()[0] != 'Z'


def wait_for(condition, seconds, what):
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, f'{what}: not within {seconds} s'
        time.sleep(0.05)


@pytest.mark.skipif(not sys.platform.startswith('linux'),
                    reason='reads /proc; the parent-death signal is Linux')
def test_a_stuck_rank_fails_the_run_and_torchrun_takes_its_workers_along(
        tmp_path):
    """SIGSTOP rank 1 of a 2-process run: rank 0 fails with a clear error
    once its all-reduce has waited ``timeout`` seconds, and torchrun starts
    stopping the job (SIGTERM, which a stopped process only sees when
    continued; torchrun's SIGKILL would follow 30 s later). Killing torchrun
    (SIGKILL) then: the stuck worker dies with it."""
    timeout = 15
    # 500 iterations an epoch: a stop lands mid-training
    cfg = toy_config(1000, size=4000, default_hooks=dict(
        logger=dict(interval=50), checkpoint=dict(interval=1000)))
    work_dir, out_path = tmp_path / 'work', tmp_path / 'torchrun.out'
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()),
               OMP_NUM_THREADS='1', PYTHONPATH=os.pathsep.join(
                   [str(REPO / 'tests'), os.environ.get('PYTHONPATH', '')]))
    with open(out_path, 'w') as out:
        # dist_train.sh execs torchrun: this is torchrun's pid
        torchrun = subprocess.Popen(
            ['bash', str(REPO / 'tools' / 'dist_train.sh'),
             str(dump(cfg, tmp_path / 'toy.py')), '2', '--work-dir',
             str(work_dir), '--cfg-options',
             f'env_cfg.dist_cfg.timeout={timeout}'],
            cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)
    workers = {}
    try:
        wait_for(lambda: any('Epoch(train)' in log.read_text()
                             for log in work_dir.glob('*/*.log')),
                 240, 'training')
        workers = {rank_of(pid): pid for pid in children(torchrun.pid)}
        assert sorted(workers) == [0, 1]
        os.kill(workers[1], signal.SIGSTOP)
        stopped = time.time()
        wait_for(lambda: not alive(workers[0]), timeout + 60, 'rank 0 ends')
        waited = time.time() - stopped
        output = out_path.read_text()
        assert (f'Rank 0 of 2 waited more than {timeout} s '
                '(env_cfg.dist_cfg.timeout) for the other ranks') in output, \
            output[-3000:]
        assert 'DistributedTimeoutError' in output
        assert timeout - 1 < waited < timeout + 30
        wait_for(lambda: f'Sending process {workers[1]} closing signal '
                 'SIGTERM' in out_path.read_text(), 30, 'torchrun stops it')
        assert alive(workers[1])  # stopped: SIGTERM waits for SIGCONT
        torchrun.send_signal(signal.SIGKILL)
        torchrun.wait()
        wait_for(lambda: not alive(workers[1]), 10,
                 'the worker of a killed torchrun ends')
    finally:
        for pid in workers.values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if torchrun.poll() is None:
            torchrun.kill()
            torchrun.wait()


@pytest.mark.skipif(not sys.platform.startswith('linux'),
                    reason='reads /proc; the parent-death signal is Linux')
def test_a_worker_whose_torchrun_died_while_it_started_stops(tmp_path):
    """torchrun killed while its workers still import: a worker calls
    stop_with_launcher first thing, finds it was reparented and stops, and
    a worker whose torchrun lives goes on."""
    marker = tmp_path / 'went_on'
    worker = (f'import sys, time; sys.path.insert(0, {str(REPO)!r}); '
              'time.sleep(1); '
              'from mmlt.utils.launcher import stop_with_launcher; '
              'stop_with_launcher(); '
              f'open({str(marker)!r}, "w").close()')
    # a parent that starts the worker and exits at once (the killed
    # torchrun); named torchrun, as torchrun's agent appears in /proc
    launcher = tmp_path / 'torchrun'
    launcher.write_text('import subprocess, sys\n'
                        'proc = subprocess.Popen([sys.executable, "-c", '
                        f'{worker!r}])\n'
                        'if sys.argv[1:] == ["wait"]:\n'
                        '    proc.wait()\n')
    env = dict(os.environ, TORCHELASTIC_RUN_ID='test')
    subprocess.run([sys.executable, str(launcher)], env=env, check=True)
    time.sleep(4)
    assert not marker.exists()  # it stopped
    subprocess.run([sys.executable, str(launcher), 'wait'], env=env,
                   check=True, timeout=60)
    assert marker.exists()  # its torchrun lived: it went on
