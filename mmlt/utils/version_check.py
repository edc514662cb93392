"""Version checks with messages that say how to fix the environment."""
import importlib
import re
from typing import Tuple

# The versions mmlt is built and tested against (requirements/mminstall.txt).
SUPPORTED = {
    'mmengine': ((0, 10, 0), (0, 11, 0)),
    'mmcv': ((2, 0, 0), (2, 2, 0)),
    'mmdet': ((3, 3, 0), (3, 4, 0)),
    'mmseg': ((1, 2, 2), (1, 3, 0)),
    'mmpretrain': ((1, 2, 0), (1, 3, 0)),
}


def digit_version(version: str) -> Tuple[int, ...]:
    """'2.13.0+cu130' -> (2, 13, 0); pre-release tags are dropped."""
    parts = []
    for piece in version.split('+')[0].split('.'):
        match = re.match(r'\d+', piece)
        if match is None:
            break
        parts.append(int(match.group()))
    return tuple(parts)


def check_toolbox_version(name: str):
    """Import toolbox ``name`` and check it is a supported version.

    Returns the module; raises ImportError with the fix otherwise.
    """
    low, high = SUPPORTED[name]
    wanted = (f'{name}>={".".join(map(str, low))},'
              f'<{".".join(map(str, high))}')
    try:
        module = importlib.import_module(name)
    except ImportError as err:
        raise ImportError(
            f'mmlt needs {wanted} ({err}). Run `make setup` in the mmlt '
            f'checkout, or `pip install "{wanted}"`.') from err
    found = digit_version(module.__version__)
    if not low <= found < high:
        raise ImportError(
            f'mmlt supports {wanted} but found {name} {module.__version__}. '
            f'Run `make setup`, or `pip install "{wanted}"`.')
    return module
