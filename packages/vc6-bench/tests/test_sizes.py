import pytest
from vc6_bench.routines import ROUTINES
from vc6_bench.sizes import SizeError, elements_from, parse_count, parse_shape


@pytest.mark.parametrize(
    ("text", "value", "is_bytes"),
    [
        ("1024", 1024, False),
        ("32Mi", 32 * 2**20, False),
        ("64MiB", 64 * 2**20, True),
        ("4k", 4000, False),
        ("2Gi", 2 * 2**30, False),
        ("512B", 512, True),
        (" 3M ", 3_000_000, False),
    ],
)
def test_counts_with_suffixes(text, value, is_bytes):
    count = parse_count(text)
    assert (count.value, count.is_bytes) == (value, is_bytes)


@pytest.mark.parametrize("text", ["0", "-1", "1.5", "abc", "", "12Q", "0Mi", "Mi", "1 0"])
def test_bad_counts_are_refused_with_the_accepted_forms(text):
    with pytest.raises(SizeError, match="suffix"):
        parse_count(text)


def test_bytes_become_float32_elements_exactly():
    assert elements_from(parse_count("64MiB"), 4) == 16 * 2**20
    assert elements_from(parse_count("100"), 4) == 100
    with pytest.raises(SizeError, match="multiple of 4 bytes"):
        elements_from(parse_count("6B"), 4)


def test_shapes():
    assert parse_shape("1000x300x777", 3, "MxNxK") == (1000, 300, 777)
    assert parse_shape("1Kix2k", 2, "ROWSxCOLS") == (1024, 2000)
    assert parse_shape("3X4", 2, "ROWSxCOLS") == (3, 4)


@pytest.mark.parametrize("text", ["10x10", "10x10x10x10", "10xx10", "0x5x5", "5x-5x5", "axbxc", "4Bx4x4"])
def test_bad_shapes(text):
    with pytest.raises(SizeError, match="MxNxK"):
        parse_shape(text, 3, "MxNxK")


def test_routine_sizes():
    sgemm, stencil, memset = ROUTINES["sgemm"], ROUTINES["stencil"], ROUTINES["memset"]
    assert dict(sgemm.parse(parse_count("1024"), None, None).dims) == {"m": 1024, "n": 1024, "k": 1024}
    assert dict(sgemm.parse(None, "1000x300x777", None).dims) == {"m": 1000, "n": 300, "k": 777}
    assert memset.parse(parse_count("64MiB"), None, None)["n"] == 16 * 2**20
    assert dict(stencil.parse(parse_count("512"), None, 3).dims) == {"rows": 512, "cols": 512, "steps": 3}
    with pytest.raises(SizeError, match="not both"):
        sgemm.parse(parse_count("8"), "8x8x8", None)
    with pytest.raises(SizeError, match="not bytes"):
        sgemm.parse(parse_count("1KiB"), None, None)
    with pytest.raises(SizeError, match="--shape applies"):
        memset.parse(None, "4x4", None)


def test_the_pi_defaults_are_the_documented_ones():
    assert ROUTINES["sgemm"].default.label == "1024x1024x1024"
    assert ROUTINES["summation"].default["n"] == 32 * 2**20
    assert ROUTINES["memset"].default["n"] * 4 == 64 * 2**20
    assert ROUTINES["scopy"].default["n"] == 16 * 2**20
    assert dict(ROUTINES["stencil"].default.dims) == {"rows": 512, "cols": 512, "steps": 10}
