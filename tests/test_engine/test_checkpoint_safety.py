"""No code runs from a checkpoint file (issue 13, parts 1 and 6).

A payload checkpoint (a pickle whose ``__reduce__`` writes a marker file
when unpickled in full) is refused on every path that reads checkpoints:
``tools/test.py``, ``load_from`` of a DisAlign stage 2, ``--resume``, the
four converters, the DeiT-LT teacher, ``plot_class_accuracy.py
calibration`` and mmengine's own ``load_checkpoint`` after importing mmlt.
Each refusal names the file and the opt-in, and the marker never appears;
the opt-in (``--unsafe-load``, ``MMLT_UNSAFE_LOAD=1``) runs it. Real
checkpoints of every demo config load with the safe reader, and unreadable
files give errors that name them.
"""
import argparse
import importlib.util
import os
import pickle
import pickletools
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader
from torch import nn

from mmlt.engine.checkpoint_io import (UNSAFE_LOAD_ENV, CheckpointLoadError,
                                       UnsafeCheckpointError,
                                       checkpoint_safe_globals,
                                       load_checkpoint_file,
                                       safe_checkpoint_loader)
from mmlt.utils.checkpoint_conversion import ConversionError
from tiny_runs import REPO, dump, tiny_cls_data, tiny_config

TOOLS = REPO / 'tools'
REFUSED = 'was refused'
OPT_IN = ('--unsafe-load', f'{UNSAFE_LOAD_ENV}=1')


