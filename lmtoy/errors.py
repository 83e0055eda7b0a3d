"""The exceptions the core raises; the CLI turns each into a one-line message.

Exit codes: a ``UsageError`` means the command line is wrong (exit 2); every other
``LmtoyError`` means the data is wrong (exit 1).
"""


class LmtoyError(Exception):
    """Base class: the message is shown to the user as it is."""

    exit_code = 1


class UsageError(LmtoyError):
    """The command line asks for something impossible (exit 2)."""

    exit_code = 2


class CorpusError(LmtoyError):
    """A corpus cannot be read: empty, invalid UTF-8, a malformed weight."""


class VocabularyError(LmtoyError):
    """A word or pair is not in the vocabulary."""


class ModelFileError(LmtoyError):
    """A model file is missing, truncated, foreign or from another version."""


class TrainingError(LmtoyError):
    """Training cannot go on: the loss is no longer a finite number."""


class TooLargeError(LmtoyError):
    """An output would be too large to write in full."""


class OutputFileError(LmtoyError):
    """A file (or standard output) could not be written in full."""
