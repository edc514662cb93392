"""A careless command must not destroy its input: the frequency tool and
tools/test.py refuse an output path that names a file they read, before
any work, and leave it as it was."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=REPO,
                          capture_output=True, text=True)


def test_frequency_tool_refuses_to_overwrite_its_list(tmp_path):
    image_list = tmp_path / 'train.txt'
    image_list.write_text('a.png 0\nb.png 1\n')
    out = run('tools/analysis/class_frequency.py', 'list', image_list,
              '-o', image_list)
    assert out.returncode != 0
    assert f'is the input {image_list}' in out.stderr
    assert image_list.read_text() == 'a.png 0\nb.png 1\n'


def test_frequency_tool_refuses_to_overwrite_its_json_or_classes(tmp_path):
    lvis = tmp_path / 'lvis.json'
    text = json.dumps(dict(images=[], annotations=[], categories=[]))
    lvis.write_text(text)
    out = run('tools/analysis/class_frequency.py', 'lvis', lvis, '-o',
              tmp_path / '.' / 'lvis.json')
    assert out.returncode != 0 and 'lvis.json' in out.stderr
    assert lvis.read_text() == text
    classes = tmp_path / 'classes.txt'
    classes.write_text('a\nb\n')
    image_list = tmp_path / 'train.txt'
    image_list.write_text('a.png 0\n')
    out = run('tools/analysis/class_frequency.py', 'list', image_list,
              '--classes', classes, '-o', classes)
    assert out.returncode != 0 and 'classes.txt' in out.stderr
    assert classes.read_text() == 'a\nb\n'


@pytest.mark.parametrize('item', ['pred', 'metrics'])
def test_tools_test_refuses_out_on_the_checkpoint(tmp_path, item):
    checkpoint = tmp_path / 'epoch_1.pkl'
    checkpoint.write_bytes(b'weights')
    out = run('tools/test.py', REPO / 'configs/demo/cls_stage1.py',
              checkpoint, '--out', checkpoint, '--out-item', item)
    assert out.returncode != 0
    assert 'is the checkpoint being tested' in out.stderr
    assert checkpoint.read_bytes() == b'weights'


def test_tools_test_refuses_an_out_it_cannot_write_before_testing(
        tmp_path):
    checkpoint = tmp_path / 'epoch_1.pth'
    checkpoint.write_bytes(b'weights')
    out = run('tools/test.py', REPO / 'configs/demo/cls_stage1.py',
              checkpoint, '--out', tmp_path / 'metrics.pth', '--out-item',
              'metrics')
    assert out.returncode != 0
    assert 'must end in .json' in out.stderr
    assert 'Loads checkpoint' not in out.stdout + out.stderr


def test_duplicate_class_names(tmp_path):
    """A class list a user wrote with a name twice is refused; a published
    one (ImageNet names 'crane' twice) and a frequency file written from it
    are taken, with a warning naming the classes."""
    from mmlt.classification.datasets import LongTailListDataset
    from mmlt.core.frequency import ClassFrequency
    with pytest.warns(UserWarning, match=r"'cat' \(classes 0 and 2\)"):
        ClassFrequency.from_counts(['cat', 'dog', 'cat'], [5, 3, 1],
                                   'images')
    image_list = tmp_path / 'train.txt'
    image_list.write_text('a.png 0\nb.png 1\n')
    names = write(tmp_path / 'classes.txt', 'a\nb\na\n')
    out = run('tools/analysis/class_frequency.py', 'list', image_list,
              '--classes', names, '-o', tmp_path / 'freq.json')
    assert out.returncode != 0
    assert "'a' (classes 0 and 2); each class needs a name" in out.stderr
    with pytest.raises(ValueError, match=r"'a' \(classes 0 and 2\)"):
        LongTailListDataset(ann_file=str(image_list), classes=str(names),
                            data_root=str(tmp_path))
    with pytest.warns(UserWarning, match=r"'b' \(classes 1 and 2\)"):
        LongTailListDataset(ann_file=str(image_list), classes=['a', 'b', 'b'],
                            data_root=str(tmp_path), lazy_init=False)


def write(path, text):
    path.write_text(text)
    return path


def test_tools_test_warns_about_stale_counts(tmp_path):
    """A frequency file with the training set's classes but other counts
    (the list changed after it was written): tools/test.py warns, naming
    the file and a class; the right file gives no warning."""
    import torch
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmlt.core.frequency import ClassFrequency, from_image_list
    from mmlt.lt_digits import LT_DIGITS_CLASSES
    from tiny_runs import dump, tiny_cls_data, tiny_config
    data = tiny_cls_data(tmp_path / 'lt_digits', 12)
    cfg = tiny_config('cls_stage1', data, 1)
    model = Runner.from_cfg(dict(cfg.to_dict(), work_dir=str(tmp_path / 'w'))
                            ).model
    torch.save(dict(meta={}, state_dict=model.state_dict()),
               tmp_path / 'stage1.pth')
    config = dump(cfg, tmp_path / 'stage1.py')

    def test():
        return run('tools/test.py', config, tmp_path / 'stage1.pth',
                   '--work-dir', tmp_path / 'test')

    out = test()
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'differ from the training set' not in out.stdout + out.stderr
    counts = list(from_image_list(data / 'lt_digits_train.txt').counts)
    counts[0] += 5  # written before the list lost five images of digit_0
    ClassFrequency.from_counts(LT_DIGITS_CLASSES, counts, 'images').save(
        data / 'image_frequency.json')
    out = test()
    assert out.returncode == 0
    assert (f"{data / 'image_frequency.json'}: its image counts differ from "
            "the training set's") in out.stdout + out.stderr
    assert "'digit_0': 17 (file) vs 12 (dataset)" in out.stdout + out.stderr
    assert Config.fromfile(str(config)).train_dataloader  # still the same
