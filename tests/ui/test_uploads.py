"""Checking and saving uploaded articles: every bad file gets one line, good ones are saved whole, nothing is
overwritten."""

from ui.uploads import safe_name, save_uploads


def write(folder, name, data):
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_safe_name_keeps_a_plain_file_name_and_nothing_of_a_path():
    assert safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_name("C:\\Users\\me\\News Today.MD") == "News Today.md"
    assert safe_name(".hidden.txt") == "hidden.txt"
    assert safe_name("Ünïcode news.txt") == "_n_code news.txt"


def test_good_files_are_saved_whole_and_bad_ones_refused_one_line_each(tmp_path):
    incoming, folder = tmp_path / "in", tmp_path / "articles"
    incoming.mkdir()
    folder.mkdir()
    files = [write(incoming, "good.txt", "Rain fell in Oslo on Monday.\n"),
             write(incoming, "notes.md", "# Notes\nThe mayor spoke.\n"),
             write(incoming, "report.docx", "PK\x03\x04"),
             write(incoming, "broken.pdf", "%PDF-1.4"),
             write(incoming, "blob.txt", b"\x00\x01\x02"),
             write(incoming, "latin1.txt", "caf\xe9".encode("latin-1")),
             write(incoming, "empty.txt", "  \n"),
             write(incoming, "big.txt", "x" * 101)]
    result = save_uploads(files, folder, existing=set(), max_bytes=100)
    assert result.saved == ["good.txt", "notes.md"]
    assert (folder / "good.txt").read_text(encoding="utf-8") == "Rain fell in Oslo on Monday.\n"
    assert len(result.refused) == 6 and all("\n" not in reason for reason in result.refused)
    assert result.refused[0] == ("report.docx: a Word document can't be added; save it as PDF or plain text first "
                                 "(articles are .txt, .md, .html, .htm, .pdf)")
    # In plain words for the web page: no exception names, NUL bytes, encodings' names or shell commands.
    assert result.refused[1] == "broken.pdf: the PDF is damaged and cannot be read"
    assert result.refused[2] == "blob.txt: is not a text file, so no article can be read from it"
    assert result.refused[3] == "latin1.txt: its text is not in UTF-8 (Unicode); save it as UTF-8 and add it again"
    assert "empty.txt: is empty" in result.refused[4]
    assert result.refused[5] == "big.txt: is 101 bytes; an article may be at most 100 bytes"
    assert sorted(p.name for p in folder.iterdir()) == ["good.txt", "notes.md"]  # no temporary file left


def test_an_existing_article_is_never_overwritten(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write(folder, "a.txt", "The original.\n")
    upload = tmp_path / "a.txt"
    upload.write_text("A replacement.\n", encoding="utf-8")
    taken = save_uploads([upload], folder, existing={"a.txt"}, max_bytes=1000)
    assert taken.saved == [] and "a.txt: an article of that name is already in the library" in taken.refused[0]
    on_disk = save_uploads([upload], folder, existing=set(), max_bytes=1000)  # on disk but not yet indexed
    assert on_disk.saved == [] and "a.txt: a file of that name is already in the library;" in on_disk.refused[0]
    assert str(tmp_path) not in on_disk.refused[0]  # the server's folders are not the user's business
    assert (folder / "a.txt").read_text(encoding="utf-8") == "The original.\n"


def test_two_uploads_with_the_same_name_keep_the_first(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    first, second = tmp_path / "x", tmp_path / "y"
    first.mkdir()
    second.mkdir()
    files = [write(first, "same.txt", "First.\n"), write(second, "same.txt", "Second.\n")]
    result = save_uploads(files, folder, existing=set(), max_bytes=1000)
    assert result.saved == ["same.txt"] and len(result.refused) == 1
    assert (folder / "same.txt").read_text(encoding="utf-8") == "First.\n"


def test_an_uploaded_pdf_is_read_apart_once_and_a_rebuild_takes_it_as_read(tmp_path):
    from embeddings.loader import load_paths
    from tests.embeddings.format_fixtures import make_pdf

    incoming, folder = tmp_path / "incoming", tmp_path / "uploads"
    incoming.mkdir()
    folder.mkdir()
    pdf = incoming / "ferry.pdf"
    pdf.write_bytes(make_pdf(["Harbour council backs the new ferry\nLEEFORD, Nov. 2, 2023 - The harbour council "
                              "voted on Thursday to fund a second ferry."]))
    result = save_uploads([pdf], folder, existing=set(), max_bytes=100_000)
    assert result.saved == ["ferry.pdf"] and result.read["ferry.pdf"].published == "2023-11-02"
    loaded = load_paths([folder], 100_000, result.read)
    assert loaded.reused == ["ferry.pdf"] and loaded.documents[0].path == str(folder / "ferry.pdf")
