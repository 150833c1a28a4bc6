"""The daily batch (``qc inspect``): read, inspect, score, write the files and save to the store."""
