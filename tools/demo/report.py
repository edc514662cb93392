"""What the demo shows at the end: the LT-Digits profile, each task's
per-class plot and its tables, all from the files the runs wrote."""
import glob
import os.path as osp

import numpy as np

from . import ROOT
from .in_process import tool
from .tasks import WORK


def per_class_file(metrics_file, name):
    """The per-class file (``per_class_<name>.json``) that the test run of
    ``metrics_file`` wrote in its log dir (the newest of its work dir)."""
    found = sorted(glob.glob(osp.join(ROOT, osp.dirname(metrics_file), '*',
                                      f'per_class_{name}.json')),
                   key=osp.getmtime)
    if not found:
        raise FileNotFoundError(f'no per_class_{name}.json next to the test '
                                f'log of {metrics_file}')
    return found[-1]


def plot_per_class(name, task, files):
    """The task's per-class metric against training frequency, one line per
    method (the first seed of the trained ones); ``files``: the metrics
    file of each run."""
    per_class, metric = task['plot']
    out = f'{WORK}/{name}_per_class_{metric}.png'
    labels = [label for label, _, _ in task['methods']]
    inputs = [per_class_file(files[run], per_class)
              for _, run, _ in task['methods']]
    tool('analysis/plot_per_class.py',
         [*inputs, '--labels', *labels, '--metric', metric, '-o', out],
         f'{WORK}/{name}_plot.log')
    print(f'[{name}] per-class {metric} plot: {out}')


def tables(task, metrics):
    """The task's tables as text: its own and its ``more_tables``."""
    return '\n\n'.join(
        table(task, title, columns, metrics) for title, columns in
        [(task['title'], task['metrics']), *task.get('more_tables', [])])


def table(task, title, columns, metrics):
    """A table of the task's methods as text: mean (+- std over seeds)
    of each of ``columns`` (label, metric key)."""
    scale = task.get('scale', 1)
    width = max(len(label) for label, _, _ in task['methods']) + 2
    seeded = any(len(metrics[run]) > 1 for _, run, _ in task['methods'])
    cell = 15 if seeded else 10
    lines = [title,
             f'  {"method":<{width}}' + ''.join(
                 f'{label:>{cell}}' for label, _ in columns)]
    for label, run, prefix in task['methods']:
        row = f'  {label:<{width}}'
        for _, key in columns:
            values = np.array([m[prefix + key] for m in metrics[run]],
                              dtype=float) * scale
            text = f'{values.mean():.2f}'
            if len(values) > 1:
                text += f' +-{values.std():.2f}'
            row += f'{text:>{cell}}'
        lines.append(row)
    if seeded:
        lines.append('  (+- : std over the stage-2 seeds; post-hoc methods '
                     'and stage 1 run once)')
    return '\n'.join(lines)


def print_profile(meta):
    """The training counts per class of the three LT-Digits tasks."""
    counts = meta['counts']
    print('LT-Digits train profile (class 0 is the head; imbalance '
          f'{meta["imbalance_ratio"]}):')
    print(f'  {"class":<10}{"cls images":>11}{"det instances":>15}'
          f'{"det images":>12}{"seg pixels":>12}')
    for i, name in enumerate(meta['classes']):
        print(f'  {name:<10}{counts["cls_train"][i]:>11}'
              f'{counts["det_seg_train"][i]:>15}'
              f'{counts["det_train_images"][i]:>12}'
              f'{counts["seg_train_pixels"][i + 2]:>12}')
