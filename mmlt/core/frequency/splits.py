"""Splits of the classes into reporting groups (many / medium / few,
frequent / common / rare, head / body / tail): by count thresholds, index
ranges, LVIS's frequency letters or rank, and the check of a stored split.
"""
import math
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .counts import REGENERATE, is_whole_number

SPLIT_METHODS = ('count_thresholds', 'index_ranges', 'lvis_frequency', 'rank')

# ADE20K's head / body / tail split (DisAlign), by class index in ADE20K's
# frequency order: classes 0-19, 20-74, 75-149 of 150. Its proportions
# split the pixel counts of other data by rank.
ADE20K_GROUPS = dict(head=(0, 20), body=(20, 75), tail=(75, 150))
ADE20K_FRACTIONS = tuple((end - start) / 150
                         for start, end in ADE20K_GROUPS.values())
# Published splits a config names instead of writing its ranges.
NAMED_GROUPS = dict(ade20k=ADE20K_GROUPS)


def check_split(split, num_classes: int, where: str) -> dict:
    """Validate a split dict and return a normalised copy."""
    if not isinstance(split, Mapping):
        raise ValueError(f'{where}: "split" must be an object with keys '
                         '"method", "names", "thresholds", "groups", got '
                         f'{type(split).__name__}.')
    missing = [k for k in ('method', 'names', 'groups') if k not in split]
    if missing:
        raise ValueError(f'{where}: "split" is missing {missing}; it needs '
                         '"method", "names", "thresholds" and "groups".')
    method = split['method']
    if method not in SPLIT_METHODS:
        raise ValueError(f'{where}: split method {method!r} is unknown; use '
                         f'one of {list(SPLIT_METHODS)}.')
    names = split['names']
    if (isinstance(names, str) or not isinstance(names, Sequence)
            or not names or not all(isinstance(n, str) for n in names)):
        raise ValueError(f'{where}: split "names" must be a non-empty list '
                         f'of group names, got {names!r}.')
    if len(set(names)) != len(names):
        raise ValueError(f'{where}: split "names" has duplicates: '
                         f'{list(names)}.')
    groups = split['groups']
    if not isinstance(groups, Mapping) or set(groups) != set(names):
        got = list(groups) if isinstance(groups, Mapping) else groups
        raise ValueError(f'{where}: split "groups" must have exactly the '
                         f'keys {list(names)} (the split names), got {got!r}.')
    thresholds = split.get('thresholds', {})
    if not isinstance(thresholds, Mapping):
        raise ValueError(f'{where}: split "thresholds" must be an object, '
                         f'got {type(thresholds).__name__}.')
    owner = {}
    clean_groups = {}
    for name in names:
        members = groups[name]
        if isinstance(members, (str, bytes)) or not isinstance(
                members, Sequence):
            raise ValueError(f'{where}: split group {name!r} must be a list '
                             f'of class indices, got {members!r}.')
        clean = []
        for index in members:
            if not is_whole_number(index):
                raise ValueError(f'{where}: split group {name!r} holds '
                                 f'{index!r}, which is not a class index.')
            if not 0 <= index < num_classes:
                raise ValueError(f'{where}: split group {name!r} holds class '
                                 f'index {index}, out of range for '
                                 f'{num_classes} classes (0..'
                                 f'{num_classes - 1}); {REGENERATE}.')
            if index in owner:
                raise ValueError(f'{where}: class index {index} is in both '
                                 f'split groups {owner[index]!r} and '
                                 f'{name!r}; every class must be in exactly '
                                 'one group.')
            owner[int(index)] = name
            clean.append(int(index))
        clean_groups[name] = clean
    if len(owner) != num_classes:
        lost = [i for i in range(num_classes) if i not in owner]
        shown = ', '.join(map(str, lost[:10])) + (' ...' if len(lost) > 10
                                                  else '')
        raise ValueError(f'{where}: {len(lost)} class(es) are in no split '
                         f'group (indices {shown}); every class must be in '
                         'exactly one group.')
    return dict(method=method, names=list(names), thresholds=dict(thresholds),
                groups=clean_groups)


