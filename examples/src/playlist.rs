//! A playlist as a Python value: its songs come out through an iterator
//! read lazily (`impl Iterator`), its title and volume are properties
//! (`#[export(getter)]`/`#[export(setter)]`), and its records and tracks
//! match by position, pickle and copy like Python values. (No seed
//! program: the protocols a Python user expects of a collection.)

use ffi_export::export;

/// A song.
#[export]
#[derive(Debug, Clone, PartialEq)]
pub struct Song {
    /// Its title.
    pub title: String,
    /// Its length in seconds.
    pub seconds: u32,
}

/// An entry of a playlist: a song, or a pause between songs.
#[export]
#[derive(Debug, Clone, PartialEq)]
pub enum Track {
    /// A song, and how many times it repeats.
    Play {
        /// The song.
        song: Song,
        /// How many times in a row.
        times: u32,
    },
    /// A pause, in seconds.
    Pause(u32),
}

/// Why a track cannot be played.
#[export]
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    /// Longer than the player allows.
    #[error("{title} is too long: {seconds} s")]
    TooLong {
        /// The song's title.
        title: String,
        /// Its length.
        seconds: u32,
    },
}

/// A list of tracks, living in Rust.
pub struct Playlist {
    title: String,
    volume: u8,
    tracks: Vec<Track>,
}

#[export]
impl Playlist {
    /// An empty playlist.
    pub fn new(title: &str) -> Playlist {
        Playlist {
            title: title.to_owned(),
            volume: 50,
            tracks: Vec::new(),
        }
    }

    /// Appends a track.
    pub fn push(&mut self, track: Track) {
        self.tracks.push(track);
    }

    /// The playlist's title.
    #[export(getter)]
    pub fn title(&self) -> String {
        self.title.clone()
    }

    /// Renames it.
    #[export(setter)]
    pub fn set_title(&mut self, title: String) {
        self.title = title;
    }

    /// The volume, 0 to 100.
    #[export(getter)]
    pub fn volume(&self) -> u8 {
        self.volume
    }

    /// Sets the volume; above 100 is refused.
    #[export(setter)]
    pub fn set_volume(&mut self, volume: u8) -> Result<(), String> {
        if volume > 100 {
            return Err(format!("volume {volume} is above 100"));
        }
        self.volume = volume;
        Ok(())
    }

    /// The total length in seconds (read-only).
    #[export(getter)]
    pub fn seconds(&self) -> u32 {
        self.tracks
            .iter()
            .map(|track| match track {
                Track::Play { song, times } => song.seconds * times,
                Track::Pause(seconds) => *seconds,
            })
            .sum()
    }

    /// Every song as it plays (repeats included), read lazily: the
    /// iterator owns a copy of the tracks.
    pub fn songs(&self) -> impl Iterator<Item = Song> {
        self.tracks
            .clone()
            .into_iter()
            .flat_map(|track| match track {
                Track::Play { song, times } => vec![song; times as usize],
                Track::Pause(_) => Vec::new(),
            })
    }

    /// Every song's length, or an error at the first one longer than
    /// `limit` seconds.
    pub fn lengths(&self, limit: u32) -> impl Iterator<Item = Result<u32, PlayError>> {
        self.songs().map(move |song| {
            if song.seconds > limit {
                Err(PlayError::TooLong {
                    title: song.title,
                    seconds: song.seconds,
                })
            } else {
                Ok(song.seconds)
            }
        })
    }
}

/// `n` seconds of a countdown, one number at a time: a free function may
/// return an iterator too.
#[export]
pub fn countdown(n: u32) -> impl Iterator<Item = u32> {
    (1..=n).rev()
}
