"""`hpstudy COMMAND ...`: the console command hands each command to its module, with the same exit codes."""

from __future__ import annotations

from studies.cli import console


def test_no_command_prints_the_commands_and_exits_2(capsys):
    assert console.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: hpstudy COMMAND") and all(f"  {name}" in err for name in console.COMMANDS)


def test_an_unknown_command_is_one_line(capsys):
    assert console.main(["runn", "x"]) == 2
    assert capsys.readouterr().err == "error: unknown command 'runn'; expected one of run, list, report, paper\n"


def test_run_is_the_study_cli_under_its_own_name(cli_here, capsys):
    assert console.main(["list"]) == 0 and "ses_beta_sweep" in capsys.readouterr().out
    assert console.main(["run", "nope"]) == 2 and "unknown study 'nope'" in capsys.readouterr().err
    assert console.main(["run", "ses_beta_sweep", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("hpstudy: ses_beta_sweep, profile")
