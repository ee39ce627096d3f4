"""Objects and records as Python values (issue 16 part B), on both call
paths: iterators (``impl Iterator``, ``Box<dyn Iterator>``) read lazily and
dropped exactly once however the loop ends; object properties
(``#[export(getter)]``/``#[export(setter)]``); ``match``, pickling,
``copy`` and annotations of records and enums with data."""

from __future__ import annotations

import gc
import sys
import threading

import pytest

import ffi_export
from paths import any_lib  # noqa: F401 - fixture


@pytest.fixture
def m(any_lib):  # noqa: F811 - the fixture
    yield any_lib.values
    gc.collect()
    assert any_lib.values.live_iterators() == 0


@pytest.fixture
def playlist(m):
    p = m.Playlist("mix")
    p.add("intro", 100)
    p.add("epic", 400)
    p.add("outro", 50)
    yield p
    p.close()


# -- Iteration


def test_a_for_loop_reads_every_item_and_drops_the_iterator(m) -> None:
    assert list(m.count_up(5)) == [0, 1, 2, 3, 4]
    assert sum(m.count_up(100_000)) == sum(range(100_000))
    assert [w for w in m.numbered_words(3)] == ["w0", "w1", "w2"]
    assert list(m.count_up(0)) == []
    assert m.live_iterators() == 0  # exhausted: dropped at once, not at collection


def test_methods_return_iterators_of_records(m, playlist) -> None:
    songs = list(playlist.songs())
    assert songs == [m.Song("intro", 100), m.Song("epic", 400), m.Song("outro", 50)]
    assert list(playlist.lengths()) == [100, 400, 50]


def test_a_fallible_call_returns_an_iterator_or_raises_its_error(any_lib, m, playlist) -> None:
    """``Result<impl Iterator<..>, E>`` and ``Result<Box<dyn Iterator>, E>``:
    ``Ok`` is a lazy ``RustIterator``; ``Err`` is raised by the call itself
    (typed when ``E`` is an ``#[export]`` enum), and no iterator is made."""
    it = m.countdown(3)
    assert isinstance(it, ffi_export.RustIterator) and m.live_iterators() == 1
    assert list(it) == [3, 2, 1] and m.live_iterators() == 0
    for _ in range(1000):
        with pytest.raises(any_lib.errors.Error, match="^101 is too many$"):
            m.countdown(101)
    assert m.live_iterators() == 0
    assert list(playlist.longer_than(90)) == [m.Song("intro", 100), m.Song("epic", 400)]
    with pytest.raises(any_lib.errors.TrackError.Missing) as caught:
        playlist.longer_than(500)
    assert caught.value.seconds == 500 and str(caught.value) == "no song is longer than 500 s"
    with pytest.raises(OverflowError, match="argument 'n'"):
        m.countdown(-1)
    longer = playlist.longer_than(0)
    assert next(longer) == m.Song("intro", 100) and m.live_iterators() == 1
    longer.close()
    assert m.live_iterators() == 0


def test_items_are_read_lazily_in_growing_chunks(m) -> None:
    it = m.count_up(10**12)  # far too many to collect
    assert m.live_iterators() == 1 and it.chunk == 256
    start = m.pulled()
    assert [next(it) for _ in range(7)] == list(range(7))
    assert m.pulled() - start == 7  # chunks of 1, 2 and 4 items
    next(it)
    assert m.pulled() - start == 15  # then 8
    assert iter(it) is it
    it.close()
    assert it.closed and m.live_iterators() == 0


def test_one_crossing_per_item_reads_nothing_ahead(m) -> None:
    it = m.count_up(10**12)
    it.chunk = 1
    start = m.pulled()
    assert [next(it) for _ in range(20)] == list(range(20))
    assert m.pulled() - start == 20
    del it


@pytest.mark.parametrize("how", ["break", "del", "exception", "close", "with"])
def test_stopping_early_drops_the_rust_iterator(m, how) -> None:
    it = m.count_up(10**9)
    if how == "break":
        for x in it:
            if x == 3:
                break
        del it
    elif how == "del":
        next(it)
        del it
    elif how == "exception":
        with pytest.raises(KeyError):
            for x in it:
                if x == 7:
                    raise KeyError(x)
        del it
    elif how == "close":
        next(it)
        it.close()
        with pytest.raises(ValueError, match="this iterator is closed"):
            next(it)
        it.close()  # twice is harmless
    else:
        with it:
            assert next(it) == 0
        assert it.closed
    gc.collect()
    assert m.live_iterators() == 0


def test_an_exhausted_iterator_stays_exhausted(m) -> None:
    it = m.count_up(2)
    assert list(it) == [0, 1]
    assert list(it) == [] and not it.closed
    with pytest.raises(StopIteration):
        next(it)


