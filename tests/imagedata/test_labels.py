"""labels.txt: what is written reads back the same; a repeated name is refused, naming the file."""
import pytest

from imagedata.labels import labels_text, read_labels


def test_written_labels_read_back_with_their_spaces(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text(labels_text(["tabby cat", "dog"]) + "\n")
    assert read_labels(path) == ["tabby cat", "dog"]


def test_a_repeated_name_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("cat\ndog\ncat\n")
    with pytest.raises(ValueError, match="labels.txt.*'cat' more than once"):
        read_labels(path)
