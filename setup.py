# Copyright (c) mmookd authors. All rights reserved.
"""Install mmookd.

``pip install -e .`` (or ``mim install -e .``) installs the package into an
existing OpenMMLab environment (torch, mmengine, mmcv with ops, mmdet); see
README.md. Like mmdet and mmyolo, the mim extension puts ``configs/`` and
``tools/`` under ``mmookd/.mim`` so that ``mim train mmookd CONFIG`` and
``mmookd::`` config lookups work from an installed package.
"""
import os
import os.path as osp
import platform
import shutil
import sys
import warnings
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


def get_version() -> str:
    scope = {}
    with open(osp.join(HERE, 'mmookd', 'version.py'), encoding='utf-8') as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(fname: str) -> list:
    """Read a requirements file, following ``-r`` includes.

    Comments and blank lines are skipped; version specifiers are kept.
    """
    path = osp.join(HERE, fname)
    requirements = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                requirements += parse_requirements(
                    osp.join(osp.dirname(fname), line[3:].strip()))
            else:
                requirements.append(line)
    return requirements


def add_mim_extension() -> None:
    """Expose configs/, tools/ and demo/ inside the package (``.mim``).

    Editable installs get symlinks (edits show at once); wheels and sdists
    get copies. On Windows, copies are used everywhere.
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'copy' if platform.system() == 'Windows' else 'symlink'
    elif any(cmd in sys.argv for cmd in ('sdist', 'bdist_wheel', 'install')):
        mode = 'copy'
    else:
        return

    mim_path = osp.join(HERE, 'mmookd', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in ('configs', 'tools', 'demo', 'model-index.yml'):
        src = osp.join(HERE, name)
        if not osp.exists(src):
            continue
        tar = osp.join(mim_path, name)
        if osp.islink(tar) or osp.isfile(tar):
            os.remove(tar)
        elif osp.isdir(tar):
            shutil.rmtree(tar)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), tar)
        elif osp.isdir(src):
            shutil.copytree(src, tar)
        else:
            shutil.copyfile(src, tar)
    if mode not in ('symlink', 'copy'):
        warnings.warn(f'unknown mim extension mode {mode}')


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmookd',
        version=get_version(),
        description='Offline-to-Online Knowledge Distillation for video '
        'instance segmentation, an MMDetection 3.x plugin',
        long_description=readme(),
        long_description_content_type='text/markdown',
        keywords='computer vision, video instance segmentation, '
        'knowledge distillation, openmmlab',
        packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
        include_package_data=True,
        package_data={'mmookd': ['.mim/**/*']},
        python_requires='>=3.8',
        license='Apache License 2.0',
        classifiers=[
            'License :: OSI Approved :: Apache Software License',
            'Operating System :: OS Independent',
            'Programming Language :: Python :: 3',
        ],
        install_requires=parse_requirements('requirements/runtime.txt'),
        extras_require={
            'tests': parse_requirements('requirements/tests.txt'),
            'mim': parse_requirements('requirements/mminstall.txt'),
        },
        zip_safe=False)
