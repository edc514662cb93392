"""How long one training iteration of each full-size config takes here.

    python benchmarks/config_iteration_times.py            # every config below
    python benchmarks/config_iteration_times.py --only lvis ade20k

Each config runs through ``tools/train.py`` as shipped: its model, its
pipeline at full image scale (the fabricated images of
``tests/real_formats.py`` are resized / cropped by the config's own
pipeline to the shipped scale), and its batch size per GPU, for
``--iters`` iterations (2; an epoch-based config runs them in mmengine's
``IterBasedTrainLoop``) from a stage-1 model saved as mmengine saves it.
Nothing is validated. The table gives the last iteration's time (the
first includes warming up) and its data time, from mmengine's
``vis_data/scalars.json``, and the number of cores this machine gives the
process. ``docs/en/get_started.md`` quotes it.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
import real_formats  # noqa: E402

# name, config, data, stage 1 (config, scope) or None (the config trains
# from scratch)
STOCK_FCN = 'mmseg::fcn/fcn_r50-d8_4xb4-160k_ade20k-512x512.py'
CONFIGS = [
    ('lvis', 'lvis/mask-rcnn_disalign.py', 'lvis',
     ('lvis/mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py', 'mmdet')),
    ('lvis', 'lvis/mask-rcnn_r50_fpn_crt_9k_lvis-v1.py', 'lvis',
     ('lvis/mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py', 'mmdet')),
    ('lvis', 'lvis/mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py', 'lvis', None),
    ('ade20k', 'ade20k/fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py',
     'ade20k', (STOCK_FCN, 'mmseg')),
    ('ade20k', 'ade20k/segformer_mit-b0_disalign_8xb2-8k_ade20k-512x512.py',
     'ade20k', ('mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
                'mmseg')),
    ('imagenet_lt', 'imagenet_lt/resnet50_disalign_8xb32-10e_imagenet-lt.py',
     'imagenet_lt', ('imagenet_lt/resnet50_8xb32-90e_imagenet-lt.py',
                     'mmpretrain')),
    ('imagenet_lt', 'imagenet_lt/resnet50_8xb32-90e_imagenet-lt.py',
     'imagenet_lt', None),
    ('cifar_lt', 'cifar_lt/resnet32_disalign_1xb128-10e_cifar10-lt-ir100.py',
     'cifar10', ('cifar_lt/resnet32_1xb128-200e_cifar10-lt-ir100.py',
                 'mmpretrain')),
    ('deit_lt',
     'deit_lt/resnet32_ldam-drw-sam_1xb128-200e_cifar10-lt-ir100.py',
     'cifar10', None),
    ('deit_lt',
     'deit_lt/deit-lt_deit-base-distilled_8xb128-1200e_cifar10-lt-ir100.py',
     'cifar10', 'teacher'),
]


def config_path(name: str) -> str:
    if '::' in name:
        scope, rel = name.split('::')
        package = __import__(scope)
        return osp.join(osp.dirname(package.__file__), '.mim', 'configs',
                        rel)
    return str(ROOT / 'configs' / name)


FABRICATE = {'lvis': real_formats.lvis_v1, 'ade20k': real_formats.ade20k,
             'imagenet_lt': real_formats.imagenet_lt,
             'cifar10': lambda root: real_formats.cifar10(root, 200)}


def frequency_files(root: Path) -> None:
    """The frequency files the configs name, from the fabricated data."""
    tool = [sys.executable, str(ROOT / 'tools/analysis/class_frequency.py')]
    jobs = [
        ('data/lvis_v1/lvis_v1_train_frequency.json',
         ['lvis', 'data/lvis_v1/annotations/lvis_v1_train.json']),
        ('data/ade/ade20k_pixel_frequency.json',
         ['seg', 'data/ade/ADEChallengeData2016/annotations/training',
          '--num-classes', '150', '--reduce-zero-label']),
        ('data/imagenet/ImageNet_LT_train_freq.json',
         ['list', 'data/imagenet/ImageNet_LT_train.txt', '--classes',
          'mmpretrain.ImageNet']),
    ]
    for out, args in jobs:
        if (root / args[1]).exists() and not (root / out).exists():
            subprocess.run(tool + args + ['-o', out], cwd=root, check=True,
                           capture_output=True)


def measure(root: Path, name: str, stage1, iters: int) -> dict:
    cfg = Config.fromfile(config_path(name))
    extra = []
    if stage1 == 'teacher':
        real_formats.save_stage1(cfg.model.teacher.config,
                                 root / cfg.model.teacher.checkpoint,
                                 'mmpretrain')
    elif stage1 is not None:
        ckpt = root / 'stage1' / (osp.basename(stage1[0]) + '.pth')
        if not ckpt.exists():
            real_formats.save_stage1(config_path(stage1[0]), ckpt, stage1[1])
        extra = ['--cfg-options', f'load_from={ckpt}']
    batch = cfg.train_dataloader.batch_size
    if cfg.train_cfg.get('type', '').startswith('IterBased') or \
            'max_iters' in cfg.train_cfg:
        cfg.train_cfg.max_iters = iters
        cfg.default_hooks.checkpoint.interval = iters
    else:  # an epoch-based config for a few iterations
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
        cfg.log_processor = dict(by_epoch=False)
    if stage1 is None and cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None  # a pretrained download
    cfg.train_cfg.val_interval = 10**6
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.logger.interval = 1
    path = root / 'configs' / (osp.basename(name))
    path.parent.mkdir(exist_ok=True)
    cfg.dump(str(path))
    work_dir = root / 'work_dirs' / osp.basename(name)
    start = time.time()
    out = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'train.py'), str(path),
         '--work-dir', str(work_dir), '--overwrite', *extra],
        cwd=root, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f'{name}: {(out.stdout + out.stderr)[-3000:]}')
    records = [json.loads(line) for p in work_dir.glob(
        '*/vis_data/scalars.json') for line in p.read_text().splitlines()]
    steps = [r for r in records if 'loss' in r]
    return dict(config=name, batch=batch, iterations=len(steps),
                time=steps[-1]['time'], data_time=steps[-1]['data_time'],
                wall=time.time() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--only', nargs='+', help='families to run')
    parser.add_argument('--iters', type=int, default=2)
    parser.add_argument('--json', help='also write the rows here')
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        made = set()
        for family, name, data, stage1 in CONFIGS:
            if args.only and family not in args.only:
                continue
            if data not in made:
                FABRICATE[data](root)
                made.add(data)
                frequency_files(root)
            row = measure(root, name, stage1, args.iters)
            rows.append(row)
            print(f'{name}: batch {row["batch"]}, {row["time"]:.2f} s per '
                  f'iteration (data {row["data_time"]:.2f} s), run '
                  f'{row["wall"]:.0f} s', flush=True)
    print(f'\n| config | batch per GPU | s / iteration ({cores} CPU cores) '
          '| of which data |\n|---|---|---|---|')
    for row in rows:
        print(f'| `{row["config"]}` | {row["batch"]} | {row["time"]:.1f} | '
              f'{row["data_time"]:.1f} |')
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == '__main__':
    main()
