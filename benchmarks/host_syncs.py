"""Host-device synchronisations in a training step, and which of them mmlt
adds. Runs a few training steps of tiny models under ``torch.profiler``
(with Python stacks) and lists every op that, on a GPU, makes the host wait
for the device, with the innermost Python frame inside mmlt that called it
(or, when mmlt did not, the innermost frame: mmengine's, a toolbox's).

    python benchmarks/host_syncs.py            # CPU; exit status 1 if mmlt adds one
    python benchmarks/host_syncs.py --device cuda   # also torch's sync debug mode

Counted ops: a scalar read to the host (``aten::_local_scalar_dense``:
``.item()``, ``float(t)``, ``bool(t)``, ``if t:``), ``aten::equal`` (a
Python bool), and ops whose output size depends on the values
(``nonzero``, boolean-mask indexing, ``masked_select``, ``unique``,
``bincount``, ``repeat_interleave``). On a CPU these ops cost nothing
special, but they appear in the profile as they would on a GPU. Not seen on
a CPU: blocking host-to-device copies (``cpu_tensor.to(cuda)``), which wait
for the GPU too; ``--device cuda`` catches those with
``torch.cuda.set_sync_debug_mode('warn')``. A read under
``torch._assert_async`` is not counted: on a GPU that assertion is
asynchronous (its CPU implementation reads the value).

Models (the steps of ``model.train_step``, as mmengine's loop runs them,
then ``FiniteLossHook.after_train_iter`` after ``RuntimeInfoHook`` as in a
runner): a DisAlign stage 2 for each toolbox (classification on a CIFAR
ResNet-8, the demo segmentation FCN, the demo detection Mask R-CNN) and a
DeiT-LT student with its teacher, before and after DRW.
"""
import argparse
import collections
import copy
import os.path as osp
import sys
import tempfile
import warnings
from types import SimpleNamespace

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'benchmarks'))

MMLT = osp.join(ROOT, 'mmlt') + osp.sep

SYNC_OPS = {
    'aten::_local_scalar_dense', 'aten::equal', 'aten::nonzero',
    'aten::masked_select', 'aten::_unique2', 'aten::unique_dim',
    'aten::unique_consecutive', 'aten::bincount', 'aten::repeat_interleave',
}
ASYNC_PARENTS = {'aten::_assert_async'}


def _frames(event):
    """The Python frames above a profiler event, innermost first."""
    parent = event.cpu_parent
    while parent is not None:
        if not parent.name.startswith(('aten::', '<built-in')):
            yield parent.name
        parent = parent.cpu_parent


def _ancestors(event):
    parent = event.cpu_parent
    while parent is not None:
        yield parent.name
        parent = parent.cpu_parent


def _in_mmlt(frame: str) -> bool:
    """Whether a profiler frame ('path(line): function'; the path shown
    relative to its ``sys.path`` entry) is in the mmlt package."""
    path = frame.split('(')[0]
    return path.startswith(MMLT) or path.startswith('mmlt' + osp.sep)


