"""What DisAlign costs in detection: stage-2 training and calibrated inference.

Measured side by side in one process, on the same batch of LT-Digits
images, interleaving the two variants so that load from other processes
hits both alike (medians over the rounds):

1. Training iteration (``train_step``: forward, loss, backward, SGD step) of
   DisAlign stage 2 (everything frozen but the calibration, normalisation
   layers in eval mode, as ``DisAlignRunner`` sets it up) vs stage 1 of the
   same Mask R-CNN. Targets: time <= 0.5x, peak memory <= 0.6x.
2. Inference (``test_step``: boxes, scores and masks) with the calibrated
   RoI classifier vs the stock one. Target: overhead <= 3%. Also the RoI
   classifier alone (``fc_cls`` on the RoI features), for scale.

Memory is measured two ways, both over one training step:

* peak: the highest total of tensor bytes allocated during the step above
  what was live before it (torch.profiler's CPU allocator events); this is
  what a GPU's ``max_memory_allocated`` would show over the step's start;
* saved: bytes of the tensors autograd saves for backward (distinct
  storages, ``torch.autograd.graph.saved_tensors_hooks``): the activation
  memory that training keeps alive until the backward pass.

Models:

* ``--model demo`` (default): the LT-Digits demo Mask R-CNN
  (configs/demo/det_stage1.py / det_stage2.py), 96 px canvases.
* ``--model lvis-r50``: the LVIS v1 Mask R-CNN R50-FPN of
  configs/lvis/mask-rcnn_disalign.py (1203 classes, dot-product or, with
  ``--cosine``, cosine classifier) on LT-Digits canvases resized to
  ``--size`` (default 512), with made-up long-tailed class counts. Slow on
  a CPU (seconds per step).

    python benchmarks/det_stage2_cost.py [--model demo|lvis-r50] \
        [--rounds 10] [--batch 8] [--size 512] [--threads 1]

Uses data/lt_digits/det when it is there, else writes LT-Digits to a
temporary folder.
"""
import argparse
import copy
import os.path as osp
import statistics
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmlt.engine import apply_compat  # noqa: E402

apply_compat()

from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import mmlt.detection  # noqa: E402,F401
from mmlt.core.calibration import calibration_modules  # noqa: E402
from mmlt.engine import (freeze_except_calibration,  # noqa: E402
                         keep_norm_layers_in_eval)

DEMO_DATA = osp.join(ROOT, 'data/lt_digits/det/')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model', choices=['demo', 'lvis-r50'],
                        default='demo')
    parser.add_argument('--cosine', action='store_true',
                        help='lvis-r50: the cosine (DisAlign*) classifier')
    parser.add_argument('--rounds', type=int, default=10,
                        help='timed rounds (each runs both variants)')
    parser.add_argument('--batch', type=int, default=None,
                        help='images per step (default: 8 demo, 2 lvis-r50)')
    parser.add_argument('--size', type=int, default=512,
                        help='lvis-r50: image side in pixels')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (default 1: steadier timings on '
                        'a shared machine)')
    return parser.parse_args()


def data_root():
    if osp.isfile(osp.join(DEMO_DATA, 'annotations/lvis_v1_train.json')):
        return DEMO_DATA
    from mmlt.lt_digits import make_lt_digits
    tmp = tempfile.mkdtemp(prefix='lt_digits_')
    make_lt_digits(tmp, tasks=('det', ))
    return osp.join(tmp, 'det/')


def bbox_heads(model_cfg):
    heads = model_cfg.roi_head.bbox_head
    return heads if isinstance(heads, list) else [heads]


