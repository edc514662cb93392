"""What DisAlign costs in detection: stage-2 training and calibrated inference.

Measured side by side in one process, on the same batch of LT-Digits
images, interleaving the two variants so that load from other processes
hits both alike (medians over the rounds):

1. Training iteration (``train_step``: forward, loss, backward, SGD step) of
   DisAlign stage 2 (everything frozen but the calibration, normalisation
   layers in eval mode, as ``DisAlignRunner`` sets it up) vs stage 1 of the
   same Mask R-CNN. Targets: time <= 0.5x, peak memory <= 0.6x.
2. Inference (``test_step``: boxes, scores and masks) with the calibrated
   RoI classifier vs the stock one, on the same weights (identity
   calibration: both post-process the same detections). Target: overhead
   <= 1%. Also the RoI classifier alone (``fc_cls`` on as many RoI features
   as one inference classifies) and the stock model against a copy of
   itself (the noise floor).

Timing, memory (peak tensor bytes of one step) and autocast as every mmlt
benchmark: ``benchmarks/measure.py``. Runs wherever mmcv's compiled ops
(RoIAlign, nms) exist: on a device without them it says so and stops.

Models:

* ``--model demo`` (default): the LT-Digits demo Mask R-CNN
  (configs/demo/det_stage1.py / det_stage2.py), 96 px canvases.
* ``--model lvis-r50``: the LVIS v1 Mask R-CNN R50-FPN of
  configs/lvis/mask-rcnn_disalign.py (1203 classes, dot-product or, with
  ``--cosine``, cosine classifier) on LT-Digits canvases resized to
  ``--size`` (default 512), with made-up long-tailed class counts. Slow on
  a CPU (seconds per step).

    python benchmarks/det_stage2_cost.py [--model demo|lvis-r50] \
        [--rounds 10] [--batch 8] [--size 512] [--device cuda] [--amp bf16]

Uses data/lt_digits/det when it is there, else writes LT-Digits to a
temporary folder.
"""
import argparse
import copy
import os.path as osp
import sys
import tempfile

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'benchmarks'))

import measure  # noqa: E402

from mmlt.engine import setup_runtime  # noqa: E402

setup_runtime()

from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import mmlt.detection  # noqa: E402,F401
from mmlt.core.calibration import calibration_modules  # noqa: E402
from mmlt.stage2 import (freeze_except_calibration,  # noqa: E402
                        keep_norm_layers_in_eval)

DEMO_DATA = osp.join(ROOT, 'data/lt_digits/det/')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model', choices=['demo', 'lvis-r50'],
                        default='demo')
    parser.add_argument('--cosine', action='store_true',
                        help='lvis-r50: the cosine (DisAlign*) classifier')
    parser.add_argument('--batch', type=int, default=None,
                        help='images per step (default: 8 demo, 2 lvis-r50)')
    parser.add_argument('--size', type=int, default=512,
                        help='lvis-r50: image side in pixels')
    measure.add_common_args(parser, default_rounds=10)
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
            predictor = head.get('cls_predictor_cfg') or {}
            if predictor.get('start_tau') is not None:
                # built without DisAlignRunner, which would hand the loss's
                # prior over: the same counts inline
                predictor['class_counts'] = counts
    dataset = dict(
        type='LVISV1Dataset',
        data_root=root,
        ann_file='annotations/lvis_v1_train.json',
        data_prefix=dict(img=''),
        metainfo=dict(classes=tuple(f'digit_{i}' for i in range(10))),
        pipeline=pipeline)
    return cfg1, cfg2, dataset


def build_pair(cfg1, cfg2, args):
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
    stage1.to(args.device).train()
    stage2.to(args.device).train()
    optim = measure.optim_wrapper_cfg(
        dict(type='SGD', lr=1e-4, momentum=0.9, weight_decay=1e-4), args.amp)
    return ((stage1, build_optim_wrapper(stage1, optim)),
            (stage2, build_optim_wrapper(stage2, optim)))


