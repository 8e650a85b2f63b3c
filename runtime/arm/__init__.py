"""ARM phones' cores emulated on this machine: `make arm-env` builds the environment (build.py),
run_on_core runs a .tflite on one core and counts its instructions per inference (emulate.py)."""
from .cores import CORES, core
from .emulate import ArmRun, checked_run, instructions_per_inference, run_on_core
from .env import ArmEnv, default_env

__all__ = ["CORES", "ArmEnv", "ArmRun", "checked_run", "core", "default_env", "instructions_per_inference",
           "run_on_core"]
