"""DisAlign and the decoupled baselines on several long-tailed sets, so
that no single set can game the verdict.

The sets (classification, 10 classes, balanced val and test):

* LT-Digits at imbalance 10, 50, 100 and 200: the demo's MNIST digits
  (``make_lt_digits``, 440 -> 44 / 8 / 4 / 2 training images);
* scikit-learn's digits at imbalance 20 and 100: 1,797 real 8x8 scans from
  another source (``make_lt_sklearn_digits``, 104 -> 5 / 1).

On each set, from one stage-1 checkpoint (the demo's ``cls_stage1.py``):
stage 1 itself, logit adjustment with tau 1 and with tau chosen on val,
tau-norm (tau on val), cRT, LWS and DisAlign with the demo's stage-2
configs as shipped (only the data paths changed), the trained ones over
``--seeds``. DisAlign's recipe takes its own selection step on val when
its config says so (``tools/analysis/choose_tau.py``, as the demo runs
it). Every choice is made on val; the test split is read once per run,
after it. Groups: classes [0:3] / [3:7] / [7:10] by frequency (many /
medium / few) on every set, so that the groups exist at every imbalance.

    python benchmarks/robustness_protocol.py            # about 35 min, 2 cores
    python benchmarks/robustness_protocol.py --sets lt-digits-ir100 --seeds 0

It prints one table per set (test top-1 and groups, mean +- std over the
seeds), the target check of DisAlign per set, and one summary row per
method: its mean rank over the sets and its worst gap to the best method
of a set. Writes them to ``work_dirs/protocol/tables.txt`` and every
number to ``work_dirs/protocol/results.json``. Sets run side by side
(``--jobs``), one thread each; a run that finished with the same config,
options and stage-1 checkpoint is not run again unless ``--fresh``.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'tools'))

DATA = 'data/protocol'
WORK = 'work_dirs/protocol'
DEMO_DATA = 'data/lt_digits/cls/'
# Longest first (the most training images), so no long set starts last.
SETS = {
    'lt-digits-ir10': ('mnist', 10),
    'lt-digits-ir50': ('mnist', 50),
    'lt-digits-ir100': ('mnist', 100),
    'lt-digits-ir200': ('mnist', 200),
    'sklearn-digits-ir20': ('sklearn', 20),
    'sklearn-digits-ir100': ('sklearn', 100),
}
# The same groups on every set (DeiT-LT's CIFAR-10-LT split by frequency
# rank): count thresholds would leave the few group empty at imbalance 10.
GROUPS = dict(many=(0, 3), medium=(3, 7), few=(7, 10))
CLS = 'configs/demo/cls'
# name -> (label, config, how): 'train' (once), 'seeded' (once per seed),
# 'post_hoc' (tau as configured), 'choose_tau' (tau on val, then test).
METHODS = {
    'stage1': ('stage 1', f'{CLS}_stage1.py', 'train'),
    'la_tau1': ('logit adjustment, tau 1', f'{CLS}_logit-adjustment.py',
                'post_hoc'),
    'la_val': ('logit adjustment, tau on val', f'{CLS}_logit-adjustment.py',
               'choose_tau'),
    'tau_norm': ('tau-norm, tau on val', f'{CLS}_tau-norm.py',
                 'choose_tau'),
    'crt': ('cRT', f'{CLS}_crt.py', 'seeded'),
    'lws': ('LWS', f'{CLS}_lws.py', 'seeded'),
    'disalign': ('DisAlign (mmlt recipe)', f'{CLS}_stage2.py', 'seeded'),
    'disalign_paper': ('DisAlign (paper recipe)', f'{CLS}_stage2_paper.py',
                       'seeded'),
}
METRICS = ('top1', 'many', 'medium', 'few')


def set_root(name):
    return f'{DATA}/{name}/cls/'


def prepare(name):
    """The set's data and its frequency file (skipped when present)."""
    from mmlt.lt_digits import make_lt_digits
    from mmlt.lt_digits.sklearn_digits import make_lt_sklearn_digits
    source, imbalance = SETS[name]
    root = set_root(name)
    if not osp.exists(f'{root}lt_digits_test.txt'):
        if source == 'mnist':
            make_lt_digits(f'{DATA}/{name}', imbalance_ratio=imbalance,
                           tasks=('cls', ))
        else:
            make_lt_sklearn_digits(f'{DATA}/{name}',
                                   imbalance_ratio=imbalance)
    frequency = f'{root}image_frequency.json'
    if not osp.exists(frequency):
        subprocess.check_call(
            [sys.executable, 'tools/analysis/class_frequency.py', 'list',
             f'{root}lt_digits_train.txt', '--classes', f'{root}classes.txt',
             '-o', frequency],
            cwd=ROOT, stdout=subprocess.DEVNULL)


