from nudge_local.cli import run

run()
