"""Compute per-class training frequencies and write an mmlt frequency file.

Examples::

    # LVIS v1: images per category, LVIS's own rare / common / frequent split
    python tools/analysis/class_frequency.py lvis \\
        data/lvis_v1/annotations/lvis_v1_train.json \\
        -o data/lvis_v1/lvis_v1_train_frequency.json

    # ADE20K: pixels per class, DisAlign's head / body / tail by class index
    python tools/analysis/class_frequency.py seg \\
        data/ade/ADEChallengeData2016/annotations/training \\
        -o data/ade/ade20k_pixel_frequency.json --num-classes 150 \\
        --reduce-zero-label \\
        --classes mmseg.ADE20KDataset \\
        --split-ranges head:0:20,body:20:75,tail:75:150

    # ImageNet-LT: images per class, many (> 100) / medium / few (< 20)
    python tools/analysis/class_frequency.py list \\
        data/imagenet/ImageNet_LT_train.txt \\
        -o data/imagenet/ImageNet_LT_train_freq.json \\
        --classes mmpretrain.ImageNet

mmlt's configs read the files from these paths (``frequency_file``); see
``mmlt.core.frequency``.
"""
import argparse
import dataclasses
import importlib
import re
import sys
import warnings
from pathlib import Path

try:
    import mmlt  # noqa: F401
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmlt.core.frequency.counts import read_class_names  # noqa: E402
from mmlt.core.frequency import (from_image_list, from_lvis_json,  # noqa: E402
                            from_segmentation_maps, split_by_count,
                            split_by_index_ranges)

TOOLBOXES = {
    'mmseg': 'mmseg.datasets',
    'mmdet': 'mmdet.datasets',
    'mmpretrain': 'mmpretrain.datasets',
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Count class frequencies in annotation files and write '
        'an mmlt class-frequency JSON.')
    parser.add_argument(
        'mode', choices=['lvis', 'seg', 'list'],
        help='lvis: LVIS / COCO json; seg: folder of label PNGs; '
        'list: "path label" image list')
    parser.add_argument('input', help='annotation file or folder')
    parser.add_argument('-o', '--out', required=True,
                        help='output JSON path')
    parser.add_argument('--count', choices=['images', 'instances'],
                        default='images',
                        help='lvis: which count losses use (default images)')
    parser.add_argument('--num-classes', type=int,
                        help='seg / list: number of classes')
    parser.add_argument(
        '--classes',
        help='class names: a text file (one per line) or a dataset such as '
        'mmseg.ADE20KDataset or mmpretrain.ImageNet (its '
        "METAINFO['classes']). For lvis the names are checked against the "
        'json instead.')
    parser.add_argument('--reduce-zero-label', action='store_true',
                        help='seg: label 0 is ignored, others minus 1 '
                        '(as in mmseg)')
    parser.add_argument('--ignore-index', type=int, default=255,
                        help='seg: label value to skip (default 255)')
    parser.add_argument('--suffix', default='.png',
                        help='seg: label-map file suffix (default .png)')
    parser.add_argument(
        '--split-ranges',
        help='split by class-index ranges, e.g. '
        'head:0:20,body:20:75,tail:75:150 (half-open)')
    parser.add_argument('--low', type=int,
                        help='split by count: few < LOW (default 20)')
    parser.add_argument('--high', type=int,
                        help='split by count: many > HIGH (default 100)')
    return parser.parse_args(argv)


def parse_ranges(text):
    """'head:0:20,body:20:75' -> {'head': (0, 20), 'body': (20, 75)}."""
    ranges = {}
    for part in text.split(','):
        match = re.fullmatch(r'\s*([^:]+):(\d+):(\d+)\s*', part)
        if not match:
            raise ValueError(f'--split-ranges: cannot read {part!r}; write '
                             'name:start:end, e.g. head:0:20,body:20:75')
        ranges[match[1]] = (int(match[2]), int(match[3]))
    return ranges


