"""Split an ImageNet-LT style training list into the part stage 1 trains on
and the part DisAlign's stage 2 learns its calibration on.

Per class, ``floor(fraction * n)`` images are held out (the rule and why:
``mmlt.core.heldout_split``); the rare classes keep all of theirs for
stage 1. Writes ``<stem>_fit.txt`` and ``<stem>_heldout.txt`` beside the
list (or in ``--out-dir``), the entries as in the list::

    python tools/dataset_converters/split_heldout.py \\
        data/lt_digits/cls/lt_digits_train.txt --fraction 0.2

Then the class frequencies of both parts (the G-RW loss of stage 2 counts
the held-out images it trains on)::

    python tools/analysis/class_frequency.py list \\
        data/lt_digits/cls/lt_digits_train_heldout.txt \\
        --classes data/lt_digits/cls/classes.txt \\
        -o data/lt_digits/cls/heldout_frequency.json
"""
import argparse
import sys
from pathlib import Path

try:
    import mmlt  # noqa: F401
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmlt.core.frequency.image_list import read_image_list  # noqa: E402
from mmlt.core.heldout_split import heldout_split  # noqa: E402

#: the default part held out: one fold of the usual 5-fold split
DEFAULT_FRACTION = 0.2


def split_list(list_file, fraction=DEFAULT_FRACTION, seed=0, out_dir=None):
    """Write the fit and held-out lists of ``list_file``; their paths."""
    list_file = Path(list_file)
    entries, labels = read_image_list(list_file)
    fit, heldout = heldout_split(labels, fraction, seed)
    out_dir = Path(out_dir) if out_dir is not None else list_file.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for part, indices in (('fit', fit), ('heldout', heldout)):
        out = out_dir / f'{list_file.stem}_{part}.txt'
        if out.resolve() == list_file.resolve():
            raise ValueError(f'{out} is the input list itself; choose '
                             'another --out-dir.')
        out.write_text(''.join(entries[i] + '\n' for i in indices))
        paths[part] = out
    return paths, len(fit), len(heldout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('list', help='"path label" training list')
    parser.add_argument('--fraction', type=float, default=DEFAULT_FRACTION,
                        help='part of each class held out (default '
                        f'{DEFAULT_FRACTION})')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-dir', help='default: beside the list')
    args = parser.parse_args()
    try:
        paths, n_fit, n_heldout = split_list(args.list, args.fraction,
                                             args.seed, args.out_dir)
    except (OSError, ValueError) as e:
        sys.exit(f'split_heldout.py: {e}')
    print(f'wrote {paths["fit"]} ({n_fit} images, stage 1) and '
          f'{paths["heldout"]} ({n_heldout} images, stage 2)')


if __name__ == '__main__':
    main()
