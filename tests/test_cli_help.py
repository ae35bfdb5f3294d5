"""`fer-studio --help` and every command's `--help` print (argparse %-formats help texts)."""
from __future__ import annotations

import pytest

from fer_engine.cli import _commands, main


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    names = [m.NAME for m in _commands()]
    assert "compare" in names and all(n in out for n in names)
    assert "95% interval" in out  # a literal % in a command's help survives


@pytest.mark.parametrize("name", [m.NAME for m in _commands()])
def test_each_command_help(name, capsys):
    with pytest.raises(SystemExit) as e:
        main([name, "--help"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("usage: fer-studio " + name)
