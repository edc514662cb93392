"""Cost of DisAlign stage 2 and of the calibrated head, classification.

Side by side in one run, on the CPU, same network, weights and batch:

1. Training step, stage 2 / stage 1 (targets: time <= 0.5x, memory <=
   0.6x). Stage 1: mmpretrain's ImageClassifier with the stock
   ``LinearClsHead`` and CE, everything trainable, BN in train mode. Stage 2:
   the same network with ``DisAlignLinearClsHead`` and ``GRWKLLoss``, frozen
   and BN kept in eval mode by mmlt's stage-2 functions (what
   ``DisAlignRunner`` applies). A step is preprocessing + forward + loss +
   backward + SGD-momentum update; data loading is not included (it is the
   same in both stages and adds the same time to an epoch of each).
   Memory, two measures:
   * peak memory: each stage builds its model and runs 3 steps in a fresh
     subprocess; a thread samples the process's anonymous resident memory
     (``RssAnon``: heap, without the pages of torch's code) every 0.5 ms;
     peak minus the value after the imports = weights + batch + gradients
     + optimizer state + activations (the CPU analogue of CUDA's
     ``max_memory_allocated``; the allocator's free lists included);
   * saved activations: bytes of the tensors autograd keeps for backward
     (``saved_tensors_hooks``, each storage counted once, parameters
     excluded) plus gradient and momentum buffers of the trainable
     parameters: the training state proper, without the weights.
2. Inference, calibrated / stock model (target: overhead <= 3%): the
   whole network's forward to logits in eval mode, both models timed in
   alternation; the head alone is shown too.

    python benchmarks/cls_stage2_cost.py [--arch resnet50] [--img-size 224]
        [--batch-size 8] [--steps 5] [--repeats 15]

Timings on a shared CPU are noisy: both sides run in alternation (they see
the same load) and each time is the fastest of its runs.
"""
import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ARCHS = {
    # backbone, feature channels, classes, default image size
    'resnet50': (dict(type='ResNet', depth=50), 2048, 1000, 224),
    'resnext50': (dict(type='ResNeXt', depth=50, groups=32,
                       width_per_group=4), 2048, 1000, 224),
    'resnet32-cifar': (dict(type='CifarResNet', depth=32), 64, 100, 32),
}


