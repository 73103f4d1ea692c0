import json
import os

import pytest

from core.config import Settings
from core.errors import IndexFolderError
from embeddings.index_store import read_index, read_manifest
from embeddings.indexer import index_paths


def test_manifest_records_model_dimension_settings_and_hashes(seed_index):
    manifest = read_manifest(seed_index)
    assert manifest["embedding_model"] == Settings().embedding_model
    assert manifest["dimension"] == 384
    assert manifest["build_settings"]["chunk_tokens"] == Settings().chunk_tokens
    assert {d["doc_id"] for d in manifest["documents"]} == {p.name for p in (seed_index.parent.parent).glob("x")} \
        or len(manifest["documents"]) == 5
    assert all(len(d["sha256"]) == 64 for d in manifest["documents"])
    assert set(manifest["files"]) >= {"chunks.jsonl", "dense.faiss", "documents.jsonl", "chunk_vectors.npy"}


def test_index_round_trips(seed_index, assistant):
    data = read_index(seed_index, Settings())
    assert [c.text for c in data.chunks] == [c.text for c in assistant.data.chunks]
    assert data.dense.ntotal == len(data.chunks)


def test_a_different_chunk_size_is_refused_with_the_rebuild_command(seed_index):
    with pytest.raises(IndexFolderError) as error:
        read_index(seed_index, Settings(chunk_tokens=99))
    message = str(error.value)
    assert "chunk_tokens=160" in message and "chunk_tokens=99" in message and "qa index" in message
    assert "\n" not in message


def test_a_different_model_is_refused(seed_index):
    with pytest.raises(IndexFolderError, match="embedding_model"):
        read_index(seed_index, Settings(embedding_model="/models/another"))


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexFolderError, match="no index at .*qa index"):
        read_index(tmp_path / "none", Settings())


def test_damaged_file_is_refused_before_parsing(seeds_copy, tmp_path, embedder):
    index_dir = tmp_path / "index"
    index_paths([seeds_copy], index_dir, embedder=embedder)
    path = index_dir / "chunks.jsonl"
    data = bytearray(path.read_bytes())
    data[10] ^= 0x01
    os.chmod(path, 0o644)
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFolderError, match="chunks.jsonl is damaged"):
        read_index(index_dir, Settings())


def test_update_embeds_only_changed_files_and_drops_removed_ones(seeds_copy, tmp_path, embedder):
    index_dir = tmp_path / "index"
    first = index_paths([seeds_copy], index_dir, embedder=embedder)
    assert len(first.added) == 5
    unchanged = index_paths([seeds_copy], index_dir, embedder=embedder)
    assert unchanged.embedded_texts == 0 and len(unchanged.unchanged) == 5

    changed = sorted(seeds_copy.glob("*.txt"))
    changed[0].write_text(changed[0].read_text(encoding="utf-8") + "\nA new closing sentence was added today.\n",
                          encoding="utf-8")
    changed[1].unlink()
    (seeds_copy / "new.txt").write_text("Officials met in Vienna on Friday to discuss arms control.",
                                        encoding="utf-8")
    update = index_paths([seeds_copy], index_dir, embedder=embedder)
    assert update.changed == [changed[0].name]
    assert update.removed == [changed[1].name]
    assert update.added == ["new.txt"]
    assert len(update.unchanged) == 3
    data = read_index(index_dir, Settings())
    assert changed[1].name not in {c.doc_id for c in data.chunks}
    assert any("Vienna" in c.text for c in data.chunks)
    assert data.dense.ntotal == len(data.chunks) == data.chunk_vectors.shape[0]
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert [d["doc_id"] for d in manifest["documents"]] == [d.doc_id for d in data.documents]


def test_index_is_a_link_swapped_atomically_and_leaves_no_temporary_folders(seeds_copy, tmp_path, embedder):
    index_dir = tmp_path / "index"
    index_paths([seeds_copy], index_dir, embedder=embedder)
    (seeds_copy / "new.txt").write_text("Officials met in Vienna on Friday.", encoding="utf-8")
    index_paths([seeds_copy], index_dir, embedder=embedder)
    assert index_dir.is_symlink()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".index") and p != index_dir.resolve()]
    assert leftovers == []
