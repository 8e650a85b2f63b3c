"""The bottom layer, imported by every package and importing none of them: the artifact
contract (names, precisions, manifest), how a command fails, files replaced whole, the
client environments, CSV and plot helpers. Standard library only at import time, so client
environments (tflite-runtime with numpy<2) and worker processes can use it too."""