def test_a_closed_object_cannot_make_an_iterator_but_a_made_one_owns_its_items(m, playlist) -> None:
    it = playlist.lengths()
    assert next(it) == 100
    playlist.close()
    with pytest.raises(ValueError, match="this Playlist is closed"):
        playlist.songs()
    # The iterator owns its items (an iterator borrowing the object is a
    # compile error), so it goes on after the object is closed.
    assert list(it) == [400, 50]


def test_result_items_raise_the_typed_error_at_their_item(any_lib, m, playlist) -> None:
    it = playlist.checked(200)
    seen = []
    with pytest.raises(any_lib.errors.TrackError.TooLong) as caught:
        for seconds in it:
            seen.append(seconds)
    assert seen == [100]  # the error comes at item 1, not with the chunk before it
    assert (caught.value.title, caught.value.seconds) == ("epic", 400)
    assert list(it) == [50]  # the Rust iterator goes on after an `Err` item
    with pytest.raises(ffi_export.FfiError, match="epic is banned"):
        list(playlist.titles_or("epic"))


def test_a_panic_in_next_raises_rust_panic_and_poisons_the_iterator(m) -> None:
    it = m.explode_at(3)
    with pytest.raises(ffi_export.RustPanic, match="item 3 exploded"):
        list(it)
    with pytest.raises(ffi_export.RustPanic):
        next(it)
    del it


def test_python_code_inside_next_may_call_in_but_not_read_the_same_iterator(m) -> None:
    assert list(m.mapped(4, lambda i: i * 10)) == [0, 10, 20, 30]
    # The Python function Rust calls in `next` calls other exports (and
    # other iterators) freely ...
    assert list(m.mapped(3, lambda i: sum(m.count_up(i + 1)))) == [0, 1, 3]
    # ... but reading the iterator it runs inside is refused, not a deadlock.
    holder: list = []

    def again(i: int) -> int:
        return next(holder[0]) if i == 1 else i

    it = m.mapped(3, again)
    holder.append(it)
    with pytest.raises(ffi_export.RustPanic, match="re-entrant"):
        list(it)
    holder.clear()
    del it


def test_iterators_from_several_threads(m) -> None:
    totals = []

    def work() -> None:
        totals.append(sum(m.count_up(20_000)))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert totals == [sum(range(20_000))] * 4


def test_one_iterator_shared_by_threads_hands_out_each_item_once(m) -> None:
    it = m.count_up(50_000)
    seen: list[list[int]] = [[] for _ in range(4)]

    def work(mine: list[int]) -> None:
        for x in it:
            mine.append(x)

    threads = [threading.Thread(target=work, args=(mine,)) for mine in seen]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(x for mine in seen for x in mine) == list(range(50_000))


def test_an_iterator_cannot_be_pickled(m) -> None:
    import pickle

    it = m.count_up(3)
    with pytest.raises(TypeError, match="pickle list"):
        pickle.dumps(it)
    it.close()


def test_the_call_reads_its_item_type(any_lib, m) -> None:
    import typing

    hints = typing.get_type_hints(m.count_up)
    assert hints["return"] == typing.Iterator[int]
    assert "impl Iterator<Item = u64>" in m.count_up.__doc__


# -- Properties


def test_getters_and_setters_are_properties(m, playlist) -> None:
    assert playlist.title == "mix" and playlist.volume == 50
    playlist.title = "road trip"
    playlist.volume = 70
    assert (playlist.title, playlist.volume) == ("road trip", 70)
    assert playlist.seconds == 550
    assert playlist.longest == m.Song("epic", 400)  # a record through a getter
    assert m.Playlist("empty").longest is None
    playlist.set_title("again")  # the setter stays a method too
    assert playlist.title == "again"
    assert isinstance(m.Playlist.title, property)
    assert m.Playlist.title.__doc__.startswith("The playlist's title.")


def test_a_getter_only_property_is_read_only(playlist) -> None:
    with pytest.raises(AttributeError):
        playlist.seconds = 3
    with pytest.raises(AttributeError):
        del playlist.title
    assert playlist.seconds == 550


@pytest.mark.parametrize("value, error, message", [
    ("loud", TypeError, r"property Playlist\.volume: argument 'volume' \(u8\) must be an int, not str"),
    (300, OverflowError, r"property Playlist\.volume: .*must be in 0\.\.=255, got 300"),
    (-1, OverflowError, r"property Playlist\.volume"),
    (None, TypeError, r"property Playlist\.volume"),
])
def test_a_setter_checks_its_value_like_a_parameter(playlist, value, error, message) -> None:
    with pytest.raises(error, match=message):
        playlist.volume = value
    assert playlist.volume == 50