def set_config(name, config):
    """The demo config with the set's data paths and the protocol's
    groups, as a file of its own."""
    from mmengine.config import Config

    def swap(node):
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return type(node)(swap(v) for v in node)
        if isinstance(node, str) and node.startswith(DEMO_DATA):
            return set_root(name) + node[len(DEMO_DATA):]
        return node

    cfg = Config.fromfile(config, import_custom_modules=False)
    for key in ('val_evaluator', 'test_evaluator'):
        cfg[key].class_groups = GROUPS
    out = f'{WORK}/{name}/configs/{osp.basename(config)}'
    os.makedirs(osp.dirname(out), exist_ok=True)
    Config(swap(cfg.to_dict())).dump(out)
    return out


def run_set(name, methods, seeds, fresh):
    """Every method on one set, in this process; results to a file. A run
    finished earlier with the same config and options is not run again
    (``--fresh`` runs everything)."""
    # tools/demo/: runs the tools in this process, and its checkpoint rule
    from demo.in_process import tool
    from demo.runs import checkpoint_of
    work = f'{WORK}/{name}'
    results = {}

    def current(run, config, options=(), stage1=None):
        """Whether ``run`` finished with this config, these options and
        this stage-1 checkpoint (its path and time); if not, its earlier
        outputs are removed, so that they are made again (a changed config
        or stage 1 is never reported with old numbers)."""
        run_dir = osp.join(ROOT, work, run)
        stamp = osp.join(run_dir, 'protocol_run.txt')
        with open(osp.join(ROOT, config)) as f:
            wanted = f.read() + '\n# options: ' + ' '.join(options)
        if stage1 is not None:
            wanted += (f'\n# stage 1: {stage1} '
                       f'{osp.getmtime(osp.join(ROOT, stage1))}')
        if not fresh and osp.exists(stamp):
            with open(stamp) as f:
                if f.read() == wanted:
                    return True
        if osp.isdir(run_dir):
            for entry in os.listdir(run_dir):
                if entry.endswith(('_metrics.json', 'tau_on_val.json')) or \
                        entry in ('last_checkpoint', 'protocol_run.txt'):
                    os.remove(osp.join(run_dir, entry))
        os.makedirs(run_dir, exist_ok=True)
        with open(stamp + '.new', 'w') as f:
            f.write(wanted)
        return False

    def finish(run):
        """Mark ``run`` as done with the config ``current`` saw."""
        stamp = osp.join(ROOT, work, run, 'protocol_run.txt')
        os.replace(stamp + '.new', stamp)

    def evaluate(run, config, checkpoint, options=()):
        """tools/test.py on val, then on test; both metrics files."""
        out = {}
        for split in ('val', 'test'):
            path = f'{work}/{run}/{split}_metrics.json'
            if not osp.exists(path):
                opts = [*options, 'test_dataloader.dataset.ann_file='
                        f'lt_digits_{split}.txt']
                tool('test.py', [config, checkpoint, '--work-dir',
                                 f'{work}/{run}', '--out', path,
                                 '--out-item', 'metrics',
                                 '--cfg-options', *opts],
                     f'{work}/{run}/{split}_test.log')
            with open(osp.join(ROOT, path)) as f:
                metrics = json.load(f)
            out[split] = {k: metrics.get(f'lt/{k}') for k in METRICS}
        return out

    def train(run, config, options, stage1=None):
        run_dir = f'{work}/{run}'
        if not current(run, config, options, stage1):
            args = [config, '--work-dir', run_dir, '--overwrite']
            if options:
                args += ['--cfg-options', *options]
            tool('train.py', args, f'{run_dir}/train.log')
            finish(run)
        return checkpoint_of(run_dir)

    configs = {m: set_config(name, METHODS[m][1]) for m in methods}
    stage1 = train('stage1', configs['stage1'], [])
    for method in methods:
        start = time.time()
        _, _, how = METHODS[method]
        config = configs[method]
        if how == 'train':  # stage 1 itself: trained above
            runs = [evaluate(method, config, stage1)]
        elif how == 'post_hoc':  # tau as set
            if not current(method, config, stage1=stage1):
                finish(method)
            runs = [evaluate(method, config, stage1)]
        elif how == 'choose_tau':
            sweep = f'{work}/{method}/tau_on_val.json'
            if not current(method, config, stage1=stage1):
                finish(method)
            if not osp.exists(sweep):
                tool('analysis/choose_tau.py',
                     [config, stage1, '--work-dir', f'{work}/{method}',
                      '--out', sweep],
                     f'{work}/{method}/choose_tau.log')
            with open(osp.join(ROOT, sweep)) as f:
                chosen = json.load(f)
            runs = [evaluate(method, config, stage1,
                             chosen['cfg_options'].split())]
            runs[0]['tau'] = chosen['best_tau']
        else:
            runs = []
            for seed in seeds:
                run = f'{method}_seed{seed}'
                checkpoint = train(run, config, [
                    f'load_from={stage1}', f'randomness.seed={seed}'],
                                   stage1)
                runs.append(evaluate(run, config, checkpoint))
        results[method] = runs
        print(f'[{name}] {method}: done in {time.time() - start:.0f} s',
              flush=True)
    with open(osp.join(ROOT, f'{work}/results.json'), 'w') as f:
        json.dump(results, f, indent=1)


def mean_std(runs, split, key):
    values = np.array([r[split][key] for r in runs], dtype=float)
    return values.mean(), values.std()


