"""Playlist: Rust values behaving like Python ones: for, properties, match, pickle.

A Rust object whose songs come out through an iterator (`impl Iterator`)
read lazily by a `for` loop, whose title and volume are properties checked
like parameters, and whose records and tracks `match` by position, pickle
and copy like Python values. (No seed program: the protocols a Python user
expects of a collection.)
"""
import copy
import pickle

from _common import expected, library, show

lib = library()

playlist = lib.Playlist("road trip")
playlist.push(lib.Track.Play(lib.Song("Intro", 90), 1))
playlist.push(lib.Track.Pause(5))
playlist.push(lib.Track.Play(lib.Song("Chorus", 200), 2))

# Iteration: `songs()` returns a Rust iterator, read as the loop goes.
for song in playlist.songs():
    print(f"  {song.title} ({song.seconds} s)")
show([n for n in lib.countdown(3)])
songs = playlist.songs()
show(next(songs))
songs.close()  # stopping early drops the Rust iterator (so would `del` or `break`)
with expected(ValueError):
    next(songs)
lengths = []
with expected(lib.errors.PlayError.TooLong):
    for seconds in playlist.lengths(120):  # an `Err` item is raised at its turn
        lengths.append(seconds)
print("before the error:", lengths)

# Properties: read and written like attributes, checked like parameters.
playlist.title = "night drive"
playlist.volume = 80
show((playlist.title, playlist.volume, playlist.seconds))
with expected(OverflowError):
    playlist.volume = 300
with expected(lib.errors.Error):
    playlist.volume = 101
with expected(AttributeError):
    playlist.seconds = 0

# Records and tracks as values: match by position, pickle, copy.
for track in [lib.Track.Play(lib.Song("Outro", 60), 1), lib.Track.Pause(3)]:
    match track:
        case lib.Track.Play(lib.Song(title, seconds), times):
            print(f"  play {title} x{times} ({seconds} s)")
        case lib.Track.Pause(seconds):
            print(f"  pause {seconds} s")
song = lib.Song("Chorus", 200)
show(pickle.loads(pickle.dumps(song)) == song)
show(copy.deepcopy(lib.Track.Play(song, 2)))
with expected(TypeError):
    pickle.dumps(playlist)  # its value lives in Rust
playlist.close()
