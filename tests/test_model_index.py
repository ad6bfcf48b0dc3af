# Copyright (c) mmookd authors. All rights reserved.
"""model-index.yml and the metafiles: every path exists, nothing is left
out (OpenMMLab's model zoo format, read by ``mim``)."""
import glob
import os.path as osp

import yaml

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FOLDERS = ('idol', 'ookd_teacher', 'ookd')


def _load(path):
    with open(osp.join(ROOT, path)) as f:
        return yaml.safe_load(f)


def test_model_index_lists_every_metafile():
    imports = _load('model-index.yml')['Import']
    metafiles = sorted(
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, 'configs', '*', 'metafile.yml')))
    assert sorted(imports) == metafiles
    assert metafiles == [f'configs/{f}/metafile.yml' for f in sorted(FOLDERS)]


def test_metafiles_name_existing_configs_and_all_of_them():
    names = set()
    for folder in FOLDERS:
        meta = _load(f'configs/{folder}/metafile.yml')
        collections = {c['Name'] for c in meta['Collections']}
        for collection in meta['Collections']:
            assert osp.isfile(osp.join(ROOT, collection['README']))
        listed = []
        for model in meta['Models']:
            assert model['In Collection'] in collections
            config = model['Config']
            assert osp.isfile(osp.join(ROOT, config)), config
            assert model['Name'] == osp.splitext(osp.basename(config))[0]
            assert model['Name'] not in names, model['Name']
            names.add(model['Name'])
            assert model['Metadata']['Training Data']
            # no invented weights: nothing is released by mmookd
            assert 'Weights' not in model
            listed.append(config)
        runnable = sorted(
            osp.relpath(p, ROOT)
            for p in glob.glob(osp.join(ROOT, 'configs', folder, '*.py'))
            if not p.endswith(('_base.py', '_dataset.py')))
        assert sorted(listed) == runnable, folder