def load_classes(spec):
    """Class names from a text file or a toolbox dataset's METAINFO."""
    path = Path(spec)
    if path.is_file():
        return read_class_names(path, f'--classes {spec}')
    if path.is_dir():
        raise ValueError(f'--classes {spec} is a directory; give a text '
                         'file of class names, one per line.')
    match = re.fullmatch(r'(mmseg|mmdet|mmpretrain)\.(\w+)', spec)
    if not match:
        raise FileNotFoundError(
            f'--classes {spec!r} is neither a file nor a dataset reference '
            'like mmseg.ADE20KDataset or mmpretrain.ImageNet.')
    # Imported only here: the rest of the tool needs no toolbox.
    try:
        module = importlib.import_module(TOOLBOXES[match[1]])
    except ImportError as e:
        raise ValueError(f'--classes {spec}: cannot import {match[1]} '
                         f'({e}); give a text file of names instead.')
    dataset = getattr(module, match[2], None)
    classes = getattr(dataset, 'METAINFO', {}).get('classes')
    if not classes:
        raise ValueError(f'--classes {spec}: {match[1]} has no dataset '
                         f"{match[2]} with METAINFO['classes'].")
    return list(classes)


def check_output_is_not_an_input(args):
    """-o must not name a file the tool reads: writing it would replace
    the annotations (or the class list) with the frequency JSON."""
    out = Path(args.out).resolve()
    inputs = [Path(args.input)] + ([Path(args.classes)] if args.classes
                                   else [])
    for given in inputs:
        path = given.resolve()
        inside = args.mode == 'seg' and given == Path(args.input) and \
            path in out.parents  # among the label maps it reads
        if out == path or inside:
            where = 'is' if out == path else 'is inside'
            raise ValueError(
                f'-o {args.out} {where} the input {given}, which the tool '
                'reads; write the frequency file to another path (e.g. '
                '<name>_frequency.json beside it).')


def run(args):
    check_output_is_not_an_input(args)
    classes = load_classes(args.classes) if args.classes else None
    if args.mode == 'lvis':
        freq = from_lvis_json(args.input, count=args.count)
        if classes is not None:
            # the labels follow the json's category ids; a name spelled
            # otherwise (the real LVIS v1 json's 'speaker_(stero_equipment)')
            # is warned about, a name out of place is an error
            freq.check_classes(classes, f'--classes {args.classes}',
                               allow_respelled=True)
        low_high_names = ('frequent', 'common', 'rare')
        split_counts = freq.counts_array('images')
    elif args.mode == 'seg':
        num_classes = args.num_classes or (len(classes) if classes else None)
        if num_classes is None:
            raise ValueError('seg needs --num-classes (or --classes).')
        freq = from_segmentation_maps(
            args.input, num_classes, classes=classes,
            reduce_zero_label=args.reduce_zero_label,
            ignore_index=args.ignore_index, suffix=args.suffix)
        low_high_names = ('many', 'medium', 'few')
        split_counts = freq.counts_array()
    else:
        freq = from_image_list(args.input, classes=classes,
                               num_classes=args.num_classes)
        low_high_names = ('many', 'medium', 'few')
        split_counts = freq.counts_array()

    by_count = args.low is not None or args.high is not None
    if args.split_ranges and by_count:
        raise ValueError('give either --split-ranges or --low/--high, '
                         'not both.')
    if args.split_ranges:
        freq.split = split_by_index_ranges(freq.num_classes,
                                           parse_ranges(args.split_ranges))
    elif by_count:
        low = 20 if args.low is None else args.low
        high = 100 if args.high is None else args.high
        freq.split = split_by_count(split_counts, low_high_names, low, high)
    # Re-validate after replacing the split.
    freq = dataclasses.replace(freq, split=freq.split)
    print(freq.summary())
    freq.save(args.out)
    print(f'wrote {args.out}')


def main(argv=None):
    args = parse_args(argv)
    # Warnings (zero-count classes, json counts that disagree) are messages
    # for the user here, not code locations.
    warnings.formatwarning = (
        lambda message, *_, **__: f'warning: {message}\n')
    try:
        run(args)
    except (ValueError, OSError) as e:  # FileNotFound, IsADirectory, ...
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