def load_batch(dataset_cfg, batch_size):
    from mmdet.registry import DATASETS
    dataset = DATASETS.build(dataset_cfg)
    # canvases with several digits: a representative number of RoIs
    items = sorted(range(len(dataset)),
                   key=lambda i: -len(dataset.get_data_info(i)['instances']))
    return pseudo_collate([dataset[i] for i in items[:batch_size]])


def mmcv_ops_run_on(device):
    """Whether mmcv's compiled ops (nms, RoIAlign) run on ``device``."""
    try:
        from mmcv.ops import RoIAlign, nms
        boxes = torch.tensor([[0., 0., 4., 4.], [1., 1., 5., 5.]],
                             device=device)
        nms(boxes, torch.tensor([0.9, 0.8], device=device), 0.5)
        RoIAlign((2, 2), 1.0, 0)(
            torch.rand(1, 1, 4, 4, device=device),
            torch.tensor([[0., 0., 0., 3., 3.]], device=device))
        return True
    except Exception as error:  # noqa: BLE001 (any failure: no ops)
        return f'{type(error).__name__}: {error}'


def main():
    args = parse_args()
    measure.setup(args)
    report = measure.Report(
        'detection', f'{args.model}{" (cosine)" if args.cosine else ""}',
        args, columns=('stage 1/stock', 'DisAlign'))
    ops = mmcv_ops_run_on(args.device)
    if ops is not True:
        report.data['skipped'] = f"mmcv's compiled ops do not run on " \
            f'{args.device}: {ops}'
        report.note(report.data['skipped'])
        report.write()
        return
    # the current logger: keeps init_weights' per-parameter report quiet
    MMLogger.get_instance('det_stage2_cost', log_level='WARNING')
    init_default_scope('mmdet')
    root = data_root()
    cfg1, cfg2, dataset_cfg = configs(args, root)
    batch_size = args.batch or (8 if args.model == 'demo' else 2)
    batch = load_batch(dataset_cfg, batch_size)
    (m1, o1), (m2, o2) = build_pair(cfg1, cfg2, args)
    n1 = sum(p.numel() for p in m1.parameters() if p.requires_grad)
    n2 = sum(p.numel() for p in m2.parameters() if p.requires_grad)
    report.data['model'] += f', batch {batch_size}'
    report.note(f'Trainable parameters: stage 1 {n1:,}, stage 2 {n2:,}.')

    def step(model, optim):
        return lambda: model.train_step(copy.copy(batch), optim)

    steps = {1: step(m1, o1), 2: step(m2, o2)}
    measure.compare_train_steps(report, steps, args)

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
    copy1 = copy.deepcopy(m1)

    def predict(model):
        def run():
            with measure.autocast(args.device, args.amp):
                return model.test_step(copy.copy(batch))
        return run

    def classify(fc, feats):
        def run():
            with measure.autocast(args.device, args.amp):
                return fc(feats)
        return run

    with torch.no_grad():
        infer = measure.alternate(
            {'stock': predict(m1), 'calibrated': predict(m2),
             'copy': predict(copy1)}, 3 * args.rounds, args.warmup,
            args.device)
        # The classifier alone, on as many RoI features as one inference
        # classifies (the RPN's proposals per image x images).
        head1, head2 = bbox_heads_of(m1)[0], bbox_heads_of(m2)[0]
        rois = cfg1.model.test_cfg.rpn.max_per_img * batch_size
        feats = torch.randn(rois, head1.fc_cls.in_features,
                            device=args.device)
        heads = measure.alternate(
            {'stock': classify(head1.fc_cls, feats),
             'calibrated': classify(head2.fc_cls, feats)},
            20 * args.rounds, args.warmup, args.device)
    num_heads = len(bbox_heads_of(m2))
    measure.report_inference(
        report, infer, heads, f'fc_cls alone, {rois} RoIs (ms)',
        whole_label='inference time (ms)', heads_per_model=num_heads,
        how=f'{num_heads} calibrated classifier(s) on {rois} RoIs')
    report.write()


def bbox_heads_of(model):
    heads = model.roi_head.bbox_head
    return list(heads) if isinstance(heads, torch.nn.ModuleList) else [heads]


if __name__ == '__main__':
    main()