# ------------------------------------------------------------ the payload
class Payload:
    """Unpickled in full, it writes ``marker``: what an attacker's file
    would do with ``os.system``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')", ))


def save_payload(path, marker, checkpoint=None):
    """``checkpoint`` (a valid one, or a small default) with the payload
    in its ``meta``."""
    checkpoint = dict(checkpoint or {'state_dict': {'w': torch.ones(2)}})
    checkpoint['meta'] = dict(checkpoint.get('meta') or {},
                              note=Payload(marker))
    torch.save(checkpoint, path)
    return str(path)


@pytest.fixture
def payload(tmp_path):
    marker = tmp_path / 'payload_ran'
    return save_payload(tmp_path / 'payload.pth', marker), marker


def assert_refused(text, path, marker):
    assert REFUSED in text and str(path) in text, text[-3000:]
    assert 'the global exec, which is not allowed' in text, text[-3000:]
    assert all(o in text for o in OPT_IN), text[-3000:]
    assert not Path(marker).exists(), 'the payload ran'


@pytest.fixture
def mmengine_loader():
    """mmengine's own local loader in place for the test (the state of a
    script that builds a Runner itself), restored afterwards."""
    before = CheckpointLoader._schemes['']
    from mmengine.runner import checkpoint
    CheckpointLoader.register_scheme('', checkpoint.load_from_local,
                                     force=True)
    yield
    CheckpointLoader.register_scheme('', before, force=True)


@pytest.fixture
def safe_loader():
    """What tools/train.py and tools/test.py register, for the test."""
    with safe_checkpoint_loader():
        yield


def test_the_payload_runs_when_unpickled_in_full(payload):
    # the control for every test below: the file is live
    path, marker = payload
    torch.load(path, weights_only=False)
    assert marker.read_text() == 'ran'


def test_refused_by_the_safe_reader(payload):
    path, marker = payload
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_file(path)
    assert_refused(str(info.value), path, marker)
    # the allow-list was there for that read only
    assert not any(g in torch.serialization.get_safe_globals()
                   for g in checkpoint_safe_globals())


# ---------------------------------------------------- tools and the runner
def run(*args, env=None):
    return subprocess.run([sys.executable, *map(str, args)], cwd=REPO,
                          capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))


@pytest.fixture(scope='module')
def cls_data(tmp_path_factory):
    return tiny_cls_data(tmp_path_factory.mktemp('lt_digits'),
                         train_per_class=4)


@pytest.fixture(scope='module')
def stage1(demo, tmp_path_factory):
    """The real stage-1 run of configs/demo/cls_stage1.py (below): its
    config file and checkpoint."""
    runner, checkpoint = demo('cls_stage1')
    return (dump(runner.cfg, tmp_path_factory.mktemp('cfg') / 'stage1.py'),
            checkpoint)


def test_tools_test(stage1, tmp_path):
    config, checkpoint = stage1
    marker = tmp_path / 'ran'
    path = save_payload(tmp_path / 'payload.pth', marker,
                        torch.load(checkpoint, weights_only=False))
    out = run(TOOLS / 'test.py', config, path, '--work-dir', tmp_path / 'w')
    assert out.returncode != 0
    assert 'UnsafeCheckpointError' in out.stderr
    assert_refused(out.stderr, path, marker)
    # the flag opts this command in: the payload runs, the test goes on
    out = run(TOOLS / 'test.py', config, path, '--work-dir', tmp_path / 'w',
              '--unsafe-load')
    assert out.returncode == 0, out.stderr[-3000:]
    assert marker.read_text() == 'ran'
    assert 'unpickling checkpoint' in out.stderr and path in out.stderr


def test_stage2_load_from(cls_data, tmp_path, payload, mmengine_loader):
    path, marker = payload
    cfg = tiny_config('cls_stage2', cls_data, 1, load_from=path,
                      work_dir=str(tmp_path / 'w'))
    out = run(TOOLS / 'train.py', dump(cfg, tmp_path / 'stage2.py'))
    assert out.returncode != 0
    assert_refused(out.stderr, path, marker)
    # DisAlignRunner reads safely by itself, also where no tool registered
    # the safe loader (mmengine's own loader is in place here)
    with pytest.raises(UnsafeCheckpointError) as info:
        RUNNERS.build(cfg).train()
    assert_refused(str(info.value), path, marker)


def test_resume(stage1, tmp_path, payload):
    config, _ = stage1
    path, marker = payload
    out = run(TOOLS / 'train.py', config, '--work-dir', tmp_path / 'w',
              '--resume', path)
    assert out.returncode != 0
    assert_refused(out.stderr, path, marker)


def test_the_environment_variable_opts_in(stage1, tmp_path, payload):
    config, _ = stage1
    path, marker = payload
    # resumed from the payload file: it runs, then mmengine finds no meta
    out = run(TOOLS / 'train.py', config, '--work-dir', tmp_path / 'w',
              '--resume', path, env={UNSAFE_LOAD_ENV: '1'})
    assert marker.read_text() == 'ran'
    assert 'unpickling checkpoint' in out.stderr


def script(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONVERTERS = sorted((TOOLS / 'model_converters').glob('*_to_mmlt.py'))


@pytest.mark.parametrize('converter', CONVERTERS, ids=lambda p: p.stem)
def test_converters(converter, tmp_path):
    marker = tmp_path / 'ran'
    # the layout each converter expects, but no weights: the key checks
    # would fail after loading; the payload must not run before them
    path = save_payload(tmp_path / 'src.pth', marker,
                        dict(state_dict={}, model={}))
    with pytest.raises(UnsafeCheckpointError) as info:
        script(converter).main([path, str(tmp_path / 'dst.pth')])
    assert_refused(str(info.value), path, marker)
    assert not (tmp_path / 'dst.pth').exists()


def test_converter_opt_in(tmp_path, monkeypatch):
    converter = script(TOOLS / 'model_converters' / 'paco_to_mmlt.py')
    marker = tmp_path / 'ran'
    path = save_payload(tmp_path / 'src.pth', marker, dict(state_dict={}))
    for opt_in in (['--unsafe-load'], []):
        if not opt_in:
            monkeypatch.setenv(UNSAFE_LOAD_ENV, '1')
        marker.unlink(missing_ok=True)
        with pytest.warns(UserWarning, match='unpickling checkpoint'), \
                pytest.raises(ConversionError, match='not a PaCo'):
            converter.main([path, str(tmp_path / 'dst.pth'), *opt_in])
        assert marker.read_text() == 'ran'


def test_deit_lt_converter_reads_deit_lt_args_safely(tmp_path):
    """DeiT-LT's main.py saves its argparse.Namespace: allowed for that
    converter only, not by the general allow-list."""
    path = tmp_path / 'args.pth'
    torch.save(dict(model={}, args=argparse.Namespace(class_map=[1, 0])),
               path)
    with pytest.raises(UnsafeCheckpointError, match='Namespace'):
        load_checkpoint_file(path)
    with pytest.raises(ConversionError, match='not a distilled DeiT'):
        script(TOOLS / 'model_converters' / 'deit_lt_to_mmlt.py').main(
            [str(path), str(tmp_path / 'dst.pth')])


def test_deit_lt_teacher(tmp_path, payload, mmengine_loader):
    import mmlt.classification  # noqa: F401
    from mmengine.registry import init_default_scope
    from tiny_models import resnet8_teacher_cfg, tiny_deit_student
    init_default_scope('mmpretrain')
    path, marker = payload
    model = tiny_deit_student(
        dict(config=resnet8_teacher_cfg(), checkpoint=path))
    with pytest.raises(UnsafeCheckpointError) as info:
        model.init_weights()
    assert_refused(str(info.value), path, marker)


def test_plot_calibration(cls_data, tmp_path, payload):
    path, marker = payload
    plot = script(TOOLS / 'analysis' / 'plot_class_accuracy.py')
    with pytest.raises(UnsafeCheckpointError) as info:
        plot.main(['calibration', path, '--frequency',
                   str(cls_data / 'image_frequency.json'), '-o',
                   str(tmp_path / 'c.png')])
    assert_refused(str(info.value), path, marker)


IMPORT_AND_LOAD = '''
import sys
import torch
import mmlt, mmlt.classification, mmlt.detection, mmlt.segmentation
from mmengine.runner import checkpoint, load_checkpoint
assert checkpoint.CheckpointLoader._schemes[''] is checkpoint.load_from_local
try:
    load_checkpoint(torch.nn.Linear(2, 2), sys.argv[1])
except Exception as e:
    print('REFUSED', type(e).__name__)
'''


def test_importing_mmlt_leaves_mmengine_loading_safe(payload):
    path, marker = payload
    out = run('-c', IMPORT_AND_LOAD, path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'REFUSED UnpicklingError' in out.stdout, out.stdout
    assert not marker.exists(), 'the payload ran'


# ------------------------------------------ the allow-list, and only that
def test_getattr_is_allowed_for_history_buffer_statistics_only(tmp_path):
    from mmengine.logging.history_buffer import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(1.5)
    ok = tmp_path / 'ok.pth'
    torch.save({'b': buffer}, ok)
    assert load_checkpoint_file(ok)['b'].statistics('mean') == 1.5

    class Sneaky:  # pickles as getattr(HistoryBuffer, '__init__')
        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__init__'))

    bad = tmp_path / 'bad.pth'
    torch.save({'b': Sneaky()}, bad)
    with pytest.raises(UnsafeCheckpointError, match=r"'__init__'.*"
                       r'statistics methods'):
        load_checkpoint_file(bad)


def globals_in(path) -> set:
    """Every GLOBAL a torch checkpoint's pickle names."""
    with zipfile.ZipFile(path) as archive:
        [name] = [n for n in archive.namelist() if n.endswith('data.pkl')]
        data = archive.read(name)
    return {arg.replace(' ', '.') for op, arg, _ in pickletools.genops(data)
            if op.name == 'GLOBAL'}


