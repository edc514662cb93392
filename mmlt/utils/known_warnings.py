"""A warning that users of mmlt cannot act on."""
import warnings


def silence_pkg_resources_warning() -> None:
    """Hide setuptools' "pkg_resources is deprecated" warning where mmengine
    0.10 raises it: when it is imported, and when it reads a toolbox's
    config (``mmpretrain::...``) by reloading pkg_resources (setup pins
    setuptools < 82: mmengine needs pkg_resources). The tools call it
    before they import mmengine, ``setup_runtime`` for other scripts."""
    warnings.filterwarnings(
        'ignore', message='pkg_resources is deprecated as an API',
        category=UserWarning,
        module=r'(mmengine\.utils\.package_utils|importlib)\Z')
