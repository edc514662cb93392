import re

from setuptools import find_packages, setup


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
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={
        'all': read_requirements('requirements/mminstall.txt') +
        read_requirements('requirements/optional.txt'),
        'mim': read_requirements('requirements/mminstall.txt'),
        'optional': read_requirements('requirements/optional.txt'),
        'tests': read_requirements('requirements/tests.txt'),
    },
    zip_safe=False)