def configs(args, root):
    """Stage-1 and stage-2 configs, data pointed at ``root``, G-RW counts
    inline (no frequency file needed)."""
    if args.model == 'demo':
        cfg1 = Config.fromfile(osp.join(ROOT, 'configs/demo/det_stage1.py'))
        cfg2 = Config.fromfile(osp.join(ROOT, 'configs/demo/det_stage2.py'))
        counts = [200, 119, 71, 43, 25, 15, 9, 5, 3, 2]
        pipeline = cfg1.train_pipeline
    else:
        cfg2 = Config.fromfile(
            osp.join(ROOT, 'configs/lvis/mask-rcnn_disalign.py'))
        if args.cosine:
            cfg2 = Config.fromfile(osp.join(
                ROOT, 'configs/lvis/'
                'mask-rcnn_r50_fpn_disalign-cosine_9k_lvis-v1.py'))
        cfg1 = copy.deepcopy(cfg2)
        for head in bbox_heads(cfg1.model):
            head.cls_predictor_cfg = dict(
                type='CosineLinear') if args.cosine else dict(type='Linear')
            head.loss_cls = dict(type='CrossEntropyLoss', use_sigmoid=False,
                                 loss_weight=1.0)
        counts = np.maximum(
            1, 1000 * 0.001**(np.arange(1203) / 1202)).astype(int).tolist()
        pipeline = [
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
            dict(type='Resize', scale=(args.size, args.size),
                 keep_ratio=True),
            dict(type='PackDetInputs')
        ]
    for cfg in (cfg1, cfg2):
        cfg.model.backbone.init_cfg = None
        for head in bbox_heads(cfg.model):
            if head.loss_cls.get('type') == 'GRWKLLoss':
                head.loss_cls.pop('frequency_file', None)
                head.loss_cls.class_counts = counts
    dataset = dict(
        type='LVISV1Dataset',
        data_root=root,
        ann_file='annotations/lvis_v1_train.json',
        data_prefix=dict(img=''),
        metainfo=dict(classes=tuple(f'digit_{i}' for i in range(10))),
        pipeline=pipeline)
    return cfg1, cfg2, dataset


def build_pair(cfg1, cfg2):
    from mmdet.registry import MODELS
    torch.manual_seed(0)
    stage1 = MODELS.build(cfg1.model)
    stage1.init_weights()
    stage2 = MODELS.build(cfg2.model)
    stage2.init_weights()
    missing, unexpected = stage2.load_state_dict(
        stage1.state_dict(), strict=False)
    assert all('calibration' in k for k in missing), missing
    assert not unexpected, unexpected
    freeze_except_calibration(stage2)
    keep_norm_layers_in_eval(stage2)
    stage1.train()
    stage2.train()
    optim = dict(type='OptimWrapper',
                 optimizer=dict(type='SGD', lr=1e-4, momentum=0.9,
                                weight_decay=1e-4))
    return ((stage1, build_optim_wrapper(stage1, optim)),
            (stage2, build_optim_wrapper(stage2, optim)))


def load_batch(dataset_cfg, batch_size):
    from mmdet.registry import DATASETS
    dataset = DATASETS.build(dataset_cfg)
    # canvases with several digits: a representative number of RoIs
    items = sorted(range(len(dataset)),
                   key=lambda i: -len(dataset.get_data_info(i)['instances']))
    return pseudo_collate([dataset[i] for i in items[:batch_size]])


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(fn_a, fn_b, rounds):
    """Time ``fn_a`` and ``fn_b`` back to back, ``rounds`` times, the order
    alternating (so neither always runs on the other's caches)."""
    times_a, times_b = [], []
    for i in range(rounds):
        if i % 2:
            times_b.append(timed(fn_b))
            times_a.append(timed(fn_a))
        else:
            times_a.append(timed(fn_a))
            times_b.append(timed(fn_b))
    return times_a, times_b


