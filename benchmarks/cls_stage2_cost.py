"""Cost of DisAlign stage 2 and of the calibrated head, classification.

Side by side in one process, same network, weights and batch
(``benchmarks/measure.py``: timing, memory, autocast):

1. Training step, stage 2 / stage 1 (targets: time <= 0.5x, memory <=
   0.6x). Stage 1: mmpretrain's ImageClassifier with the stock
   ``LinearClsHead`` and CE, everything trainable, BN in train mode. Stage 2:
   the same network with ``DisAlignLinearClsHead`` and ``GRWKLLoss``, frozen
   and BN kept in eval mode by mmlt's stage-2 functions (what
   ``DisAlignRunner`` applies). A step is the model's ``train_step``:
   preprocessing + forward + loss + backward + SGD-momentum update; data
   loading is not included (it is the same in both stages).
2. Inference, calibrated / stock model (target: overhead <= 1%): the whole
   network's forward to logits in eval mode, on the same weights (identity
   calibration); the head alone and the stock model against a copy of
   itself (the noise floor) are shown too.

    python benchmarks/cls_stage2_cost.py [--arch resnet50] [--img-size 224]
        [--batch-size 8] [--rounds 5] [--device cuda] [--amp bf16]
"""
import argparse
import copy
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import measure  # noqa: E402

ARCHS = {
    # backbone, feature channels, classes, default image size
    'resnet50': (dict(type='ResNet', depth=50), 2048, 1000, 224),
    'resnext50': (dict(type='ResNeXt', depth=50, groups=32,
                       width_per_group=4), 2048, 1000, 224),
    'resnet32-cifar': (dict(type='CifarResNet', depth=32), 64, 100, 32),
}


def build(arch: str, stage: int, device: str):
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
    return model.to(device)


def make_batch(arch: str, size: int, batch_size: int):
    from mmpretrain.structures import DataSample
    classes = ARCHS[arch][2]
    gen = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8,
                            generator=gen) for _ in range(batch_size)]
    samples = [DataSample().set_gt_label(int(i) % classes)
               for i in range(batch_size)]
    return dict(inputs=inputs, data_samples=samples)


def trainer(args, stage: int, source=None):
    """A model ready to train for ``stage`` and its optim wrapper."""
    from mmengine.optim import build_optim_wrapper
    from mmlt.stage2 import freeze_except_calibration, keep_norm_layers_in_eval
    model = build(args.arch, stage, args.device)
    if source is not None:  # same weights in both stages
        model.load_state_dict(source.state_dict(), strict=False)
    if stage == 2:
        freeze_except_calibration(model)
        keep_norm_layers_in_eval(model)
    model.train()
    optim = build_optim_wrapper(model, measure.optim_wrapper_cfg(
        dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
        args.amp))
    return model, optim


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', choices=sorted(ARCHS), default='resnet50')
    parser.add_argument('--img-size', type=int)
    parser.add_argument('--batch-size', type=int, default=8)
    measure.add_common_args(parser, default_rounds=5)
    args = parser.parse_args()
    measure.setup(args)
    args.img_size = args.img_size or ARCHS[args.arch][3]
    batch = make_batch(args.arch, args.img_size, args.batch_size)
    report = measure.Report(
        'classification', f'{args.arch}, batch {args.batch_size} x '
        f'{args.img_size} px', args, columns=('stage 1/stock', 'DisAlign'))

    # 1. training step
    torch.manual_seed(0)
    stage1, optim1 = trainer(args, 1)
    stage2, optim2 = trainer(args, 2, source=stage1)
    steps = {1: lambda: stage1.train_step(dict(batch), optim1),
             2: lambda: stage2.train_step(dict(batch), optim2)}
    measure.compare_train_steps(report, steps, args)

    # 2. inference: same weights, identity calibration, eval mode
    stock = build(args.arch, 1, args.device)
    calibrated = build(args.arch, 2, args.device)
    calibrated.load_state_dict(stock.state_dict(), strict=False)
    stock.eval()
    calibrated.eval()
    stock_copy = copy.deepcopy(stock)
    inputs = stock.data_preprocessor(batch, False)['inputs']

    def run(fn, *fn_args):
        def call():
            with measure.autocast(args.device, args.amp):
                return fn(*fn_args)
        return call

    with torch.no_grad():
        feats = stock.neck(stock.backbone(inputs))
        if args.amp == 'fp32':
            torch.testing.assert_close(stock.head(feats),
                                       calibrated.head(feats),
                                       rtol=1e-6, atol=1e-6)
        full = measure.alternate(
            {'stock': run(stock, inputs, None, 'tensor'),
             'calibrated': run(calibrated, inputs, None, 'tensor'),
             'copy': run(stock_copy, inputs, None, 'tensor')},
            3 * args.rounds, args.warmup, args.device)
        head = measure.alternate(
            {'stock': run(stock.head, feats),
             'calibrated': run(calibrated.head, feats)},
            max(20 * args.rounds, 50), args.warmup, args.device)
    measure.report_inference(report, full, head, 'head alone (ms)')
    report.write()


if __name__ == '__main__':
    main()