def default_split(counts: Sequence[int], kind: str) -> dict:
    # Pixel counts are in the millions, so the image-count thresholds
    # (20 / 100) mean nothing for them; use ADE20K's proportions by rank.
    if kind == 'pixels':
        return split_by_rank(counts, ADE20K_FRACTIONS)
    return split_by_count(counts)


def split_by_count(counts: Sequence[int],
                   names: Sequence[str] = ('many', 'medium', 'few'),
                   low: int = 20,
                   high: int = 100) -> dict:
    """Three groups by count: > ``high``, ``low``..``high``, < ``low``.

    The ImageNet-LT convention: many-shot > 100 images, medium 20-100,
    few < 20.
    """
    if len(names) != 3:
        raise ValueError(f'split_by_count needs 3 group names, got {names!r}.')
    if low > high:
        raise ValueError(f'split_by_count: low ({low}) must be <= high '
                         f'({high}).')
    counts = np.asarray(counts)
    many, medium, few = names
    groups = {
        many: np.flatnonzero(counts > high).tolist(),
        medium: np.flatnonzero((counts >= low) & (counts <= high)).tolist(),
        few: np.flatnonzero(counts < low).tolist(),
    }
    thresholds = {
        'low': low, 'high': high,
        'rule': f'{many}: count > {high}; {medium}: {low} <= count <= '
                f'{high}; {few}: count < {low}'
    }
    return dict(method='count_thresholds', names=list(names),
                thresholds=thresholds, groups=groups)


def split_by_index_ranges(num_classes: int,
                          ranges: Mapping[str, Tuple[int, int]]) -> dict:
    """Groups by half-open class-index ranges that tile 0..num_classes.

    Example (ADE20K, DisAlign): ``{'head': (0, 20), 'body': (20, 75),
    'tail': (75, 150)}``.
    """
    if not ranges:
        raise ValueError('split_by_index_ranges: no ranges given.')
    spans = sorted((int(start), int(end), name)
                   for name, (start, end) in ranges.items())
    expected = 0
    for start, end, name in spans:
        if start >= end:
            raise ValueError(f'split_by_index_ranges: range {name!r} '
                             f'[{start}, {end}) is empty.')
        if start != expected:
            problem = 'gap' if start > expected else 'overlap'
            raise ValueError(f'split_by_index_ranges: {problem} at class '
                             f'index {min(start, expected)} (range {name!r} '
                             f'starts at {start}); the ranges must tile '
                             f'0..{num_classes} without gaps or overlaps.')
        expected = end
    if expected != num_classes:
        raise ValueError(f'split_by_index_ranges: the ranges end at '
                         f'{expected} but there are {num_classes} classes.')
    groups = {name: list(range(int(s), int(e)))
              for name, (s, e) in ranges.items()}
    thresholds = {'ranges': {name: [int(s), int(e)]
                             for name, (s, e) in ranges.items()},
                  'rule': 'half-open class-index ranges [start, end)'}
    return dict(method='index_ranges', names=list(ranges),
                thresholds=thresholds, groups=groups)


def _rank_sizes(num_classes: int, sizes: Sequence) -> Tuple[List[int], bool]:
    """Group sizes from ints (used as is) or fractions (rounded)."""
    if all(is_whole_number(s) for s in sizes):
        sizes = [int(s) for s in sizes]
        if any(s < 0 for s in sizes) or sum(sizes) != num_classes:
            raise ValueError(f'split_by_rank: sizes {sizes} must be >= 0 and '
                             f'sum to the number of classes ({num_classes}).')
        return sizes, False
    fractions = [float(s) for s in sizes]
    if any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f'split_by_rank: fractions {fractions} must be >= 0 '
                         'and sum to 1.')
    # Round the cumulative boundaries, so the sizes always sum to n.
    bounds, total = [0], 0.0
    for f in fractions:
        total += f
        # round(..., 6) first: 0.49999999 * n must round like 0.5 * n.
        bounds.append(int(math.floor(round(total * num_classes, 6) + 0.5)))
    bounds[-1] = num_classes
    return [b - a for a, b in zip(bounds, bounds[1:])], True


