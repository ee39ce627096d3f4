"""A typed client of iterators, properties and records as values (issue 16
part B) through the generated module (`tests_typed`): `for` over a
returned iterator, properties read and written, `match` on records and
variants by position, `pickle` round trips; checked by mypy --strict."""
import copy
import pickle
from typing import Iterator, List

import tests_typed as t


def total(playlist: t.values.Playlist) -> int:
    seconds = 0
    for song in playlist.songs():
        seconds += song.seconds
    lengths: Iterator[int] = playlist.lengths()
    return seconds + sum(lengths)


def describe(track: t.values.Track) -> str:
    match track:
        case t.values.Track.Song(t.values.Song(title, seconds), genre):
            return f"{title} {seconds} {genre.name}"
        case t.values.Track.Pause(seconds):
            return f"pause {seconds}"
    return "silence"


def main() -> List[str]:
    with t.values.Playlist("mix") as playlist:
        playlist.add("a", 3)
        playlist.volume = 70
        playlist.title = "road"
        volume: int = playlist.volume
        title: str = playlist.title
        longest: t.values.Song | None = playlist.longest
        with playlist.songs() as songs:
            first = next(songs)
        out = [f"{total(playlist)} {volume} {title} {longest} {first.title}"]
    tracks = [t.values.Track.Song(t.values.Song("b", 4), t.values.Genre.Jazz), t.values.Track.Pause(2)]
    out += [describe(track) for track in tracks]
    album = t.values.Album("x", tracks, None, {"me": 1.0})
    back: t.values.Album = pickle.loads(pickle.dumps(album))
    out.append(f"{back == album} {copy.deepcopy(album) == album} {t.values.album_seconds(back)}")
    out.append(" ".join(str(n) for n in t.values.count_up(3)))
    return out


if __name__ == "__main__":
    print("\n".join(main()))
