"""The demo's command line (``tools/demo.py``) and the order of its steps:
the data, the frequency files, the lanes, the plots, the tables."""
import argparse
import json
import os
import os.path as osp
import time

from mmlt.lt_digits import lt_digits_outdated, make_lt_digits

from . import ROOT
from .in_process import tool
from .progress import Progress
from .report import plot_per_class, print_profile, tables
from .scheduler import lanes, run_lane, run_lanes
from .tasks import DATA, LONGEST_FIRST, TASKS, WORK


def write_frequency(name, task):
    """The task's frequency file, at the path its config reads it from."""
    from mmengine.config import Config
    config, args = task['frequency']['config'], task['frequency']['args']
    out = Config.fromfile(osp.join(ROOT, config),
                          import_custom_modules=False)['frequency_file']
    tool('analysis/class_frequency.py', [*args, '-o', out],
         f'{WORK}/{name}_frequency.log')
    print(f'[{name}] class frequencies: {out}')


def make_data(regenerate):
    """LT-Digits in DATA, (re)written if asked or outdated; its profile."""
    meta_file = f'{DATA}/lt_digits.json'
    stale = lt_digits_outdated(DATA)
    if regenerate or stale:
        if stale and osp.exists(meta_file):
            print(f'{DATA}: {stale}; rewriting it')
        make_lt_digits(DATA)
        print(f'wrote LT-Digits to {DATA}')
    with open(meta_file) as f:
        print_profile(json.load(f))


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--tasks', nargs='+', choices=list(TASKS),
                        default=list(TASKS))
    parser.add_argument('--regenerate', action='store_true',
                        help=f'rebuild {DATA} even if it exists')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0],
                        help='seeds of the trained stage-2 runs (default 0)')
    parser.add_argument('--out', help='also write the tables to this file')
    parser.add_argument(
        '--jobs', type=int,
        default=min(os.cpu_count() or 1, len(LONGEST_FIRST)),
        help='lanes run side by side, one thread each (default: the cores)')
    parser.add_argument('--lane', choices=list(lanes(TASKS)),
                        help=argparse.SUPPRESS)  # a lane's own process
    parser.add_argument('--lines', action='store_true',
                        help=argparse.SUPPRESS)  # progress as whole lines
    return parser.parse_args()


def main(description):
    args = parse_args(description)
    os.chdir(ROOT)
    if args.lane is not None:
        Progress.whole_lines = args.lines
        return run_lane(args.lane, args.seeds)

    make_data(args.regenerate)
    for name in args.tasks:
        write_frequency(name, TASKS[name])
    start = time.time()
    results = run_lanes(args.tasks, args.seeds, max(1, args.jobs))
    print(f'all runs done in {time.time() - start:.0f} s', flush=True)
    for name in args.tasks:
        if 'plot' in TASKS[name]:
            plot_per_class(name, TASKS[name], results[name]['files'])
    texts = [tables(TASKS[name], results[name]['metrics'])
             for name in args.tasks]
    print('\n' + '\n\n'.join(texts))
    if args.out:
        with open(args.out, 'w') as f:
            f.write('\n\n'.join(texts) + '\n')
