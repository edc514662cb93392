"""DeiT-LT: cost of the teacher in the loop. Times the student's training step
(data preprocessor with Mixup/CutMix, forward, loss, backward, AdamW step)
with the frozen teacher vs the same step without distillation (the same
DeiT-LT student, the DIST head trained on the labels), alternating the two
on the same batches, and prints the time ratio.

    python benchmarks/deit_distill_cost.py                 # CPU, 32 px
    python benchmarks/deit_distill_cost.py --device cuda --batch 256

Default models: a distilled DeiT-Tiny student (mmpretrain's 'deit-tiny':
12 layers, 192 dims, 3 heads) with 4 px patches and a CIFAR ResNet-32
teacher (LDAM's cosine classifier), both at 32 px, 10 classes.
``--student demo`` times the demo's smaller ViT (4 layers, 64 dims, 2 heads) instead:
the smaller the student, the larger the teacher's share. The teacher's weights are random (saved to a temporary checkpoint
and loaded as a trained one would be): its cost does not depend on them.
Target: at most 1.25x.
"""
import argparse
import os.path as osp
import statistics
import sys
import tempfile
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmlt.classification  # noqa: E402,F401
import mmlt.classification.deit_lt  # noqa: E402,F401
import mmlt.classification.ldam  # noqa: E402,F401
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpretrain.registry import MODELS  # noqa: E402
from mmpretrain.structures import DataSample  # noqa: E402

NUM_CLASSES = 10


def teacher_cfg(depth):
    return dict(
        type='ImageClassifier',
        backbone=dict(type='CifarResNet', depth=depth),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='CosineLinearClsHead', num_classes=NUM_CLASSES,
                  in_channels=64, scale=1.0, learnable_scale=False,
                  loss=dict(type='LDAMLoss')),
        data_preprocessor=dict(mean=[125.3, 123.0, 113.9],
                               std=[63.0, 62.1, 66.7]))


STUDENTS = {
    'deit-tiny': dict(embed_dims=192, num_layers=12, num_heads=3,
                      feedforward_channels=768),
    'demo': dict(embed_dims=64, num_layers=4, num_heads=2,
                 feedforward_channels=256),
}


def student_cfg(teacher, args):
    arch = STUDENTS[args.student]
    return dict(
        type='DeiTLTClassifier',
        backbone=dict(
            type='DistilledVisionTransformer', arch=arch,
            img_size=args.size, patch_size=args.patch, drop_path_rate=0.1),
        head=dict(type='DeiTLTClsHead', num_classes=NUM_CLASSES,
                  in_channels=arch['embed_dims'],
                  class_counts=[500] * NUM_CLASSES),
        data_preprocessor=dict(num_classes=NUM_CLASSES,
                               mean=[123.7, 116.3, 103.5],
                               std=[58.4, 57.1, 57.4]),
        train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8),
                                 dict(type='CutMix', alpha=1.0)]),
        teacher=teacher)


def build(cfg, device):
    model = MODELS.build(cfg)
    model.init_weights()
    model.to(device)
    optim = build_optim_wrapper(
        model, dict(optimizer=dict(type='AdamW', lr=5e-4,
                                   weight_decay=0.05)))
    return model.train(), optim


def batch(num, size, device):
    gen = torch.Generator().manual_seed(0)
    inputs = (torch.rand(num, 3, size, size, generator=gen) * 255).to(
        torch.uint8)
    labels = torch.randint(0, NUM_CLASSES, (num, ), generator=gen)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    return dict(inputs=inputs, data_samples=samples)


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--size', type=int, default=32,
                        help='student input size')
    parser.add_argument('--teacher-size', type=int, default=32)
    parser.add_argument('--teacher-depth', type=int, default=32)
    parser.add_argument('--student', choices=list(STUDENTS),
                        default='deit-tiny')
    parser.add_argument('--patch', type=int, default=4)
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int, default=0,
                        help='torch threads on CPU (0: torch default)')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    init_default_scope('mmpretrain')
    MMLogger.get_instance('deit_distill_cost', log_level='WARNING')
    torch.manual_seed(0)

    with tempfile.TemporaryDirectory() as tmp:
        ckpt = osp.join(tmp, 'teacher.pth')
        torch.save(dict(state_dict=MODELS.build(
            teacher_cfg(args.teacher_depth)).state_dict()), ckpt)
        teacher = dict(config=teacher_cfg(args.teacher_depth),
                       checkpoint=ckpt, img_size=args.teacher_size)
        models = {
            'with teacher': build(student_cfg(teacher, args), args.device),
            'no distillation': build(student_cfg(None, args), args.device),
        }
    data = batch(args.batch, args.size, args.device)
    times = {name: [] for name in models}
    for step in range(args.warmup + args.steps):
        for name, (model, optim) in models.items():
            sync(args.device)
            start = time.perf_counter()
            model.train_step(dict(data), optim)
            sync(args.device)
            if step >= args.warmup:
                times[name].append(time.perf_counter() - start)

    arch = STUDENTS[args.student]
    print(f'DeiT-LT training step, batch {args.batch}, device '
          f'{args.device}, threads {torch.get_num_threads()}: student '
          f'{args.student} ({arch["num_layers"]} layers x '
          f'{arch["embed_dims"]}) patch {args.patch} at '
          f'{args.size} px, teacher CIFAR ResNet-{args.teacher_depth} at '
          f'{args.teacher_size} px; median of {args.steps} alternating '
          'steps')
    med = {name: statistics.median(t) for name, t in times.items()}
    for name, value in med.items():
        print(f'  {name:<16} {1000 * value:8.1f} ms/step')
    ratio = med['with teacher'] / med['no distillation']
    print(f'  ratio (with / without teacher): {ratio:.2f}x (target <= 1.25x)')


if __name__ == '__main__':
    main()
