"""The model index: ``model-index.yml`` imports one ``metafile.yml`` per
config folder (OpenMMLab's model-index format, what ``mim search`` reads).
Every path it names exists, every config a user runs is listed, the
training metadata are those of the config, and every result is a number
the folder's README quotes, with its source."""
import functools
import re
from pathlib import Path

import modelindex
import pytest
import yaml
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'configs'
# every config folder but the bases
FOLDERS = sorted(p.name for p in CONFIGS.iterdir()
                 if p.is_dir() and p.name != '_base_')


@functools.lru_cache(maxsize=None)
def load_config(rel: str) -> Config:
    from mmlt.engine import setup_runtime
    setup_runtime()  # the `mmlt::` prefix, should a config use it
    return Config.fromfile(str(REPO / rel))


def metafile(folder: str) -> dict:
    with open(CONFIGS / folder / 'metafile.yml') as f:
        return yaml.safe_load(f)


def test_model_index_imports_every_folder():
    with open(REPO / 'model-index.yml') as f:
        imports = yaml.safe_load(f)['Import']
    assert imports == [f'configs/{folder}/metafile.yml' for folder in FOLDERS]
    # modelindex (mim's reader) loads it: every model, no duplicate names
    index = modelindex.load(str(REPO / 'model-index.yml'))
    names = [m.name for m in index.models]
    assert len(names) == len(set(names))
    assert len(names) == sum(len(metafile(f)['Models']) for f in FOLDERS)
    assert {c.name for c in index.collections} == {
        c['Name'] for f in FOLDERS for c in metafile(f)['Collections']}


@pytest.mark.parametrize('folder', FOLDERS)
def test_metafile_lists_the_folder(folder):
    data = metafile(folder)
    collections = {c['Name']: c for c in data['Collections']}
    for collection in collections.values():
        # paths from the repository root, as mmdet's metafiles write them
        assert (REPO / collection['README']).is_file(), collection['README']
    listed = []
    for model in data['Models']:
        assert model['In Collection'] in collections, model['Name']
        config = REPO / model['Config']
        assert config.is_file(), model['Config']
        assert config.parent == CONFIGS / folder, model['Config']
        assert model['Name'] == config.stem
        assert 'Weights' not in model  # mmlt publishes no checkpoints
        listed.append(config.name)
    # every config a user runs, each once; no base (configs/_base_)
    assert sorted(listed) == sorted(p.name for p in
                                    (CONFIGS / folder).glob('*.py'))


@pytest.mark.parametrize('folder', FOLDERS)
def test_metafile_metadata_are_the_configs(folder):
    for model in metafile(folder)['Models']:
        meta = model['Metadata']
        cfg = load_config(model['Config'])
        if 'Epochs' in meta:
            assert meta['Epochs'] == cfg.train_cfg.max_epochs, model['Name']
        if 'Iterations' in meta:
            assert meta['Iterations'] == cfg.train_cfg.max_iters, \
                model['Name']
        if 'Batch Size' in meta:  # `<gpus>xb<batch>` in the name
            gpus = int(model['Name'].split('xb')[0].rsplit('_', 1)[-1])
            assert meta['Batch Size'] == \
                gpus * cfg.train_dataloader.batch_size, model['Name']
        # a post-hoc method trains nothing: no schedule to report
        trained = not any(m in model['Name']
                          for m in ('logit-adjustment', 'tau-norm'))
        assert trained == ('Epochs' in meta or 'Iterations' in meta), \
            model['Name']


@pytest.mark.parametrize('folder', FOLDERS)
def test_metafile_results_are_the_readmes(folder):
    readme = (CONFIGS / folder / 'README.md').read_text()
    for model in metafile(folder)['Models']:
        if 'Results' not in model:
            continue
        # published numbers, labelled as such
        assert 'not reproduced by mmlt' in model['Results From']
        assert Path(model['Config']).name in readme, model['Name']
        for result in model['Results']:
            assert result['Task'] and result['Dataset']
            for name, value in result['Metrics'].items():
                assert isinstance(value, (int, float)), (model['Name'], name)
                # the number as the README writes it (not inside another)
                assert re.search(rf'(?<![\d.]){re.escape(str(value))}(?!\d)',
                                 readme), (f'{model["Name"]}: {name} {value} '
                                           f'is not in configs/{folder}/'
                                           'README.md')
