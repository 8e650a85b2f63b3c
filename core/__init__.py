"""The bottom layer, imported by every package and importing none of them: the artifact
contract (names, precisions, manifest), how a command fails, files replaced whole, the
client environments, CSV and plot helpers. Standard library only at import time, so client
environments (tflite-runtime with numpy<2) and worker processes can use it too."""
import sys

# Every command imports core before TensorFlow (each stage's __init__ does), so this hook is in
# place for the seconds a command spends importing: a Ctrl-C there raises KeyboardInterrupt deep
# inside TensorFlow's imports, and Python would print that traceback. Once a command's main()
# runs, core.cli.run_command handles interrupts itself.


def _interrupts_end_quietly(kind, value, traceback) -> None:
    if issubclass(kind, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)  # Python then exits as killed by SIGINT (130)
        return
    sys.__excepthook__(kind, value, traceback)


sys.excepthook = _interrupts_end_quietly
