"""Plot per-class results of long-tailed classification against frequency.

Two modes, each writing one PNG:

``accuracy``: per-class top-1 accuracy of one or more result files (the
metrics JSON of ``tools/test.py CFG CKPT --out m.json --out-item metrics``
with ``LongTailAccuracy``), e.g. stage 1 vs stage 2, over the training
count of each class::

    python tools/analysis/plot_class_accuracy.py accuracy \\
        work_dirs/demo/cls_stage1/test_metrics.json \\
        work_dirs/demo/cls_disalign_seed0/test_metrics.json --labels stage1 DisAlign \\
        --frequency data/lt_digits/cls/image_frequency.json \\
        -o work_dirs/demo/cls_accuracy.png

``calibration``: the learnt magnitude alpha_j and margin beta_j of a DisAlign
checkpoint over the class frequency and, with ``--config``, the mean
confidence sigma(x) of the test images of each class (the model is run on
the config's test set on the CPU)::

    python tools/analysis/plot_class_accuracy.py calibration \\
        work_dirs/demo/cls_disalign_seed0/epoch_10.pth \\
        --frequency data/lt_digits/cls/image_frequency.json \\
        --config configs/demo/cls_stage2.py \\
        -o work_dirs/demo/cls_calibration.png

``--frequency`` takes an mmlt frequency JSON (``class_frequency.py``) or a
``path label`` training list. Classes are drawn in descending training
count, with the frequency file's groups (many / medium / few) shaded.
Checkpoints are read safely (``torch.load(weights_only=True)`` with mmlt's
allow-list, ``mmlt.engine.checkpoint_io``); ``--unsafe-load`` unpickles a
file that holds anything else in full, which runs code from it: only for
files you trust.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

try:
    import mmlt  # noqa: F401
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmlt.core.frequency import ClassFrequency, from_image_list  # noqa: E402
from mmlt.utils.plot_files import (add_file_arguments,  # noqa: E402
                                   add_output_arguments, file_labels,
                                   save_figure)

GROUP_COLOURS = ('#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3')


def load_frequency(path: str, classes: str = None) -> ClassFrequency:
    """A frequency JSON, or the counts of a ``path label`` list."""
    if path.endswith('.json'):
        return ClassFrequency.load(path)
    names = None
    if classes:
        names = [line.strip() for line in Path(classes).read_text().split(
            '\n') if line.strip()]
    return from_image_list(path, classes=names)


def classwise_key(metrics: dict, key: str = None) -> str:
    if key:
        if key not in metrics:
            raise KeyError(f'no {key!r} in the results; keys: '
                           f'{sorted(metrics)}')
        return key
    found = [k for k in metrics if k.endswith('top1_classwise')]
    if len(found) != 1:
        raise KeyError('expected one "*/top1_classwise" entry (from '
                       'LongTailAccuracy) in the results, found '
                       f'{found}; pick one with --key.')
    return found[0]


def summary(metrics: dict, key: str, groups) -> str:
    """'top-1 63.7, many 96.7 / medium 80.0 / few 8.9' from a result."""
    prefix = key.rsplit('/', 1)[0] + '/' if '/' in key else ''
    parts = []
    if prefix + 'top1' in metrics:
        parts.append(f'top-1 {metrics[prefix + "top1"]:.1f}')
    shots = [f'{g} {metrics[prefix + g]:.1f}' for g in groups
             if isinstance(metrics.get(prefix + g), (int, float))]
    if shots:
        parts.append(' / '.join(shots))
    return ', '.join(parts)


def _frequency_axes(ax, freq: ClassFrequency, order: np.ndarray):
    """Bars of the training counts (log scale) on ``ax``'s twin, the
    groups shaded; returns the twin axis."""
    counts = np.asarray(freq.counts, dtype=float)[order]
    position = {c: i for i, c in enumerate(order)}
    for colour, (name, members) in zip(GROUP_COLOURS, freq.groups.items()):
        xs = sorted(position[m] for m in members)
        if xs:
            ax.axvspan(xs[0] - 0.5, xs[-1] + 0.5, color=colour, alpha=0.08,
                       lw=0)
            ax.text((xs[0] + xs[-1]) / 2, 0.98, name, ha='center',
                    va='top', transform=ax.get_xaxis_transform(),
                    fontsize=9, color=colour)
    twin = ax.twinx()
    twin.bar(np.arange(len(order)), np.maximum(counts, 0.5), width=0.8,
             color='grey', alpha=0.25, zorder=0, label='training images')
    twin.set_yscale('log')
    twin.set_ylabel('training images (log)')
    # draw the curves over the bars
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)
    return twin


def _class_ticks(ax, freq: ClassFrequency, order: np.ndarray):
    if len(order) <= 40:
        ax.set_xticks(np.arange(len(order)))
        ax.set_xticklabels([freq.classes[i] for i in order], rotation=60,
                           ha='right', fontsize=8)
    else:
        ax.set_xlabel('classes, by descending training count')


def plot_accuracy(args) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    freq = load_frequency(args.frequency, args.classes)
    labels = file_labels(args.results, args.labels)
    order = np.argsort(-np.asarray(freq.counts), kind='stable')
    fig, ax = plt.subplots(figsize=(max(7, min(16, 0.45 * len(order))),
                                    4.5))
    twin = _frequency_axes(ax, freq, order)
    many = len(order) > 50
    for path, label in zip(args.results, labels):
        metrics = json.loads(Path(path).read_text())
        key = classwise_key(metrics, args.key)
        values = metrics[key]
        if len(values) != freq.num_classes:
            raise ValueError(f'{path}: {len(values)} per-class values, the '
                             f'frequency has {freq.num_classes} classes.')
        acc = np.asarray([np.nan if v is None else v for v in values],
                         dtype=float)[order]
        text = summary(metrics, key, freq.groups)
        ax.plot(np.arange(len(order)), acc, '-' if many else '-o', ms=4,
                lw=1 if many else 1.5,
                label=f'{label} ({text})' if text else label)
        print(f'{label}: {text}')
    ax.set_ylim(-2, 110)  # room for the group names
    ax.set_ylabel('top-1 accuracy (%)')
    _class_ticks(ax, freq, order)
    handles = ax.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=8,
              loc='lower left')
    ax.set_title(args.title or 'per-class accuracy vs training frequency')
    fig.tight_layout()
    print(f'wrote {save_figure(fig, args.out, args.dpi)}')


def read_checkpoint(checkpoint: str, allow_unsafe: bool = False) -> dict:
    """The checkpoint, read safely (module doc)."""
    from mmlt.engine.checkpoint_io import load_checkpoint_file
    return load_checkpoint_file(checkpoint, map_location='cpu',
                                allow_unsafe=allow_unsafe)


def calibration_params(checkpoint, prefix: str = None,
                       allow_unsafe: bool = False, where: str = None):
    """(name, magnitude, margin) of the calibration in a checkpoint (a path,
    or the checkpoint read by ``read_checkpoint`` from the file ``where``)."""
    if isinstance(checkpoint, str):
        where = checkpoint
    ckpt = (read_checkpoint(checkpoint, allow_unsafe)
            if isinstance(checkpoint, str) else checkpoint)
    state = ckpt.get('state_dict', ckpt)
    names = sorted(k[:-len('.magnitude')] for k in state
                   if k.endswith('calibration.magnitude'))
    if prefix:
        names = [n for n in names if n.startswith(prefix)]
    if len(names) != 1:
        raise KeyError(f'{where}: expected one DisAlign calibration, '
                       f'found {names or "none"} (a stage-2 checkpoint has '
                       '"...calibration.magnitude"); pick one with --prefix.')
    name = names[0]
    return (name, state[f'{name}.magnitude'].float().numpy(),
            state[f'{name}.margin'].float().numpy())


def mean_confidence(config: str, checkpoint, num_classes: int,
                    split: str = 'test',
                    allow_unsafe: bool = False) -> np.ndarray:
    """Mean sigma(x) of each class's images in the config's test (or val)
    set, by running the model on the CPU (``checkpoint``: a path or the
    checkpoint read by ``read_checkpoint``)."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    from mmengine.runner.checkpoint import _load_checkpoint_to_model
    from mmengine.utils import import_modules_from_strings

    from mmlt.core import AdaptiveCalibration
    cfg = Config.fromfile(config)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    from mmpretrain.registry import MODELS
    model = MODELS.build(cfg.model)
    if isinstance(checkpoint, str):
        checkpoint = read_checkpoint(checkpoint, allow_unsafe)
    _load_checkpoint_to_model(model, checkpoint, logger='silent')
    model.eval()
    # the calibrated classifier (the calibration's parent) and its input:
    # the confidence is computed from that feature, fused into the
    # classifier's product or not
    owners = [m for m in model.modules()
              if isinstance(getattr(m, 'calibration', None),
                            AdaptiveCalibration)]
    if len(owners) != 1:
        raise ValueError(f'{config}: expected one calibration in the model, '
                         f'found {len(owners)}.')
    calibration = owners[0].calibration
    sigmas = []
    hook = owners[0].register_forward_pre_hook(
        lambda module, inputs: sigmas.append(
            calibration.sigma(inputs[0]).flatten()))
    loader = Runner.build_dataloader(cfg[f'{split}_dataloader'])
    totals = np.zeros(num_classes)
    counts = np.zeros(num_classes)
    with torch.no_grad():
        for batch in loader:
            data = model.data_preprocessor(batch, False)
            sigmas.clear()
            model(**data, mode='predict')
            labels = np.asarray([int(s.gt_label) for s in
                                 data['data_samples']])
            sigma = torch.cat(sigmas).numpy()
            np.add.at(totals, labels, sigma)
            np.add.at(counts, labels, 1)
    hook.remove()
    with np.errstate(invalid='ignore'):
        return totals / counts