def anon_rss_bytes() -> int:
    """Anonymous resident memory of this process (heap: tensors, buffers);
    file-backed pages such as the code of torch's libraries excluded."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('RssAnon:'):
                return int(line.split()[1]) * 1024
    raise RuntimeError('no RssAnon in /proc/self/status (Linux only)')


class PeakSampler:
    """Largest ``anon_rss_bytes()`` seen while the block runs, sampled by a
    thread (torch releases the GIL in its kernels)."""

    def __enter__(self):
        self.peak = anon_rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, anon_rss_bytes())
            time.sleep(0.0005)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, anon_rss_bytes())


def build(arch: str, stage: int):
    import mmlt.classification  # noqa: F401  (registers the components)
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    backbone, channels, classes, _ = ARCHS[arch]
    if stage == 1:
        head = dict(type='LinearClsHead', loss=dict(type='CrossEntropyLoss'))
    else:
        counts = [int(1280 * 0.004**(i / (classes - 1)))
                  for i in range(classes)]
        head = dict(type='DisAlignLinearClsHead',
                    loss=dict(type='GRWKLLoss', class_counts=counts, rho=1.2))
    model = MODELS.build(
        dict(type='ImageClassifier',
             backbone=backbone,
             neck=dict(type='GlobalAveragePooling'),
             head=dict(num_classes=classes, in_channels=channels, **head),
             data_preprocessor=dict(
                 num_classes=classes, mean=[123.675, 116.28, 103.53],
                 std=[58.395, 57.12, 57.375], to_rgb=True)))
    # PyTorch's default init: the values do not matter for a cost
    # measurement, and mmengine's init_weights logs every parameter.
    return model


def make_batch(arch: str, size: int, batch_size: int):
    from mmpretrain.structures import DataSample
    classes = ARCHS[arch][2]
    gen = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8,
                            generator=gen) for _ in range(batch_size)]
    samples = [DataSample().set_gt_label(int(i) % classes)
               for i in range(batch_size)]
    return dict(inputs=inputs, data_samples=samples)


def trainer(arch: str, stage: int, batch, source=None):
    """A model ready to train for ``stage`` and its step function."""
    from mmlt.engine import freeze_except_calibration, keep_norm_layers_in_eval
    model = build(arch, stage)
    if source is not None:  # same weights in both stages
        model.load_state_dict(source.state_dict(), strict=False)
    if stage == 2:
        freeze_except_calibration(model)
        keep_norm_layers_in_eval(model)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        optim.zero_grad(set_to_none=True)
        data = model.data_preprocessor(batch, True)
        losses = model(**data, mode='loss')
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        optim.step()

    return model, params, step


def saved_bytes(model, params, step) -> int:
    """Autograd-saved activation bytes of one step (parameters excluded)
    plus gradient and momentum bytes of the trainable parameters."""
    param_ptrs = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in param_ptrs:
            seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        step()
    state = sum(2 * p.numel() * p.element_size() for p in params)
    return sum(seen.values()) + state


def worker(args) -> None:
    """One stage in a fresh process: print its memory as JSON."""
    import mmlt.classification  # noqa: F401  (imports before the baseline)
    import mmlt.engine  # noqa: F401
    from mmpretrain.structures import DataSample  # noqa: F401
    base = anon_rss_bytes()
    with PeakSampler() as sampler:
        model, params, step = trainer(args.arch, args.worker,
                                      make_batch(args.arch, args.img_size,
                                                 args.batch_size))
        for _ in range(3):
            step()
    print(json.dumps(dict(peak=sampler.peak - base,
                          saved=saved_bytes(model, params, step))))


def memory(args, stage: int) -> dict:
    cmd = [sys.executable, __file__, '--worker', str(stage), '--arch',
           args.arch, '--img-size', str(args.img_size), '--batch-size',
           str(args.batch_size)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def alternate(fns, repeats: int):
    """Seconds of each function, run in alternation: the fastest of
    ``repeats`` runs, the least disturbed by other processes."""
    times = [[] for _ in fns]
    for fn in fns:  # warm-up
        fn()
    for _ in range(repeats):
        for t, fn in zip(times, fns):
            start = time.perf_counter()
            fn()
            t.append(time.perf_counter() - start)
    return [min(t) for t in times]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', choices=sorted(ARCHS), default='resnet50')
    parser.add_argument('--img-size', type=int)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--steps', type=int, default=5,
                        help='timed training steps per stage')
    parser.add_argument('--repeats', type=int, default=15,
                        help='timed inference runs per model')
    parser.add_argument('--worker', type=int, choices=[1, 2],
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.img_size = args.img_size or ARCHS[args.arch][3]
    if args.worker:
        worker(args)
        return
    batch = make_batch(args.arch, args.img_size, args.batch_size)
    print(f'{args.arch}, {args.img_size}x{args.img_size}, batch '
          f'{args.batch_size}, torch {torch.__version__}, '
          f'{torch.get_num_threads()} threads')

    # 1. training step
    stage1, _, step1 = trainer(args.arch, 1, batch)
    stage2, _, step2 = trainer(args.arch, 2, batch, source=stage1)
    t1, t2 = alternate([step1, step2], args.steps)
    m1, m2 = memory(args, 1), memory(args, 2)
    mib = 2**20
    rows = [('step time (s)', t1, t2, 0.5),
            ('peak memory (MiB)', m1['peak'] / mib, m2['peak'] / mib, 0.6),
            ('saved activations + grads + momentum (MiB)', m1['saved'] / mib,
             m2['saved'] / mib, None)]
    print(f'\n{"training step":<44} {"stage 1":>10} {"stage 2":>10} '
          f'{"ratio":>7}  target')
    for name, a, b, target in rows:
        verdict = '' if target is None else (
            f'<= {target}x ' + ('ok' if b / a <= target else 'MISSED'))
        print(f'{name:<44} {a:>10.3f} {b:>10.3f} {b / a:>7.3f}  {verdict}')

    # 2. inference: same weights, eval mode
    stock = build(args.arch, 1)
    calibrated = build(args.arch, 2)
    calibrated.load_state_dict(stock.state_dict(), strict=False)
    stock.eval()
    calibrated.eval()
    inputs = stock.data_preprocessor(batch, False)['inputs']
    with torch.no_grad():
        feats = stock.neck(stock.backbone(inputs))
        assert torch.equal(stock.head(feats), calibrated.head(feats))
        full = alternate([lambda: stock(inputs, mode='tensor'),
                          lambda: calibrated(inputs, mode='tensor')],
                         args.repeats)
        head = alternate([lambda: stock.head(feats),
                          lambda: calibrated.head(feats)],
                         max(args.repeats, 50))
    print(f'\n{"inference (eval, no grad)":<44} {"stock":>10} '
          f'{"DisAlign":>10} {"ratio":>7}  target')
    overhead = full[1] / full[0]
    print(f'{"whole model forward (ms)":<44} {1e3 * full[0]:>10.2f} '
          f'{1e3 * full[1]:>10.2f} {overhead:>7.3f}  <= 1.03x '
          + ('ok' if overhead <= 1.03 else 'MISSED'))
    print(f'{"head only (ms)":<44} {1e3 * head[0]:>10.3f} '
          f'{1e3 * head[1]:>10.3f} {head[1] / head[0]:>7.3f}')


if __name__ == '__main__':
    main()