def peak_bytes(fn):
    """Peak of the bytes allocated (minus freed) during ``fn``."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = [e for e in prof.profiler.kineto_results.events()
              if e.name() == '[memory]' and e.device_type().name == 'CPU']
    events.sort(key=lambda e: e.start_ns())
    live = np.cumsum([e.nbytes() for e in events])
    return int(max(live.max(initial=0), 0))


def saved_bytes(fn):
    """Bytes of the distinct storages autograd saves for backward."""
    storages = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(storages.values())


def median_ratio(times_a, times_b):
    return statistics.median(times_a) / statistics.median(times_b)


def paired_ratio(times_a, times_b):
    """Median of the per-round ratios: each pair ran back to back, under
    about the same load from other processes."""
    return statistics.median(a / b for a, b in zip(times_a, times_b))


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    # the current logger: keeps init_weights' per-parameter report quiet
    MMLogger.get_instance('det_stage2_cost', log_level='WARNING')
    init_default_scope('mmdet')
    root = data_root()
    cfg1, cfg2, dataset_cfg = configs(args, root)
    batch_size = args.batch or (8 if args.model == 'demo' else 2)
    batch = load_batch(dataset_cfg, batch_size)
    (m1, o1), (m2, o2) = build_pair(cfg1, cfg2)
    n1 = sum(p.numel() for p in m1.parameters() if p.requires_grad)
    n2 = sum(p.numel() for p in m2.parameters() if p.requires_grad)
    print(f'model: {args.model}{" (cosine)" if args.cosine else ""}, '
          f'batch {batch_size}, {torch.get_num_threads()} threads; '
          f'trainable parameters: stage 1 {n1:,}, stage 2 {n2:,}')

    def step(model, optim):
        return lambda: model.train_step(copy.copy(batch), optim)

    # Training: warm up, then interleave the two variants.
    for _ in range(2):
        step(m1, o1)()
        step(m2, o2)()
    t1, t2 = interleaved(step(m1, o1), step(m2, o2), args.rounds)
    peak1, peak2 = peak_bytes(step(m1, o1)), peak_bytes(step(m2, o2))
    saved1, saved2 = saved_bytes(step(m1, o1)), saved_bytes(step(m2, o2))

    # Inference: the stock classifier (stage 1) vs the calibrated one, on
    # the same weights. The training rounds above changed all of stage 1 but
    # only stage 2's calibration, so stage 2 takes stage 1's weights and an
    # identity calibration: both detect exactly the same boxes and masks, and
    # the ratio is the calibration's compute, not a different number of
    # detections to post-process.
    m2.load_state_dict(m1.state_dict(), strict=False)
    with torch.no_grad():
        for _, calibration in calibration_modules(m2):
            calibration.magnitude.fill_(1.0)
            calibration.margin.zero_()
    m1.eval()
    m2.eval()
    with torch.no_grad():
        def predict(model):
            return lambda: model.test_step(copy.copy(batch))
        for _ in range(2):
            predict(m1)()
            predict(m2)()
        i1, i2 = interleaved(predict(m1), predict(m2), 3 * args.rounds)
        # The same measurement of the stock model against a copy of itself:
        # the noise floor of the inference ratio on this machine now.
        copy1 = copy.deepcopy(m1)
        a1, a2 = interleaved(predict(m1), predict(copy1), 3 * args.rounds)
        # The classifier alone, on as many RoI features as one inference
        # classifies (the RPN's proposals per image x images).
        head1, head2 = bbox_heads_of(m1)[0], bbox_heads_of(m2)[0]
        rois = cfg1.model.test_cfg.rpn.max_per_img * batch_size
        feats = torch.randn(rois, head1.fc_cls.in_features)
        for _ in range(3):
            head1.fc_cls(feats), head2.fc_cls(feats)
        c1, c2 = interleaved(lambda: head1.fc_cls(feats),
                             lambda: head2.fc_cls(feats), 20 * args.rounds)
    num_heads = len(bbox_heads_of(m2))

    mib = 2.0**20
    rows = [
        ('train step time (s)', statistics.median(t1), statistics.median(t2),
         paired_ratio(t2, t1), '<= 0.5'),
        ('train step peak memory (MiB)', peak1 / mib, peak2 / mib,
         peak2 / peak1, '<= 0.6'),
        ('saved for backward (MiB)', saved1 / mib, saved2 / mib,
         saved2 / max(saved1, 1), ''),
        ('inference time (s)', statistics.median(i1), statistics.median(i2),
         paired_ratio(i2, i1), '<= 1.03'),
        ('  same, stock vs a copy (noise)', statistics.median(a1),
         statistics.median(a2), paired_ratio(a2, a1), '1'),
        (f'fc_cls alone, {rois} RoIs (ms)', 1e3 * statistics.median(c1),
         1e3 * statistics.median(c2), median_ratio(c2, c1), ''),
    ]
    # The calibration's own cost per inference, from the classifier timings:
    # far less noisy than the difference of two whole inferences.
    extra = num_heads * (statistics.median(c2) - statistics.median(c1))
    print(f'{"":34}{"stage 1 / stock":>17}{"DisAlign":>12}{"ratio":>8}'
          f'{"target":>9}')
    for name, a, b, ratio, target in rows:
        print(f'{name:34}{a:>17.4g}{b:>12.4g}{ratio:>8.3f}{target:>9}')
    print(f'Medians of {args.rounds} (train) and {3 * args.rounds} '
          '(inference) interleaved rounds; their time ratios are medians of '
          'the per-round ratios '
          f'(inference: {min(b / a for a, b in zip(i1, i2)):.3f} to '
          f'{max(b / a for a, b in zip(i1, i2)):.3f}).')
    print(f'Calibration cost per inference ({num_heads} calibrated '
          f'classifier(s) on {rois} RoIs): {1e3 * extra:.3f} ms = '
          f'{100 * extra / statistics.median(i1):.2f}% of the stock '
          'inference time.')


def bbox_heads_of(model):
    heads = model.roi_head.bbox_head
    return list(heads) if isinstance(heads, torch.nn.ModuleList) else [heads]


if __name__ == '__main__':
    main()
