"""Every reader in the table keeps the ``Reader`` contract, and ``make_reader`` builds what the settings name."""

import importlib
import inspect

import pytest

from core.config import Settings
from core.errors import InputError
from qa.reader import READERS, Reader, make_reader


@pytest.mark.parametrize("name", sorted(READERS))
def test_every_reader_in_the_table_has_the_protocols_methods(name):
    module, class_name, _ = READERS[name]
    reader_class = getattr(importlib.import_module(module), class_name)
    for method in ("from_settings", "read"):
        assert inspect.signature(getattr(reader_class, method)).parameters.keys() == \
            inspect.signature(getattr(Reader, method)).parameters.keys(), f"{class_name}.{method}"


@pytest.mark.parametrize("name", ["trained", "features"])
def test_make_reader_builds_the_named_reader_and_it_is_a_reader(assistant, name):
    reader = make_reader(assistant.corpus, Settings(reader=name))
    assert isinstance(reader, Reader)
    assert type(reader).__name__ == READERS[name][1]
    assert 0.0 <= reader.threshold <= 1.0


@pytest.mark.parametrize("name", ["nonsense", "features:extra", "transformers"])
def test_a_reader_the_table_cannot_build_is_an_input_error(assistant, name):
    with pytest.raises(InputError, match="reader"):
        make_reader(assistant.corpus, Settings(reader=name))