def set_table(name, results, methods, split='test'):
    source, imbalance = SETS[name]
    lines = [f'{name} ({source} digits, imbalance {imbalance}), {split} '
             'top-1 %, groups by frequency [0:3] / [3:7] / [7:10]',
             f'  {"method":<36}' + ''.join(f'{m:>15}' for m in METRICS)]
    for method in methods:
        runs = results[method]
        label = METHODS[method][0]
        if 'tau' in runs[0]:
            label += f' ({runs[0]["tau"]:g})'
        row = f'  {label:<36}'
        for key in METRICS:
            mean, std = mean_std(runs, split, key)
            text = f'{mean:.2f}' + (f' +-{std:.2f}' if len(runs) > 1 else '')
            row += f'{text:>15}'
        lines.append(row)
    return '\n'.join(lines)


def target_check(results, split='test'):
    """Issue target for DisAlign on one set: top-1 >= max(LA on val, cRT)
    - 1, many >= stage 1's - 3, few >= LA on val's."""
    top1 = mean_std(results['disalign'], split, 'top1')[0]
    many = mean_std(results['disalign'], split, 'many')[0]
    few = mean_std(results['disalign'], split, 'few')[0]
    best = max(mean_std(results['la_val'], split, 'top1')[0],
               mean_std(results['crt'], split, 'top1')[0])
    checks = dict(
        top1=top1 >= best - 1,
        many=many >= mean_std(results['stage1'], split, 'many')[0] - 3,
        few=few >= mean_std(results['la_val'], split, 'few')[0])
    return checks, (f'DisAlign top-1 {top1:.2f} vs best(LA on val, cRT) - 1 '
                    f'= {best - 1:.2f}: {"ok" if checks["top1"] else "MISS"}; '
                    f'many {"ok" if checks["many"] else "MISS"}; '
                    f'few {"ok" if checks["few"] else "MISS"}')


def summary(all_results, methods, split='test'):
    """Mean rank (1 = best test top-1 of a set) and worst gap to a set's
    best method, per method."""
    ranks = {m: [] for m in methods}
    gaps = {m: [] for m in methods}
    for results in all_results.values():
        top1 = {m: mean_std(results[m], split, 'top1')[0] for m in methods}
        order = sorted(top1.values(), reverse=True)
        for m in methods:
            ranks[m].append(1 + order.index(top1[m]))  # ties share a rank
            gaps[m].append(order[0] - top1[m])
    lines = [f'Summary over {len(all_results)} sets ({split} top-1)',
             f'  {"method":<30}{"mean rank":>10}{"worst gap":>11}'
             f'{"mean gap":>10}']
    for m in sorted(methods, key=lambda m: np.mean(ranks[m])):
        lines.append(f'  {METHODS[m][0]:<30}{np.mean(ranks[m]):>10.2f}'
                     f'{max(gaps[m]):>11.2f}{np.mean(gaps[m]):>10.2f}')
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sets', nargs='+', choices=list(SETS),
                        default=list(SETS))
    parser.add_argument('--methods', nargs='+', choices=list(METHODS),
                        default=list(METHODS))
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--split', choices=['val', 'test'], default='test',
                        help='the split of the tables (val: to choose a '
                        'recipe; the protocol reports test)')
    parser.add_argument('--jobs', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--fresh', action='store_true',
                        help='run again what an earlier call finished')
    parser.add_argument('--set', help=argparse.SUPPRESS)  # a set's process
    args = parser.parse_args()
    os.chdir(ROOT)
    methods = ['stage1'] + [m for m in args.methods if m != 'stage1']
    if args.set is not None:
        return run_set(args.set, methods, args.seeds, args.fresh)

    for name in args.sets:
        prepare(name)
    # tools/demo/: its scheduler of one-thread processes
    from demo.scheduler import run_side_by_side
    start = time.time()
    run_side_by_side(
        {name: [sys.executable, osp.abspath(__file__), '--set', name,
                '--methods', *methods, '--seeds', *map(str, args.seeds)] +
         (['--fresh'] if args.fresh else []) for name in args.sets},
        args.jobs, 'the protocol stopped: set {name} failed')
    print(f'all sets done in {time.time() - start:.0f} s')

    all_results = {}
    for name in args.sets:
        with open(f'{WORK}/{name}/results.json') as f:
            all_results[name] = json.load(f)
    blocks = [set_table(n, r, methods, args.split)
              for n, r in all_results.items()]
    if 'disalign' in methods and {'la_val', 'crt'} <= set(methods):
        blocks.append('Target (DisAlign): ' + '\n  '.join(
            [''] + [f'{n}: {target_check(r, args.split)[1]}'
                    for n, r in all_results.items()]))
    blocks.append(summary(all_results, methods, args.split))
    text = '\n\n'.join(blocks)
    print('\n' + text)
    with open(f'{WORK}/tables{"_val" if args.split == "val" else ""}.txt',
              'w') as f:
        f.write(text + '\n')
    with open(f'{WORK}/results.json', 'w') as f:
        json.dump(all_results, f, indent=1)


if __name__ == '__main__':
    main()