# ------------------------------------------- real checkpoints of the demos
def quick(cfg):
    """No validation, no worker processes, quiet."""
    cfg.log_level = 'WARNING'
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    for loader in ('train_dataloader', 'test_dataloader'):
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    return cfg


def tiny_dense(name, data_root, work_dir, **extra):
    """configs/demo/{det,seg}_*.py on a few images, 2 iterations."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'demo' / f'{name}.py'))
    cfg.work_dir = str(work_dir)
    for loader in ('train_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
        cfg[loader].batch_size = 2
    cfg.train_dataloader.dataset.indices = 4
    if name.startswith('det'):
        cfg.test_evaluator.ann_file = \
            data_root + 'annotations/lvis_v1_val.json'
        head = cfg.model.roi_head.bbox_head
        if head.loss_cls.type == 'GRWKLLoss':
            head.loss_cls.frequency_file = \
                data_root + 'lvis_v1_train_frequency.json'
    else:
        freq = data_root + 'pixel_frequency.json'
        cfg.test_evaluator.frequency_file = freq
        if cfg.model.decode_head.loss_decode.type == 'GRWKLLoss':
            cfg.model.decode_head.loss_decode.frequency_file = freq
    cfg.train_cfg.max_iters = 2
    cfg.default_hooks.checkpoint.interval = 2
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0,
                                by_epoch=False, begin=0, end=2)]
    cfg.merge_from_dict(extra)
    return quick(cfg)


# every demo that writes checkpoints (the post-hoc baselines train nothing)
DEMOS = [p.stem for p in sorted((REPO / 'configs' / 'demo').glob('*.py'))
         if not any(m in p.stem for m in ('logit-adjustment', 'tau-norm'))]


def needs(name):
    """The demo whose checkpoint ``name`` loads: a stage 2 (DisAlign, cRT,
    LWS) the stage 1 of its ``load_from``, the DeiT-LT student its
    teacher."""
    if name == 'deit_student':
        return 'deit_teacher'
    load_from = Config.fromfile(
        str(REPO / 'configs' / 'demo' / f'{name}.py')).get('load_from')
    # the stage-1 run's work dir, work_dirs/<stage-1 config>
    return Path(load_from).name if load_from else None


@pytest.fixture(scope='module')
def demo(cls_data, lt_digits_det, lt_digits_seg, tmp_path_factory):
    """``demo(name)``: configs/demo/<name>.py trained for a moment (once per
    module) as the tools do, in a process where only mmlt's safe loader
    reads checkpoints: (runner, checkpoint)."""
    done = {}

    def train(name):
        if name in done:
            return done[name]
        work_dir = tmp_path_factory.mktemp(name)
        extra = {}
        if needs(name):
            _, needed = train(needs(name))
            extra = (dict(model=dict(teacher=dict(checkpoint=str(needed))))
                     if name == 'deit_student' else
                     dict(load_from=str(needed)))
        if name.startswith(('det', 'seg')):
            cfg = tiny_dense(name, lt_digits_det if name.startswith('det')
                             else lt_digits_seg, work_dir, **extra)
        else:
            cfg = tiny_config(name, cls_data, 1, work_dir=str(work_dir),
                              **extra)
            quick(cfg)
            if name == 'deit_student':
                cfg.model.teacher.config = str(
                    REPO / 'configs' / 'demo' / 'deit_teacher.py')
        with safe_checkpoint_loader():
            runner = (RUNNERS.build(cfg) if 'runner_type' in cfg else
                      Runner.from_cfg(cfg))
            runner.train()
        [checkpoint] = sorted(Path(work_dir).glob('*.pth'))
        done[name] = runner, checkpoint
        return done[name]

    return train


EXPECTED_GLOBALS = {
    'mmengine.logging.history_buffer.HistoryBuffer', 'builtins.getattr',
    'numpy._core.multiarray._reconstruct', 'numpy._core.multiarray.scalar',
    'numpy.ndarray', 'numpy.dtype'}


@pytest.mark.parametrize('name', DEMOS)
def test_real_checkpoints_of_every_demo_config_load(name, demo, safe_loader):
    runner, checkpoint = demo(name)
    ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
    assert ckpt['state_dict'] and ckpt['message_hub']['log_scalars']
    # mmlt's RNG state is plain data (no numpy uint32 array)
    numpy_state = ckpt['rng_state'][0]['numpy']
    assert isinstance(numpy_state[1], list) and len(numpy_state[1]) == 624
    # --resume through the runner's loading path
    runner.resume(str(checkpoint))
    # what the file names besides torch's own types: the allow-list
    from torch._weights_only_unpickler import _get_allowed_globals
    extra = {g.replace('__builtin__.', 'builtins.')
             for g in globals_in(checkpoint)} - set(_get_allowed_globals())
    assert extra <= EXPECTED_GLOBALS, extra - EXPECTED_GLOBALS
    # ... without which plain torch refuses them
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(checkpoint, weights_only=True)


# ------------------------------------------------ errors that name the file
@pytest.mark.parametrize('content, match', [
    (b'', r'is empty \(0 bytes\)'),
    (bytes(range(7, 256)) * 3, r'\(747 bytes\) cannot be read: it is '
     'truncated, corrupt or not a file written by torch.save'),
    ('truncated', 'cannot be read: it is truncated'),
], ids=['empty', 'random bytes', 'truncated'])
def test_unreadable_checkpoint_names_the_file(content, match, tmp_path,
                                              safe_loader):
    path = tmp_path / 'bad.pth'
    if content == 'truncated':
        torch.save({'w': torch.ones(100)}, path)
        content = path.read_bytes()[:200]
    path.write_bytes(content)
    with pytest.raises(CheckpointLoadError, match=match) as info:
        load_checkpoint_file(path)
    assert str(path) in str(info.value)
    assert not isinstance(info.value, UnsafeCheckpointError)
    # the same through mmengine's loader, as the tools register it
    from mmengine.runner import load_checkpoint
    with pytest.raises(CheckpointLoadError, match=match):
        load_checkpoint(torch.nn.Linear(2, 2), str(path))


def test_frequency_file_count_overflow_names_the_file(tmp_path):
    import json

    from mmlt.core.frequency import ClassFrequency
    good = tmp_path / 'good.json'
    ClassFrequency.from_counts(['a', 'b'], [10, 1], 'images').save(good)
    data = json.loads(good.read_text())
    data['counts'][0] = 10**400
    bad = tmp_path / 'huge_count.json'
    bad.write_text(json.dumps(data))
    with pytest.raises(OverflowError, match=r'huge_count\.json: "counts"\[0\] '
                       'is a 401-digit number'):
        ClassFrequency.load(bad)
    # without the check, the counts overflow later, naming no file
    with pytest.raises(OverflowError) as info:
        ClassFrequency(**{k: data[k] for k in (
            'classes', 'counts', 'kind', 'split')}).counts_array()
    assert 'huge_count' not in str(info.value)
    text = json.dumps(data).replace(str(10**400), '9' * 5000)
    for content in ('', '\x00garbage', '[' * 10**5 + ']' * 10**5, text):
        bad.write_text(content)
        with pytest.raises(ValueError, match=r'huge_count\.json is not '
                           'valid JSON'):
            ClassFrequency.load(bad)


class ScalarNet(BaseModel):
    """loss = w * x: NaN where x is."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))

    def forward(self, inputs, mode='tensor'):
        out = self.w * inputs
        return dict(loss=out.mean()) if mode == 'loss' else out


def nan_run(work_dir, values):
    return Runner(
        model=ScalarNet(), work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=[dict(inputs=torch.tensor([v])) for v in values],
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'), batch_size=1,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        custom_hooks=[dict(type='FiniteLossHook')],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           by_epoch=False, interval=1)),
        log_level='WARNING', default_scope=None)


@pytest.mark.parametrize('values, newest', [
    ([float('nan'), 1.0], None),
    ([1.0, 1.0, float('nan')], 'iter_2.pth'),
])
def test_finite_loss_message_names_a_checkpoint_only_if_there_is_one(
        tmp_path, values, newest):
    with pytest.raises(FloatingPointError) as info:
        nan_run(tmp_path, values).train()
    message = str(info.value)
    if newest is None:
        assert not list(tmp_path.glob('*.pth'))
        assert 'this run has written no checkpoint yet' in message
        assert 'from before' not in message
    else:
        assert (f'the newest checkpoint, {tmp_path / newest}, is from '
                'before') in message
