"""Malformed input gets an error that says what is wrong and where: the
frequency tool, tools/test.py and tools/train.py on the inputs that used to
give a bare traceback or a message without the file."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=REPO,
                          capture_output=True, text=True)


def frequency(*args):
    return run('tools/analysis/class_frequency.py', *args)


def lvis_json(categories, annotations):
    return dict(images=[dict(id=1)], categories=categories,
                annotations=annotations)


# ------------------------------------------------ class_frequency.py
def test_a_directory_is_named_as_one(tmp_path):
    out = frequency('list', tmp_path, '-o', tmp_path / 'f.json')
    assert out.returncode == 1
    assert f'image list {tmp_path} is a directory' in out.stderr


def test_string_category_ids(tmp_path):
    path = tmp_path / 'lvis.json'
    path.write_text(json.dumps(lvis_json(
        [dict(id='2', name='cat')], [dict(category_id='2', image_id=1)])))
    out = frequency('lvis', path, '-o', tmp_path / 'f.json')
    assert out.returncode == 1
    assert "category ids must be integers (LVIS and COCO write them so), " \
        "got '2'" in out.stderr


def test_deeply_nested_json(tmp_path):
    path = tmp_path / 'lvis.json'
    path.write_text('[' * 100000 + ']' * 100000)
    out = frequency('lvis', path, '-o', tmp_path / 'f.json')
    assert out.returncode == 1
    assert f'{path} is not valid JSON (nested too deeply' in out.stderr
    assert 'Traceback' not in out.stderr


def test_duplicate_json_keys(tmp_path):
    path = tmp_path / 'lvis.json'
    path.write_text('{"categories": [], "categories": [{"id": 1, '
                    '"name": "a"}], "annotations": []}')
    out = frequency('lvis', path, '-o', tmp_path / 'f.json')
    assert out.returncode == 1
    assert "'categories' appear twice in one object" in out.stderr


def test_non_utf8_class_names(tmp_path):
    (tmp_path / 'train.txt').write_text('a.png 0\n')
    names = tmp_path / 'classes.txt'
    names.write_bytes(b'caf\xe9\n')
    out = frequency('list', tmp_path / 'train.txt', '--classes', names, '-o',
                    tmp_path / 'f.json')
    assert out.returncode == 1
    assert f'--classes {names} is not UTF-8 text' in out.stderr


def test_corrupt_label_map(tmp_path):
    (tmp_path / 'maps').mkdir()
    (tmp_path / 'maps' / 'a.png').write_bytes(b'\x89PNG\r\n\x1a\nbroken')
    out = frequency('seg', tmp_path / 'maps', '--num-classes', '3', '-o',
                    tmp_path / 'f.json')
    assert out.returncode == 1
    assert 'a.png cannot be read as an image' in out.stderr
    assert 'Traceback' not in out.stderr


def test_a_huge_class_name_is_not_quoted_whole(tmp_path):
    huge = 'x' * 10_000_000
    path = tmp_path / 'lvis.json'
    path.write_text(json.dumps(lvis_json(
        [dict(id=1, name=huge)], [dict(category_id=huge, image_id=1)])))
    out = frequency('lvis', path, '-o', tmp_path / 'f.json')
    assert out.returncode == 1
    assert 'which is not in "categories"' in out.stderr
    assert len(out.stderr) < 2000


# ------------------------------------------------------- tools/test.py
def test_a_checkpoint_holding_a_bare_tensor(tmp_path):
    checkpoint = tmp_path / 'weights.pth'
    torch.save(torch.zeros(3), checkpoint)
    from mmlt.engine import CheckpointLoadError, load_checkpoint_file
    with pytest.raises(CheckpointLoadError,
                       match=f'{checkpoint} holds a Tensor, not a checkpoint'):
        load_checkpoint_file(checkpoint)


def test_a_checkpoint_directory(tmp_path):
    (tmp_path / 'last_checkpoint').write_text('epoch_3.pth')
    from mmlt.engine import load_checkpoint_file
    with pytest.raises(IsADirectoryError,
                       match='is a directory; give the checkpoint file in '
                       'it.*last_checkpoint names the newest'):
        load_checkpoint_file(tmp_path)


def test_a_non_utf8_class_list_is_named(tmp_path):
    from mmlt.classification.datasets import LongTailListDataset
    (tmp_path / 'train.txt').write_text('a.png 0\n')
    names = tmp_path / 'classes.txt'
    names.write_bytes(b'\xff\xfe\n')
    with pytest.raises(ValueError, match=f'class-name file {names} is not '
                       'UTF-8 text'):
        LongTailListDataset(ann_file=str(tmp_path / 'train.txt'),
                            classes=str(names), data_root=str(tmp_path))


# ------------------------------------------------------ tools/train.py
def test_a_config_syntax_error_names_the_file_and_line(tmp_path):
    config = tmp_path / 'broken.py'
    config.write_text('a = 1\nb = (\n')
    out = run('tools/train.py', config, '--work-dir', tmp_path / 'w')
    assert out.returncode != 0
    assert f'{config} (or a _base_ it inherits), line 2:' in out.stderr


def test_cfg_options_without_a_value(tmp_path):
    out = run('tools/train.py', 'configs/demo/cls_stage1.py', '--cfg-options',
              'train_cfg.max_epochs')
    assert out.returncode == 2
    assert 'train_cfg.max_epochs: expected key=value' in out.stderr


def test_cfg_options_text_for_a_number(tmp_path):
    out = run('tools/train.py', 'configs/demo/cls_stage1.py', '--work-dir',
              tmp_path / 'w', '--cfg-options', 'train_cfg.max_epochs=abc')
    assert out.returncode != 0
    assert ("--cfg-options train_cfg.max_epochs=abc: the config holds a "
            "number there (60), and 'abc' is not one") in out.stderr


def test_a_full_disk_names_the_file(tmp_path, monkeypatch):
    import errno
    import os

    from mmlt.engine.checkpointing import write_atomically
    target = tmp_path / 'epoch_2.pth'
    target.write_bytes(b'old')

    def no_space(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', no_space)
    with pytest.raises(OSError, match=f'No space left on device while '
                       f'writing {target}'):
        write_atomically(b'new' * 10, target)
    assert target.read_bytes() == b'old'
    assert not (tmp_path / 'epoch_2.pth.tmp').exists()
    assert np.array_equal(sorted(p.name for p in tmp_path.iterdir()),
                          ['epoch_2.pth'])