def split_by_rank(counts: Sequence[int],
                  sizes: Sequence = ADE20K_FRACTIONS,
                  names: Optional[Sequence[str]] = None) -> dict:
    """Sort classes by count (descending) and cut the ranking into groups.

    ``sizes`` holds either class counts per group (ints summing to the
    number of classes) or fractions (floats summing to 1, rounded to whole
    classes). Ties keep the lower class index first. ``names`` defaults to
    ('head', 'body', 'tail') for three groups.
    """
    counts = np.asarray(counts)
    if names is None:
        if len(sizes) != 3:
            raise ValueError('split_by_rank: give names for a split into '
                             f'{len(sizes)} groups.')
        names = ('head', 'body', 'tail')
    if len(names) != len(sizes):
        raise ValueError(f'split_by_rank: {len(names)} names for '
                         f'{len(sizes)} sizes.')
    group_sizes, from_fractions = _rank_sizes(len(counts), sizes)
    # Stable sort on -count: ties stay in class-index order.
    order = np.argsort(-counts.astype(np.float64), kind='stable')
    groups, start = {}, 0
    for name, size in zip(names, group_sizes):
        groups[name] = sorted(order[start:start + size].tolist())
        start += size
    thresholds = {'sizes': group_sizes,
                  'rule': 'classes sorted by count, descending (ties by '
                          'class index); consecutive groups of these sizes'}
    if from_fractions:
        thresholds['fractions'] = [float(s) for s in sizes]
    return dict(method='rank', names=list(names), thresholds=thresholds,
                groups=groups)


def split_lvis(image_counts: Sequence[int],
               frequency_letters: Optional[Sequence[Optional[str]]] = None
               ) -> dict:
    """LVIS's frequent / common / rare split.

    Uses LVIS's own 'f' / 'c' / 'r' letters when every category has one;
    otherwise the image-count rule LVIS defines them by: rare 1-10 images,
    common 11-100, frequent > 100. Categories with 0 images count as rare.
    """
    names = ('frequent', 'common', 'rare')
    if frequency_letters is not None and len(frequency_letters) == len(
            image_counts) and all(f is not None for f in frequency_letters):
        letter_to_name = {'f': 'frequent', 'c': 'common', 'r': 'rare'}
        groups = {name: [] for name in names}
        for i, letter in enumerate(frequency_letters):
            if letter not in letter_to_name:
                raise ValueError(f'split_lvis: category {i} has frequency '
                                 f'{letter!r}; LVIS uses "f", "c" or "r".')
            groups[letter_to_name[letter]].append(i)
        thresholds = {'field': 'frequency',
                      'rule': "the categories' own LVIS frequency letters "
                              "(r: 1-10 images, c: 11-100, f: > 100 in the "
                              "LVIS train set)"}
        return dict(method='lvis_frequency', names=list(names),
                    thresholds=thresholds, groups=groups)
    split = split_by_count(image_counts, names, low=11, high=100)
    split['thresholds']['count'] = 'images'
    return split


def groups_from_ranges(ranges: Union[str, Mapping[str, Sequence[int]]]
                       ) -> Dict[str, List[int]]:
    """Group name -> class indices of half-open index ranges that tile
    0..(the last end), e.g. ``ADE20K_GROUPS``, or of the name of one of
    ``NAMED_GROUPS`` (``'ade20k'``): a metric's ``class_groups``.
    """
    if isinstance(ranges, str):
        if ranges not in NAMED_GROUPS:
            raise ValueError(f'class_groups {ranges!r} is not a known split '
                             f'({", ".join(NAMED_GROUPS)}); give '
                             '{name: (start, end)} index ranges instead.')
        ranges = NAMED_GROUPS[ranges]
    ranges = {name: tuple(span) for name, span in ranges.items()}
    num_classes = max((end for _, end in ranges.values()), default=0)
    return split_by_index_ranges(num_classes, ranges)['groups']
