"""The layer under every stage (models, train, quantize, convert, bench): how a command fails,
how files are replaced. Imports nothing heavy, so clients and workers can use it too.

Every command imports this package before TensorFlow (each stage's __init__ does), so the hook
below is in place for the seconds a command spends importing: a Ctrl-C there raises
KeyboardInterrupt deep inside TensorFlow's imports, and Python would print that traceback. Once
a command's main() runs, runtime.cli.run_command handles interrupts itself."""
import sys


def _interrupts_end_quietly(kind, value, traceback) -> None:
    if issubclass(kind, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)  # Python then exits as killed by SIGINT (130)
        return
    sys.__excepthook__(kind, value, traceback)


sys.excepthook = _interrupts_end_quietly
