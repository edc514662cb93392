"""Plot a per-class metric against the training count of each class, for
any task: the files of ``mmlt.core.per_class.write_per_class`` (top-1 of a
classifier, IoU of a segmentor, AP of a detector), one line per file::

    python tools/analysis/plot_per_class.py \\
        work_dirs/demo/stage1_per_class.json \\
        work_dirs/demo/disalign_per_class.csv --labels stage1 DisAlign \\
        --metric top1 -o work_dirs/demo/per_class_top1.png

The x axis is logarithmic; dashed vertical lines mark where one group (many
/ medium / few, ...) ends and the next begins. ``--metric`` defaults to the
first file's first metric.
"""
import argparse
import math
import sys
from pathlib import Path

try:
    import mmlt  # noqa: F401
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmlt.core.per_class import read_per_class  # noqa: E402
from mmlt.utils.plot_files import (add_file_arguments,  # noqa: E402
                                   file_labels, save_figure)


def group_boundaries(rows):
    """``[(x, upper_group, lower_group)]``: between consecutive groups in
    descending-count order, the geometric mean of the upper group's
    smallest and the lower group's largest count (the middle on a log
    axis)."""
    spans = {}
    for row in rows:
        if row['group'] is not None and row['train_count'] is not None:
            low, high = spans.get(row['group'], (math.inf, -math.inf))
            spans[row['group']] = (min(low, row['train_count']),
                                   max(high, row['train_count']))
    ordered = sorted(spans.items(), key=lambda item: -item[1][1])
    lines = []
    for (upper, (low, _)), (lower, (_, high)) in zip(ordered, ordered[1:]):
        if high > 0:
            lines.append((math.sqrt(low * high), upper, lower))
    return lines


def load(paths, metric=None):
    """The files' rows, checked to hold the same classes and ``metric``;
    returns (metric, [rows of each file])."""
    results = [read_per_class(p) for p in paths]
    metric = metric or (results[0]['metrics'] or [None])[0]
    if metric is None:
        raise ValueError(f'{paths[0]}: holds no metric column.')
    classes = [(r['id'], r['name']) for r in results[0]['classes']]
    for path, result in zip(paths, results):
        if metric not in result['metrics']:
            raise ValueError(f'{path}: no metric {metric!r}; it has '
                             f'{result["metrics"]}.')
        if [(r['id'], r['name']) for r in result['classes']] != classes:
            raise ValueError(f'{path}: its classes (id, name) differ from '
                             f'those of {paths[0]}; plot results of one '
                             'dataset together.')
    if any(r['train_count'] is None for r in results[0]['classes']):
        raise ValueError(f'{paths[0]}: the train_count column has empty '
                         'cells; write the file with train_counts.')
    return metric, [r['classes'] for r in results]


def plot(paths, labels, metric, out, title=None, dpi=120) -> Path:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    metric, tables = load(paths, metric)
    # counts and groups come from the first file, the same for every run
    first = tables[0]
    shown = sorted((i for i, r in enumerate(first) if r['train_count'] > 0),
                   key=lambda i: -first[i]['train_count'])
    if len(shown) < len(first):
        print(f'{len(first) - len(shown)} class(es) without a training '
              'sample are left out (log axis).')
    counts = [first[i]['train_count'] for i in shown]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    many = len(shown) > 60
    for rows, label in zip(tables, labels):
        values = [math.nan if rows[i][metric] is None else rows[i][metric]
                  for i in shown]
        ax.plot(counts, values, '-' if many else '-o', lw=1, ms=4,
                label=label)
    for x, upper, lower in group_boundaries(first):
        ax.axvline(x, color='grey', ls='--', lw=0.8)
        ax.text(x, 0.97, f'{upper} | {lower}', ha='center', va='top',
                transform=ax.get_xaxis_transform(), fontsize=8,
                color='dimgrey', bbox=dict(fc='white', ec='none',
                                           alpha=0.8, pad=1))
    ax.set_xscale('log')
    ax.set_xlabel('training count (log)')
    ax.set_ylabel(metric)
    ax.set_title(title or f'per-class {metric} vs training count')
    ax.legend(fontsize=8, loc='lower right')
    fig.tight_layout()
    return save_figure(fig, out, dpi)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot a per-class metric of per-class result files '
        '(.json / .csv of write_per_class) against the training count.')
    add_file_arguments(parser, 'files', 'per-class .json / .csv')
    parser.add_argument('--metric', help='the metric column (default: the '
                        "first file's first metric)")
    return parser.parse_args(argv)


def main(argv=None) -> Path:
    args = parse_args(argv)
    labels = file_labels(args.files, args.labels)
    out = plot(args.files, labels, args.metric, args.out, args.title,
               args.dpi)
    print(f'wrote {out}')
    return out


if __name__ == '__main__':
    main()
