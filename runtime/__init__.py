"""The layer under every stage (models, train, quantize, convert, bench): how a command fails,
how files are replaced. Imports nothing heavy, so clients and workers can use it too."""
