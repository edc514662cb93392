"""Small helpers shared by mmlt's packages (no toolbox imports)."""
from .version_check import check_toolbox_version, digit_version

__all__ = ['check_toolbox_version', 'digit_version']
