"""``python -m mmlt``: help on request (exit 0), usage on a wrong call
(exit 2)."""
from mmlt.cli import main


def test_help_and_a_wrong_call(capsys):
    assert main(['--help']) == 0
    assert capsys.readouterr().out.startswith('usage: python -m mmlt')
    assert main(['fit', 'cfg.py']) == 2
    assert capsys.readouterr().err.startswith('usage: python -m mmlt')