def plot_calibration(args) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    freq = load_frequency(args.frequency, args.classes)
    ckpt = read_checkpoint(args.checkpoint, args.unsafe_load)
    name, magnitude, margin = calibration_params(
        ckpt, args.prefix, where=args.checkpoint)
    if magnitude.size != freq.num_classes:
        raise ValueError(f'{name}: {magnitude.size} calibrated classes, the '
                         f'frequency has {freq.num_classes}.')
    panels = [('magnitude alpha', magnitude, 1.0),
              ('margin beta', margin, 0.0)]
    if args.config:
        sigma = mean_confidence(args.config, ckpt, freq.num_classes,
                                args.split)
        panels.append((f'mean confidence sigma ({args.split} images)', sigma,
                       0.5))
    order = np.argsort(-np.asarray(freq.counts), kind='stable')
    fig, axes = plt.subplots(
        len(panels), 1, sharex=True,
        figsize=(max(7, min(16, 0.45 * len(order))), 2.6 * len(panels)))
    for ax, (title, values, init) in zip(axes, panels):
        _frequency_axes(ax, freq, order)
        ax.plot(np.arange(len(order)), values[order],
                '-' if len(order) > 50 else '-o', ms=4, color='C3')
        ax.axhline(init, color='k', lw=0.8, ls='--')
        ax.set_ylabel(title.split(' (')[0], fontsize=9)
        ax.set_title(title, fontsize=10, loc='left')
    _class_ticks(axes[-1], freq, order)
    fig.suptitle(args.title or f'DisAlign calibration ({name}) vs training '
                 'frequency', fontsize=11)
    fig.tight_layout()
    save_figure(fig, args.out, args.dpi)
    for title, values, _ in panels:
        by_group = ', '.join(
            f'{g} {np.nanmean(values[idx]):.3f}'
            for g, idx in freq.groups.items() if idx)
        print(f'{title.split(" (")[0]} (mean per group): {by_group}')
    print(f'wrote {args.out}')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot per-class accuracy or DisAlign calibration against '
        'the training frequency of each class.')
    sub = parser.add_subparsers(dest='mode', required=True)
    acc = sub.add_parser('accuracy', help='per-class accuracy of result '
                         'files (tools/test.py --out-item metrics)')
    add_file_arguments(acc, 'results', 'metrics JSON files')
    acc.add_argument('--key', help='the per-class entry (default: the one '
                     'ending in top1_classwise)')
    cal = sub.add_parser('calibration', help='magnitude / margin / '
                         'confidence of a DisAlign checkpoint')
    cal.add_argument('checkpoint', help='stage-2 checkpoint')
    cal.add_argument('--config', help='its config: also run the model on '
                     'the test set and plot the mean confidence per class')
    cal.add_argument('--split', choices=['test', 'val'], default='test')
    cal.add_argument('--prefix', help='which calibration (state-dict '
                     'prefix), when the model has several')
    cal.add_argument('--unsafe-load', action='store_true',
                     help='unpickle the checkpoint in full when the safe '
                     'reader refuses it; runs code from the file: only for '
                     'files you trust (same as MMLT_UNSAFE_LOAD=1)')
    add_output_arguments(cal)
    for p in (acc, cal):
        p.add_argument('--frequency', required=True,
                       help='frequency JSON or "path label" training list')
        p.add_argument('--classes', help='class names file, for a list')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.mode == 'accuracy':
        plot_accuracy(args)
    else:
        plot_calibration(args)


if __name__ == '__main__':
    main()
