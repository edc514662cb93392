"""Tests for tools/analysis/plot_per_class.py and plot_reliability.py: each
tool's main() on two tiny files, and the errors on files that disagree."""
import importlib.util
import math
from pathlib import Path

import pytest

from mmlt.core.calibration_error import reliability_bins, write_reliability
from mmlt.core.per_class import per_class_rows, write_per_class

TOOLS = Path(__file__).resolve().parents[2] / 'tools' / 'analysis'
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def tool(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NAMES = ['a', 'b', 'c', 'd', 'e', 'f']
COUNTS = [500, 120, 80, 20, 5, 0]
GROUPS = {'many': [0, 1], 'medium': [2, 3], 'few': [4, 5]}


def write(tmp_path, stem, top1, names=NAMES):
    rows = per_class_rows(names, {'top1': top1, 'top5': [100.0] * 6},
                          COUNTS, GROUPS)
    return write_per_class(tmp_path / stem, rows, 'classification',
                           ['top1', 'top5'])


def test_group_boundaries_by_hand(tmp_path):
    plot = tool('plot_per_class')
    rows = per_class_rows(NAMES, {}, COUNTS, GROUPS)
    # many [120, 500] | medium [20, 80] | few [0, 5]:
    # sqrt(120 * 80) = 97.98, sqrt(20 * 5) = 10
    lines = plot.group_boundaries(rows)
    assert [(u, lo) for _, u, lo in lines] == [
        ('many', 'medium'), ('medium', 'few')]
    assert [x for x, _, _ in lines] == pytest.approx(
        [math.sqrt(9600), 10.0])


def test_plot_two_files(tmp_path):
    plot = tool('plot_per_class')
    _, stage1 = write(tmp_path, 'stage1', [99, 90, 70, 40, None, 0])
    disalign, _ = write(tmp_path, 'disalign', [95, 90, 80, 60, 30, math.nan])
    out = plot.main([str(stage1), str(disalign), '--labels', 'stage1',
                     'DisAlign', '--metric', 'top1', '-o',
                     str(tmp_path / 'png' / 'out.png')])
    assert out == tmp_path / 'png' / 'out.png'
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 1000
    # the default metric is the first file's first one (top1)
    default = plot.main([str(stage1), '-o', str(tmp_path / 'd.png')])
    assert default.read_bytes().startswith(PNG_MAGIC)


def test_plot_errors_name_the_file(tmp_path):
    plot = tool('plot_per_class')
    _, good = write(tmp_path, 'good', [1] * 6)
    _, other = write(tmp_path, 'other', [1] * 6,
                     names=['a', 'b', 'c', 'd', 'e', 'z'])
    with pytest.raises(ValueError, match=r'other\.json: its classes'):
        plot.main([str(good), str(other), '-o', str(tmp_path / 'x.png')])
    with pytest.raises(ValueError, match=r"good\.json: no metric 'iou'"):
        plot.main([str(good), '--metric', 'iou', '-o',
                   str(tmp_path / 'x.png')])
    with pytest.raises(ValueError, match='1 labels for 2 files'):
        plot.main([str(good), str(good), '--labels', 'one', '-o',
                   str(tmp_path / 'x.png')])
    assert not (tmp_path / 'x.png').exists()


def test_reliability_plot(tmp_path):
    plot = tool('plot_reliability')
    a = write_reliability(tmp_path / 'a.json',
                          reliability_bins([0.9, 0.6, 0.3], [1, 0, 1]))
    b = write_reliability(tmp_path / 'b.json',
                          reliability_bins([0.95, 0.99], [1, 1]))
    out = plot.main([str(a), str(b), '--labels', 'stage1', 'DisAlign',
                     '-o', str(tmp_path / 'rel.png')])
    assert out.read_bytes().startswith(PNG_MAGIC)
    (tmp_path / 'bad.json').write_text('{"classes": []}')
    with pytest.raises(ValueError, match=r'bad\.json: not a reliability'):
        plot.main([str(tmp_path / 'bad.json'), '-o',
                   str(tmp_path / 'y.png')])
