"""The run file: recorded while training, read for the library, replay, export and compression."""
