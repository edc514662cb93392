"""Installed entry points for a pip-installed mmlt.

``mmlt-train ARGS`` and ``mmlt-test ARGS`` (or ``python -m mmlt train|test
ARGS``) run mmlt's ``tools/train.py`` / ``tools/test.py`` with ARGS: the
copies shipped in the wheel (``mmlt/.mim/tools``), or a checkout's own. The
config may be a path or ``mmlt::<config>``, e.g. ``mmlt::demo/cls_stage1.py``.
"""
import os.path as osp
import runpy
import sys

from .mim import PREFIX, get_config_path, resource_dir

TOOLS = ('train', 'test')


def run_tool(name: str, argv=None) -> None:
    """Run ``tools/<name>.py`` as a script with ``argv`` (default: this
    process's arguments)."""
    script = osp.join(resource_dir('tools'), f'{name}.py')
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].startswith(PREFIX):
        argv[0] = get_config_path(argv[0])
    saved = sys.argv
    sys.argv = [script] + argv
    try:
        runpy.run_path(script, run_name='__main__')
    finally:
        sys.argv = saved


def train() -> None:
    run_tool('train')


def test() -> None:
    run_tool('test')


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    usage = ('usage: python -m mmlt {train,test} CONFIG [ARGS...]  '
             '(see --help of each)')
    if argv in (['-h'], ['--help']):
        print(usage)
        return 0
    if not argv or argv[0] not in TOOLS:
        print(usage, file=sys.stderr)
        return 2
    run_tool(argv[0], argv[1:])
    return 0
