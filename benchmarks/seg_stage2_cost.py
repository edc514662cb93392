"""DisAlign stage 2 vs stage 1 for segmentation: training-step time and
memory, and inference overhead of the calibrated head, side by side.

    python benchmarks/seg_stage2_cost.py                       # demo FCN
    python benchmarks/seg_stage2_cost.py --device cuda --amp bf16 \
        --size 512 --batch 8 \
        --stage1 mmseg::fcn/fcn_r50-d8_4xb4-160k_ade20k-512x512.py \
        --stage2 configs/ade20k/fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py

Both models are built from their configs (stage 2 frozen exactly as
``DisAlignRunner`` does: everything but the calibration, normalisation
layers in eval mode) and run in alternation on the same batch
(``benchmarks/measure.py``: timing, memory, autocast). A training step is
the model's ``train_step`` (preprocessing, forward, loss, backward, optimizer
step). Inference is the whole model's forward to logits (``mode='tensor'``)
in eval mode, the stage-2 model holding the stage-1 weights and an identity
calibration; also the classifier alone (``conv_seg``, on the feature that
feeds it) and the stock model against a copy of itself (the noise floor).
Targets: time <= 0.5x, memory <= 0.6x, inference overhead <= 1%.
"""
import argparse
import copy
import warnings
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import measure  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from mmlt.stage2 import (freeze_except_calibration,  # noqa: E402
                        keep_norm_layers_in_eval)


def build(config, args):
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    import mmlt.segmentation  # noqa: F401
    from mmseg.registry import MODELS
    cfg.model.pretrained = None
    cfg.model.backbone.init_cfg = None
    for key in ('backbone', 'decode_head', 'auxiliary_head'):
        part = cfg.model.get(key)
        if isinstance(part, dict) and part.get('norm_cfg'):
            part.norm_cfg = dict(type='BN', requires_grad=True)
    if 'GRWKLLoss' == cfg.model.decode_head.loss_decode.get('type'):
        # the benchmark needs no frequency file: same-size inline counts
        cfg.model.decode_head.loss_decode.pop('frequency_file', None)
        cfg.model.decode_head.loss_decode.class_counts = [
            10**(i % 5) for i in range(cfg.model.decode_head.num_classes)
        ]
    model = MODELS.build(cfg.model).to(args.device)
    stage2 = cfg.get('runner_type') == 'DisAlignRunner'
    if stage2:
        freeze_except_calibration(model)
        keep_norm_layers_in_eval(model)
    optim = build_optim_wrapper(model, measure.optim_wrapper_cfg(
        cfg.optim_wrapper.optimizer, args.amp))
    return model, optim, cfg.model.decode_head.num_classes


def batch(num, size, num_classes, device):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    gen = torch.Generator().manual_seed(0)
    inputs = torch.rand(num, 3, size, size, generator=gen) * 255
    samples = []
    for _ in range(num):
        s = SegDataSample(metainfo=dict(img_shape=(size, size),
                                        pad_shape=(size, size),
                                        ori_shape=(size, size)))
        s.gt_sem_seg = PixelData(data=torch.randint(
            0, num_classes, (1, size, size), generator=gen))
        samples.append(s.to(device))
    return dict(inputs=list(inputs.to(device)), data_samples=samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--stage1', default='configs/demo/seg_stage1.py')
    parser.add_argument('--stage2', default='configs/demo/seg_stage2.py')
    parser.add_argument('--size', type=int, default=96)
    parser.add_argument('--batch', type=int, default=8)
    measure.add_common_args(parser, default_rounds=10)
    args = parser.parse_args()
    measure.setup(args)
    warnings.filterwarnings('ignore', category=UserWarning)
    torch.manual_seed(0)
    stage1, optim1, num_classes = build(args.stage1, args)
    stage2, optim2, _ = build(args.stage2, args)
    missing, unexpected = stage2.load_state_dict(stage1.state_dict(),
                                                 strict=False)
    assert all('calibration' in k for k in missing), missing
    # stage 2 drops the auxiliary head (it trains nothing there)
    assert all(k.startswith('auxiliary_head.') for k in unexpected), \
        unexpected
    data = batch(args.batch, args.size, num_classes, args.device)
    report = measure.Report(
        'segmentation', f'{osp.basename(args.stage2)[:-3]}, batch '
        f'{args.batch} x {args.size} px',
        args, columns=('stage 1/stock', 'DisAlign'))

    stage1.train()
    stage2.train()
    steps = {1: lambda: stage1.train_step(dict(data), optim1),
             2: lambda: stage2.train_step(dict(data), optim2)}
    measure.compare_train_steps(report, steps, args)

    # Inference: the stage-1 weights in both, identity calibration.
    stage2.load_state_dict(stage1.state_dict(), strict=False)
    with torch.no_grad():
        for module in stage2.modules():
            if hasattr(module, 'magnitude'):
                module.magnitude.fill_(1.0)
                module.margin.zero_()
    stage1.eval()
    stage2.eval()
    copy1 = copy.deepcopy(stage1)
    inputs = stage1.data_preprocessor(dict(data), False)['inputs']
    seen = {}
    stage1.decode_head.conv_seg.register_forward_hook(
        lambda m, a, out: seen.__setitem__('feature', a[0]))

    def forward(model):
        def run():
            with measure.autocast(args.device, args.amp):
                return model(inputs, mode='tensor')
        return run

    with torch.no_grad():
        a, b = forward(stage1)(), forward(stage2)()
        if args.amp == 'fp32':
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
        times = measure.alternate(
            {'stock': forward(stage1), 'calibrated': forward(stage2),
             'copy': forward(copy1)}, 3 * args.rounds, args.warmup,
            args.device)
        feature = seen['feature']
        heads = {}
        for name, model in (('stock', stage1), ('calibrated', stage2)):
            conv = model.decode_head.conv_seg

            def head(conv=conv):
                with measure.autocast(args.device, args.amp):
                    return conv(feature)
            heads[name] = head
        head_times = measure.alternate(heads, 10 * args.rounds, args.warmup,
                                       args.device)
    measure.report_inference(
        report, times, head_times,
        f'conv_seg alone, {tuple(feature.shape)} (ms)')
    report.write()


if __name__ == '__main__':
    main()
