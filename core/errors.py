"""One root exception and a shallow tree; the CLI and the UI turn them into one-line messages."""


class QAError(Exception):
    """Root of every error the assistant raises on purpose. ``str(error)`` is a one-line message for a user.

    ``plain`` is the same message for a web page, where a reader may not know a shell command, an encoding's name
    or a byte offset; it is ``str(error)`` unless the raiser gives one.
    """

    def __init__(self, message: str, plain: str | None = None):
        super().__init__(message)
        self.plain = message if plain is None else plain


class InputError(QAError, ValueError):
    """A bad question, setting or argument."""


class DocumentError(QAError):
    """An article or folder that cannot be read (missing, binary, undecodable, too large)."""


class IndexFolderError(QAError):
    """A missing, corrupt or mismatched index folder. The message says how to rebuild it."""
