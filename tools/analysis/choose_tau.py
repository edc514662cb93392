"""Choose the ``tau`` of a post-hoc method (logit adjustment, tau-norm) on
the **val** split, never the test split.

It builds the config's runner once, loads the stage-1 checkpoint, runs the
val loop once per ``tau`` (no training: the post-hoc methods have nothing to
learn) and prints the table, the best ``tau`` by ``--metric`` and the
``tools/test.py`` command that reports it on the test split::

    python tools/analysis/choose_tau.py configs/demo/cls_logit-adjustment.py \\
        work_dirs/demo/cls_stage1/epoch_60.pth --metric lt/top1

``--out`` writes the sweep as JSON. The config must name ``tau`` (e.g.
``model.head.tau``); every post-hoc module of the model gets each value.
"""
import argparse
import json
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from mmengine.config import Config, DictAction  # noqa: E402

from mmlt.engine import (UNSAFE_LOAD_FLAG, UNSAFE_LOAD_HELP,  # noqa: E402
                         build_runner, check_default_scope, setup_runtime)

# default sweep: Menon et al.'s and Kang et al.'s ranges
DEFAULT_TAUS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
# the metric to maximise when --metric is not given, first found wins
DEFAULT_METRICS = ('lt/top1', 'mIoU', 'lvis/bbox_AP', 'coco/bbox_mAP',
                   'accuracy/top1')


def tau_keys(cfg_node, prefix='model'):
    """Dotted config keys of every ``tau`` under ``cfg_node``."""
    keys = []
    items = (cfg_node.items() if isinstance(cfg_node, dict) else enumerate(
        cfg_node) if isinstance(cfg_node, (list, tuple)) else ())
    for key, value in items:
        path = f'{prefix}.{key}'
        if key == 'tau' and isinstance(value, (int, float)):
            keys.append(path)
        else:
            keys += tau_keys(value, path)
    return keys


def post_hoc_modules(model):
    """The model's post-hoc stage-2 parts (they have a ``tau``)."""
    return [(name, m) for name, m in model.named_modules()
            if getattr(m, 'post_hoc', False) and hasattr(m, 'tau')]


def scalar_metrics(metrics):
    """The scalar metrics as floats (numpy scalars too: mmseg's), not the
    per-class lists."""
    return {k: float(v) for k, v in metrics.items()
            if getattr(v, 'ndim', 0) == 0 and not isinstance(v, (list, str))
            and hasattr(v, '__float__')}


def pick_metric(metrics, wanted):
    if wanted is not None:
        if wanted not in metrics:
            sys.exit(f'--metric {wanted} is not among the val metrics: '
                     f'{sorted(metrics)}')
        return wanted
    for key in DEFAULT_METRICS:
        if key in metrics:
            return key
    sys.exit(f'name the metric to maximise with --metric; the val metrics '
             f'are {sorted(metrics)}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='a post-hoc stage-2 config')
    parser.add_argument('checkpoint', help='the stage-1 checkpoint')
    parser.add_argument('--taus', type=float, nargs='+',
                        default=list(DEFAULT_TAUS))
    parser.add_argument('--metric', help='val metric to maximise (default: '
                        f'the first of {", ".join(DEFAULT_METRICS)})')
    parser.add_argument('--work-dir', help='logs (default: '
                        'work_dirs/choose_tau/<config>)')
    parser.add_argument('--out', help='write the sweep to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument(
        UNSAFE_LOAD_FLAG, action='store_true', help=UNSAFE_LOAD_HELP)
    args = parser.parse_args()

    setup_runtime(allow_unsafe_checkpoints=args.unsafe_load)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    check_default_scope(cfg)
    keys = tau_keys(cfg.model)
    if not keys:
        sys.exit(f'{args.config} sets no tau: name it in the post-hoc head '
                 "or classifier (e.g. model.head.tau=1.0), so that the "
                 'chosen value can be written back.')
    cfg.load_from = args.checkpoint
    name = osp.splitext(osp.basename(args.config))[0]
    cfg.work_dir = args.work_dir or osp.join('work_dirs', 'choose_tau', name)
    runner = build_runner(cfg)
    model = runner.model.module if hasattr(runner.model, 'module') \
        else runner.model
    modules = post_hoc_modules(model)
    if not modules:
        sys.exit(f'{args.config}: the model has no post-hoc module with a '
                 'tau (LogitAdjustment, TauNormalization).')

    rows = []
    for tau in args.taus:
        for _, module in modules:
            module.tau = tau
        metrics = runner.val()
        metric = pick_metric(metrics, args.metric)
        rows.append(dict(tau=tau, **scalar_metrics(metrics)))
        print(f'tau {tau:<6g} val {metric} {float(metrics[metric]):.2f}',
              flush=True)
    best = max(rows, key=lambda r: r[metric])  # first of equals: smallest
    print(f'\nbest on val: tau={best["tau"]:g} ({metric} '
          f'{best[metric]:.2f})')
    options = ' '.join(f'{k}={best["tau"]:g}' for k in keys)
    print('report it once on the test split:\n'
          f'  python tools/test.py {args.config} {args.checkpoint} '
          f'--cfg-options {options}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(config=args.config, checkpoint=args.checkpoint,
                           metric=metric, best_tau=best['tau'],
                           cfg_options=options, sweep=rows), f, indent=1)


if __name__ == '__main__':
    main()
