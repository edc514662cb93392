"""DisAlign stage 2 vs stage 1 for segmentation: training-step time and
memory, and inference overhead of the calibrated head, side by side.

    python benchmarks/seg_stage2_cost.py                       # demo FCN
    python benchmarks/seg_stage2_cost.py --size 512 --batch 2 \
        --stage1 mmseg::fcn/fcn_r50-d8_4xb4-160k_ade20k-512x512.py \
        --stage2 configs/ade20k/fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py

Both models are built from their configs (stage 2 frozen exactly as
``DisAlignRunner`` does) and timed in alternation on the same batch. Memory
on CPU is the training memory beyond weights and inputs that autograd and
the optimizer hold: the bytes of tensors saved for backward, of gradients
and of optimizer state. On a GPU (``--device cuda``) it is the peak of
``torch.cuda.max_memory_allocated`` over a step.
"""
import argparse
import os.path as osp
import sys
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmlt.engine import freeze_except_calibration, keep_norm_layers_in_eval  # noqa
from mmengine.config import Config  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402


def build(config, device):
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    from mmseg.registry import MODELS
    cfg.model.pretrained = None
    cfg.model.backbone.init_cfg = None
    for key in ('backbone', 'decode_head', 'auxiliary_head'):
        part = cfg.model.get(key)
        if isinstance(part, dict) and part.get('norm_cfg'):
            part.norm_cfg = dict(type='BN', requires_grad=True)
    if 'GRWKLLoss' == cfg.model.decode_head.loss_decode.get('type'):
        # the benchmark needs no frequency file: same-size inline counts
        cfg.model.decode_head.loss_decode.pop('frequency_file')
        cfg.model.decode_head.loss_decode.class_counts = [
            10**(i % 5) for i in range(cfg.model.decode_head.num_classes)
        ]
    model = MODELS.build(cfg.model).to(device)
    if cfg.get('runner_type') == 'DisAlignRunner':
        freeze_except_calibration(model)
        keep_norm_layers_in_eval(model)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
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
    return inputs.to(device), samples


class SavedBytes:
    """Counts the bytes autograd saves for backward (distinct storages)."""

    def __init__(self):
        self.storages = {}

    def pack(self, tensor):
        storage = tensor.untyped_storage()
        self.storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    @property
    def total(self):
        return sum(self.storages.values())


def train_step(model, optim, inputs, samples, device):
    saved = SavedBytes()
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    with torch.autograd.graph.saved_tensors_hooks(saved.pack, lambda t: t):
        data = model.data_preprocessor(dict(inputs=inputs,
                                            data_samples=samples), True)
        losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    optim.update_params(loss)
    if device == 'cuda':
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - before
    grads = sum(p.grad.nbytes for p in model.parameters() if p.grad is not None)
    state = sum(v.nbytes for s in optim.optimizer.state.values()
                for v in s.values() if torch.is_tensor(v))
    return saved.total + grads + state


def timed(fn, device):
    if device == 'cuda':
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    if device == 'cuda':
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--stage1', default='configs/demo/seg_stage1.py')
    parser.add_argument('--stage2', default='configs/demo/seg_stage2.py')
    parser.add_argument('--size', type=int, default=96)
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    torch.manual_seed(0)
    stage1, optim1, num_classes = build(args.stage1, args.device)
    stage2, optim2, _ = build(args.stage2, args.device)
    inputs, samples = batch(args.batch, args.size, num_classes, args.device)

    times = {1: [], 2: []}
    memory = {}
    for step in range(args.steps + 2):  # 2 warm-up steps, alternating
        for key, model, optim in ((1, stage1, optim1), (2, stage2, optim2)):
            model.train()
            seconds, mem = timed(
                lambda: train_step(model, optim, inputs, samples,
                                   args.device), args.device)
            if step >= 2:
                times[key].append(seconds)
                memory[key] = mem
    t1, t2 = (sorted(times[k])[len(times[k]) // 2] for k in (1, 2))
    print(f'training step, batch {args.batch} x {args.size}px, '
          f'median of {args.steps} ({args.device}):')
    print(f'  stage 1 {t1 * 1000:8.1f} ms  {memory[1] / 2**20:8.1f} MiB')
    print(f'  stage 2 {t2 * 1000:8.1f} ms  {memory[2] / 2**20:8.1f} MiB')
    print(f'  ratio   {t2 / t1:8.2f} x   {memory[2] / memory[1]:8.2f} x   '
          '(targets: <= 0.5 x time, <= 0.6 x memory)')

    # Inference: the stage-1 head vs the calibrated head in the whole model.
    stage1.eval()
    stage2.eval()
    data = stage1.data_preprocessor(dict(inputs=inputs, data_samples=samples),
                                    False)
    times = {1: [], 2: []}
    with torch.no_grad():
        for step in range(3 * args.steps + 2):
            for key, model in ((1, stage1), (2, stage2)):
                seconds, _ = timed(
                    lambda: model(data['inputs'], data['data_samples'],
                                  mode='tensor'), args.device)
                if step >= 2:
                    times[key].append(seconds)
    t1, t2 = (sorted(times[k])[len(times[k]) // 2] for k in (1, 2))
    print(f'inference (whole model), median of {3 * args.steps}:')
    print(f'  stock head {t1 * 1000:8.2f} ms, calibrated head '
          f'{t2 * 1000:8.2f} ms: overhead {100 * (t2 / t1 - 1):+.1f}% '
          '(target: <= 3%)')


if __name__ == '__main__':
    main()