def test_a_setter_error_is_raised_and_nothing_changes(any_lib, playlist) -> None:
    with pytest.raises(any_lib.errors.Error, match="volume 101 is over 100"):
        playlist.volume = 101
    with pytest.raises(TypeError, match=r"property Playlist\.title: .*must be a str, not int"):
        playlist.title = 5
    assert (playlist.volume, playlist.title) == (50, "mix")


def test_properties_of_a_closed_object_raise_value_error(m) -> None:
    p = m.Playlist("gone")
    p.close()
    with pytest.raises(ValueError, match="this Playlist is closed"):
        p.title
    with pytest.raises(ValueError, match="this Playlist is closed"):
        p.title = "back"


# -- Records as values


#: `match` by position (Python 3.10+); compiled only there, so the file
#: imports on 3.9 and PyPy 3.9, which check `__match_args__` instead.
MATCH_SOURCE = """
def describe(m, track):
    match track:
        case m.Track.Song(m.Song(title, seconds), genre):
            return f"{title} ({seconds} s, {genre.name})"
        case m.Track.Pause(seconds):
            return f"pause {seconds}"
        case m.Track.Silence():
            return "silence"
    return "?"
"""


def test_match_takes_fields_by_position(m) -> None:
    assert m.Song.__match_args__ == ("title", "seconds")
    assert m.Track.Pause.__match_args__ == ("_0",)
    if sys.version_info < (3, 10):
        # What `case Song(title, seconds)` reads: the attributes named by
        # `__match_args__`, in order.
        song = m.Song("a", 3)
        assert tuple(getattr(song, name) for name in m.Song.__match_args__) == ("a", 3)
        return
    namespace: dict = {}
    exec(compile(MATCH_SOURCE, "<match>", "exec"), namespace)  # noqa: S102 - the test's own source
    describe = namespace["describe"]
    assert describe(m, m.Track.Song(m.Song("a", 3), m.Genre.Jazz)) == "a (3 s, Jazz)"
    assert describe(m, m.Track.Pause(7)) == "pause 7"
    assert describe(m, m.Track.Silence()) == "silence"


def album(m):
    return m.Album(
        name="best of",
        tracks=[m.Track.Song(m.Song("a", 3), m.Genre.Rock), m.Track.Pause(2), m.Track.Silence()],
        best=m.Song("a", 3),
        ratings={"me": 4.5},
    )


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_records_and_enums_pickle_round_trip(m, protocol) -> None:
    import pickle

    value = album(m)
    back = pickle.loads(pickle.dumps(value, protocol=protocol))
    assert back == value and back is not value
    assert type(back) is m.Album and type(back.tracks[0]) is m.Track.Song
    assert m.album_seconds(back) == 5  # it crosses back into Rust whole
    for variant in value.tracks:
        assert pickle.loads(pickle.dumps(variant, protocol=protocol)) == variant


def test_copy_and_deepcopy_make_equal_independent_records(m) -> None:
    import copy

    value = album(m)
    deep = copy.deepcopy(value)
    shallow = copy.copy(value)
    assert deep == value == shallow
    deep.tracks.append(m.Track.Pause(1))
    assert len(value.tracks) == 3  # deep: its own list
    assert shallow.tracks is value.tracks  # shallow: the same list


def test_plain_records_pickle_too(any_lib) -> None:
    import pickle

    point = any_lib.Point(1.5, -2.0)
    assert pickle.loads(pickle.dumps(point)) == point


def test_a_record_holding_an_object_cannot_be_pickled_and_says_which_field(m) -> None:
    import copy
    import pickle

    shelf = m.shelve("top", m.Playlist("kept"))
    with pytest.raises(TypeError, match=r"Jukebox: its field 'playlist' holds a value that lives in Rust"):
        pickle.dumps(shelf)
    with pytest.raises(TypeError, match="field 'playlist'"):
        copy.deepcopy(shelf)
    with pytest.raises(TypeError, match="cannot pickle or copy a Playlist"):
        pickle.dumps(shelf.playlist)
    shelf.playlist.close()


def test_a_pickled_record_loads_in_another_process(m, tmp_path) -> None:
    import pickle
    import subprocess
    import sys

    data = tmp_path / "album.pickle"
    data.write_bytes(pickle.dumps(album(m)))
    script = (
        "import pickle, sys\n"
        "value = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "print(type(value).__qualname__, value.tracks[0].song.title, value.ratings)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(data)], capture_output=True, text=True, check=True)
    assert out.stdout == "Album a {'me': 4.5}\n"


def test_records_have_field_annotations(m) -> None:
    import typing

    assert typing.get_type_hints(m.Song) == {"title": str, "seconds": int}
    hints = typing.get_type_hints(m.Album)
    assert hints["best"] == typing.Optional[m.Song]
    assert hints["tracks"] == typing.List[m.Track]
    assert typing.get_type_hints(m.Track.Pause) == {"_0": int}
    assert m.Album._fields == ("name", "tracks", "best", "ratings")
