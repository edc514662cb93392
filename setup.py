import os.path as osp
import re
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# Shipped inside the wheel, as the OpenMMLab packages do: mmlt/.mim/configs
# (for `_base_ = 'mmlt::...'`, with each folder's metafile.yml),
# mmlt/.mim/tools (for mmlt-train / mmlt-test) and mmlt/.mim/model-index.yml
# (what `mim search mmlt` reads). An editable install reads the checkout's
# own (mmlt/mim.py).
MIM_DIRS = ('configs', 'tools')
MIM_FILES = ('model-index.yml', )


class build_py_with_mim(build_py):

    def run(self):
        super().run()
        if self.editable_mode:
            return
        for name in MIM_DIRS:
            target = osp.join(self.build_lib, 'mmlt', '.mim', name)
            if osp.isdir(target):
                shutil.rmtree(target)
            shutil.copytree(
                name, target,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        for name in MIM_FILES:
            if osp.isfile(name):
                shutil.copy(name, osp.join(self.build_lib, 'mmlt', '.mim'))


def read_requirements(path):
    with open(path) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith('#')
        ]


def read_version():
    with open('mmlt/version.py') as f:
        return re.search(r"__version__ = '(.*)'", f.read()).group(1)


setup(
    name='mmlt',
    version=read_version(),
    description='Long-tailed recognition for the OpenMMLab toolboxes: '
    'DisAlign and DeiT-LT for mmdet, mmseg and mmpretrain',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    python_requires='>=3.8',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'benchmarks')),
    include_package_data=True,
    cmdclass={'build_py': build_py_with_mim},
    entry_points={
        'console_scripts': [
            'mmlt-train = mmlt.cli:train',
            'mmlt-test = mmlt.cli:test',
        ],
    },
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={
        'all': read_requirements('requirements/mminstall.txt') +
        read_requirements('requirements/optional.txt'),
        'mim': read_requirements('requirements/mminstall.txt'),
        'optional': read_requirements('requirements/optional.txt'),
        'tests': read_requirements('requirements/tests.txt'),
    },
    zip_safe=False)
