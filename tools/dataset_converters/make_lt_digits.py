"""Write LT-Digits: MNIST digits as long-tailed cls / det / seg datasets.

    python tools/dataset_converters/make_lt_digits.py \
        [--out data/lt_digits] [--imbalance-ratio 100] [--seed 0] \
        [--tasks cls det seg]

Formats: ImageNet-LT lists (cls), LVIS v1 json (det), ADE20K folders (seg);
see mmlt/lt_digits/. Prints the files written and the per-class train
counts.
"""
import argparse
import json
import sys
from pathlib import Path

# Run from a checkout without installing mmlt.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmlt.lt_digits import (LT_DIGITS_CLASSES, META_FILE,  # noqa: E402
                            TASKS, make_lt_digits)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/lt_digits',
                        help='output folder (default: data/lt_digits)')
    parser.add_argument('--imbalance-ratio', type=float, default=100,
                        help='n_max / n_min of the train profile')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--tasks', nargs='+', choices=TASKS,
                        default=list(TASKS))
    return parser.parse_args(argv)


def count_table(meta: dict, tasks) -> str:
    """Per-class train counts: cls images, det / seg instances, det images
    (with the LVIS frequency group) and seg pixels."""
    counts = meta['counts']
    head = ['class']
    cols = []
    if 'cls' in tasks:
        head.append('cls images')
        cols.append(counts['cls_train'])
    if 'det' in tasks or 'seg' in tasks:
        head.append('det/seg instances')
        cols.append(counts['det_seg_train'])
    if 'det' in tasks:
        head += ['det images', 'LVIS freq']
        cols += [counts['det_train_images'], counts['det_train_frequency']]
    if 'seg' in tasks:
        head.append('seg pixels')
        # Label values on disk: 0 unlabeled, 1 background, 2.. digits.
        cols.append(counts['seg_train_pixels'][2:])
    rows = [head] + [[name] + [str(col[i]) for col in cols]
                     for i, name in enumerate(LT_DIGITS_CLASSES)]
    # Image counts overlap across classes: no total for them.
    rows.append(['total'] + [
        str(sum(col)) if h not in ('det images', 'LVIS freq') else ''
        for h, col in zip(head[1:], cols)
    ])
    widths = [max(len(r[j]) for r in rows) for j in range(len(head))]
    return '\n'.join('  '.join(cell.rjust(w) if j else cell.ljust(w)
                               for j, (cell, w) in enumerate(zip(r, widths)))
                     for r in rows)


def main(argv=None):
    args = parse_args(argv)
    paths = make_lt_digits(
        args.out,
        imbalance_ratio=args.imbalance_ratio,
        seed=args.seed,
        tasks=args.tasks)
    print(f'LT-Digits (imbalance ratio {args.imbalance_ratio:g}, '
          f'seed {args.seed}) written to {args.out}:')
    for task, entries in paths.items():
        for key, path in entries.items():
            print(f'  {task:4s} {key:10s} {path}')
    meta = json.loads((Path(args.out) / META_FILE).read_text())
    print('\nPer-class train counts:')
    print(count_table(meta, args.tasks))
    if 'train_canvases' in meta['counts']:
        print(f"det/seg canvases: {meta['counts']['train_canvases']} train, "
              f"{meta['counts']['val_canvases']} val "
              f'({len(LT_DIGITS_CLASSES)} classes, val balanced)')
    if 'seg' in args.tasks:
        print('seg background pixels (train): '
              f"{meta['counts']['seg_train_pixels'][1]}")
    return paths


if __name__ == '__main__':
    main()
