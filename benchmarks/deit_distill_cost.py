"""DeiT-LT: cost of the teacher in the loop. Times the student's training step
(``train_step``: data preprocessor with Mixup/CutMix, forward, loss,
backward, AdamW step) with the frozen teacher vs the same step without
distillation (the same DeiT-LT student, the DIST head trained on the
labels), alternating the two on the same batch, and prints the time ratio
and the peak memory of each step (``benchmarks/measure.py``).

    python benchmarks/deit_distill_cost.py                 # CPU, 32 px
    python benchmarks/deit_distill_cost.py --device cuda --amp bf16 \
        --student deit-base --batch 128

Default models: a distilled DeiT-Tiny student (mmpretrain's 'deit-tiny':
12 layers, 192 dims, 3 heads) with 4 px patches and a CIFAR ResNet-32
teacher (LDAM's cosine classifier), both at 32 px, 10 classes.
``--student demo`` times the demo's smaller ViT (4 layers, 64 dims, 2 heads)
instead, ``deit-base`` the paper's (12 layers, 768 dims, 12 heads): the
smaller the student, the larger the teacher's share. The teacher's weights
are random (saved to a temporary checkpoint and loaded as a trained one
would be): its cost does not depend on them. ``--channels-last`` /
``--compile`` set the teacher's options of the same names (default: the
model's defaults, channels-last on a GPU). Target: at most 1.10x.
"""
import argparse
import os.path as osp
import sys
import tempfile

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import measure  # noqa: E402
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
    'deit-base': dict(embed_dims=768, num_layers=12, num_heads=12,
                      feedforward_channels=3072),
    'deit-small': dict(embed_dims=384, num_layers=12, num_heads=6,
                       feedforward_channels=1536),
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


def build(cfg, args):
    model = MODELS.build(cfg)
    model.init_weights()
    model.to(args.device)
    optim = build_optim_wrapper(model, measure.optim_wrapper_cfg(
        dict(type='AdamW', lr=5e-4, weight_decay=0.05), args.amp))
    return model.train(), optim


def batch(num, size):
    gen = torch.Generator().manual_seed(0)
    inputs = (torch.rand(num, 3, size, size, generator=gen) * 255).to(
        torch.uint8)
    labels = torch.randint(0, NUM_CLASSES, (num, ), generator=gen)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    return dict(inputs=inputs, data_samples=samples)


def flag(value):
    return {'auto': None, 'on': True, 'off': False}[value]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--size', type=int, default=32,
                        help='student input size')
    parser.add_argument('--teacher-size', type=int, default=32)
    parser.add_argument('--teacher-depth', type=int, default=32)
    parser.add_argument('--student', choices=list(STUDENTS),
                        default='deit-tiny')
    parser.add_argument('--patch', type=int, default=4)
    parser.add_argument('--channels-last', choices=['auto', 'on', 'off'],
                        default='auto',
                        help="the teacher's channels_last option")
    parser.add_argument('--compile', default='off',
                        help="the teacher's compile option: off, on, or a "
                        "torch.compile mode ('reduce-overhead': CUDA graphs)")
    measure.add_common_args(parser, default_rounds=10)
    args = parser.parse_args()
    measure.setup(args)
    init_default_scope('mmpretrain')
    MMLogger.get_instance('deit_distill_cost', log_level='WARNING')
    torch.manual_seed(0)
    compile_cfg = {'off': False, 'on': True}.get(
        args.compile, dict(mode=args.compile))

    with tempfile.TemporaryDirectory() as tmp:
        ckpt = osp.join(tmp, 'teacher.pth')
        torch.save(dict(state_dict=MODELS.build(
            teacher_cfg(args.teacher_depth)).state_dict()), ckpt)
        teacher = dict(config=teacher_cfg(args.teacher_depth),
                       checkpoint=ckpt, img_size=args.teacher_size,
                       channels_last=flag(args.channels_last),
                       compile=compile_cfg)
        models = {
            'with teacher': build(student_cfg(teacher, args), args),
            'no distillation': build(student_cfg(None, args), args),
        }
    data = batch(args.batch, args.size)
    steps = {name: (lambda m=model, o=optim: m.train_step(dict(data), o))
             for name, (model, optim) in models.items()}
    times = measure.alternate(steps, args.rounds, args.warmup, args.device)
    mem = {name: measure.peak_memory(fn, args.device)
           for name, fn in steps.items()}

    arch = STUDENTS[args.student]
    report = measure.Report(
        'DeiT-LT teacher', f'student {args.student} ({arch["num_layers"]} '
        f'layers x {arch["embed_dims"]}) patch {args.patch} at {args.size} '
        f'px, batch {args.batch}; teacher CIFAR ResNet-{args.teacher_depth} '
        f'at {args.teacher_size} px (channels_last {args.channels_last}, '
        f'compile {args.compile})', args,
        columns=('no distillation', 'with teacher'))
    report.row('train step time (ms)',
               1e3 * measure.median(times['no distillation']),
               1e3 * measure.median(times['with teacher']),
               measure.paired_ratio(times['with teacher'],
                                    times['no distillation']), 1.10,
               'teacher')
    report.row('train step peak memory (MiB)',
               mem['no distillation'] / 2**20, mem['with teacher'] / 2**20,
               mem['with teacher'] / mem['no distillation'],
               key='teacher_memory')
    report.write()


if __name__ == '__main__':
    main()