def host_syncs(fn):
    """Run ``fn`` under the profiler; return a Counter of
    ``(op, origin, in_mmlt)``: origin the innermost mmlt frame, else the
    innermost Python frame."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], with_stack=True) as prof:
        fn()
    found = collections.Counter()
    for event in prof.events():
        if event.name not in SYNC_OPS:
            continue
        if ASYNC_PARENTS & set(_ancestors(event)):
            continue
        # nested sync ops (item inside is_nonzero...) are one sync
        if any(a in SYNC_OPS for a in _ancestors(event)):
            continue
        frames = list(_frames(event))
        ours = [f for f in frames if _in_mmlt(f)]
        if ours:
            origin = ours[0].replace(ROOT + osp.sep, '')
        else:
            origin = frames[0] if frames else '?'
            origin = origin.replace(sys.prefix, '<python>')
        found[(event.name.replace('aten::', ''), origin, bool(ours))] += 1
    return found


class _Iteration:
    """``train_step`` and the hooks mmlt adds, as mmengine's loop calls
    them: RuntimeInfoHook (reads every loss to the host) before
    FiniteLossHook."""

    def __init__(self, model, optim, data):
        from mmengine.logging import MessageHub

        from mmlt.engine.hooks import FiniteLossHook
        self.model, self.optim, self.data = model, optim, data
        self.hub = MessageHub.get_instance(f'host_syncs_{id(self)}')
        self.runner = SimpleNamespace(message_hub=self.hub, iter=0)
        self.finite = FiniteLossHook()

    def __call__(self):
        self.finite.before_train_iter(self.runner, 0, self.data)
        outputs = self.model.train_step(copy.copy(self.data), self.optim)
        # RuntimeInfoHook.after_train_iter (priority VERY_HIGH: before
        # FiniteLossHook), without its runner bookkeeping
        for key, value in outputs.items():
            self.hub.update_scalar(f'train/{key}', value)
        self.finite.after_train_iter(self.runner, 0, self.data, outputs)
        self.runner.iter += 1


def _args(device, **kw):
    return SimpleNamespace(device=device, amp='fp32', **kw)


def cls_stage2(device):
    import cls_stage2_cost as bench
    args = _args(device, arch='resnet32-cifar')
    bench.ARCHS['resnet8-cifar'] = (dict(type='CifarResNet', depth=8), 64,
                                    10, 32)
    args.arch = 'resnet8-cifar'
    model, optim = bench.trainer(args, 2)
    return _Iteration(model, optim, bench.make_batch(args.arch, 32, 4))


def seg_stage2(device):
    import seg_stage2_cost as bench
    args = _args(device)
    model, optim, classes = bench.build(
        osp.join(ROOT, 'configs/demo/seg_stage2.py'), args)
    model.train()
    return _Iteration(model, optim, bench.batch(2, 64, classes, device))


def det_stage2(device):
    import det_stage2_cost as bench
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    args = _args(device, model='demo', cosine=False, size=512)
    cfg1, cfg2, dataset_cfg = bench.configs(args, bench.data_root())
    (_, _), (model, optim) = bench.build_pair(cfg1, cfg2, args)
    return _Iteration(model, optim, bench.load_batch(dataset_cfg, 2))


def deit_student(device, drw):
    import deit_distill_cost as bench
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    args = _args(device, student='demo', size=32, patch=4)
    from mmpretrain.registry import MODELS
    with tempfile.TemporaryDirectory(prefix='host_syncs_') as tmp:
        ckpt = osp.join(tmp, 'teacher.pth')
        torch.save(dict(state_dict=MODELS.build(bench.teacher_cfg(8))
                        .state_dict()), ckpt)
        teacher = dict(config=bench.teacher_cfg(8), checkpoint=ckpt,
                       img_size=32)
        # init_weights() loads the teacher: the file is not needed after
        model, optim = bench.build(bench.student_cfg(teacher, args), args)
    if drw:
        model.set_drw(True)
        model.head.set_drw(True)
    return _Iteration(model, optim, bench.batch(8, 32))


MODELS_TO_CHECK = {
    'classification stage 2': cls_stage2,
    'segmentation stage 2': seg_stage2,
    'detection stage 2': det_stage2,
    'DeiT-LT student + teacher': lambda d: deit_student(d, drw=False),
    'DeiT-LT student + teacher, DRW': lambda d: deit_student(d, drw=True),
}


def check(name, device, steps=3):
    """Counter of the syncs of ``steps`` iterations (after one untimed)."""
    iteration = MODELS_TO_CHECK[name](device)
    iteration()  # first-step work (lazy init, caches) is not per iteration

    def run():
        for _ in range(steps):
            iteration()

    found = host_syncs(run)
    if device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode('warn')
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            run()
            torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode('default')
        for warning in caught:
            if 'synchroniz' in str(warning.message):
                found[('cuda sync', str(warning.message)[:80], False)] += 1
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--only', choices=list(MODELS_TO_CHECK),
                        action='append')
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings('ignore', category=UserWarning)
    from mmengine.logging import MMLogger
    MMLogger.get_instance('host_syncs', log_level='WARNING')
    ours_total = 0
    for name in args.only or MODELS_TO_CHECK:
        found = check(name, args.device, args.steps)
        ours = {k: v for k, v in found.items() if k[2]}
        ours_total += sum(ours.values())
        print(f'{name}: {args.steps} iterations, '
              f'{sum(found.values())} host reads, '
              f'{sum(ours.values())} from mmlt')
        for (op, origin, in_mmlt), count in sorted(
                found.items(), key=lambda kv: (not kv[0][2], -kv[1])):
            where = 'mmlt ' if in_mmlt else 'other'
            print(f'  {where} {count / args.steps:6.1f}/iter  {op:22} '
                  f'{origin}')
    print('mmlt adds no host-device synchronisation per iteration'
          if not ours_total else
          f'mmlt adds {ours_total} host reads: see above')
    sys.exit(1 if ours_total else 0)


if __name__ == '__main__':
    main()
