//! How a session lies in the keychain, and what the vault remembers of it.
//!
//! Where one entry can hold a whole session (macOS Keychain, Secret
//! Service) it is one entry, and a save is one keychain write. Windows
//! limits a credential to 2,560 bytes (UTF-16), so there a long session is
//! split across `<user>#1..n` entries and the main entry holds `chunks:<n>`.
//! A new chunked session is written to the other set of names
//! (`<user>#b1..n`, main entry `chunks:<n>:b`) and the main entry is
//! switched last, so a crash at any point leaves one whole session.
//!
//! A session written in chunks by an earlier version is still read on every
//! platform; the next save replaces it and deletes its chunks.

use super::SecretStore;
use crate::error::{Error, Result};

/// Largest chunk in UTF-16 code units (Windows: 2,560 bytes = 1,280 units).
pub(crate) const WINDOWS_MAX_ENTRY_UNITS: usize = 1200;
const CHUNK_PREFIX: &str = "chunks:";
/// A chunk must hold at least one character (a surrogate pair is 2 units).
const MIN_CHUNK_UNITS: usize = 2;

/// How the vault writes a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// The whole session in the main entry.
    SingleEntry,
    /// Split into chunks of at most `max_units` UTF-16 code units.
    Chunked { max_units: usize },
}

impl Layout {
    /// Chunks only where the keychain needs them (Windows).
    pub(crate) const fn for_this_platform() -> Layout {
        if cfg!(windows) {
            Layout::Chunked {
                max_units: WINDOWS_MAX_ENTRY_UNITS,
            }
        } else {
            Layout::SingleEntry
        }
    }
}

/// What the vault knows the keychain holds, from its own last load, save or
/// purge in this process.
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// What the main entry holds.
    main: MainEntry,
    /// Chunk sets that may be in the keychain without the main entry
    /// referring to them (an operation stopped midway); the next save or
    /// purge deletes them.
    leftovers: Vec<ChunkLayout>,
}

/// What the vault knows of the main entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum MainEntry {
    /// Not known: nothing read or written yet, or an operation stopped
    /// midway.
    #[default]
    Unknown,
    /// A whole session, or nothing: no chunks are in use.
    NoChunks,
    /// `chunks:<n>`, referring to these chunks.
    Chunks(ChunkLayout),
}

impl MainEntry {
    /// The main entry as just read or written: `layout` is the chunks it
    /// refers to, if any.
    fn known(layout: Option<ChunkLayout>) -> MainEntry {
        layout.map_or(MainEntry::NoChunks, MainEntry::Chunks)
    }

    /// The chunks the main entry is known to refer to.
    fn chunks(self) -> Option<ChunkLayout> {
        match self {
            MainEntry::Chunks(layout) => Some(layout),
            MainEntry::Unknown | MainEntry::NoChunks => None,
        }
    }
}

impl Known {
    fn add_leftover(&mut self, layout: ChunkLayout) {
        add_layout(&mut self.leftovers, layout);
    }
}

/// Adds `layout` to `list`, keeping one entry per set (the larger count).
fn add_layout(list: &mut Vec<ChunkLayout>, layout: ChunkLayout) {
    match list.iter_mut().find(|known| known.set == layout.set) {
        Some(known) => known.count = known.count.max(layout.count),
        None => list.push(layout),
    }
}

/// The two sets of chunk names a chunked session alternates between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkSet {
    /// `<user>#1..n`, main entry `chunks:<n>`.
    A,
    /// `<user>#b1..n`, main entry `chunks:<n>:b`.
    B,
}

/// Where the chunks of a stored session are, read from its main entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChunkLayout {
    count: usize,
    set: ChunkSet,
}

impl ChunkLayout {
    fn parse(main: Option<&str>) -> Option<ChunkLayout> {
        let rest = main?.strip_prefix(CHUNK_PREFIX)?;
        let (count, set) = match rest.split_once(':') {
            None => (rest, ChunkSet::A),
            Some((count, "b")) => (count, ChunkSet::B),
            Some(_) => return None,
        };
        Some(ChunkLayout {
            count: count.parse().ok()?,
            set,
        })
    }

    fn main_entry(&self) -> String {
        match self.set {
            ChunkSet::A => format!("{CHUNK_PREFIX}{}", self.count),
            ChunkSet::B => format!("{CHUNK_PREFIX}{}:b", self.count),
        }
    }

    fn chunk_name(&self, account: &str, index: usize) -> String {
        match self.set {
            ChunkSet::A => format!("{account}#{index}"),
            ChunkSet::B => format!("{account}#b{index}"),
        }
    }

    /// Deletes these chunks, except the names `keep` uses.
    fn delete_chunks_except(
        &self,
        keep: Option<ChunkLayout>,
        store: &dyn SecretStore,
        account: &str,
    ) -> Result<()> {
        let first = match keep {
            Some(keep) if keep.set == self.set => keep.count + 1,
            _ => 1,
        };
        for index in first..=self.count {
            store.delete(&self.chunk_name(account, index))?;
        }
        Ok(())
    }
}

/// Reads the stored session text, whole sessions and chunked ones alike.
pub(crate) fn read(
    store: &dyn SecretStore,
    account: &str,
    known: &mut Known,
) -> Result<Option<String>> {
    let main = store.get(account)?;
    let layout = ChunkLayout::parse(main.as_deref());
    known.main = MainEntry::known(layout);
    let Some(main) = main else { return Ok(None) };
    let Some(layout) = layout else {
        return Ok(Some(main));
    };
    let mut text = String::new();
    for index in 1..=layout.count {
        match store.get(&layout.chunk_name(account, index))? {
            Some(chunk) => text.push_str(&chunk),
            None => {
                return Err(Error::Keychain(format!(
                    "The saved session is incomplete in the keychain (part {index} of {} is missing). Sign out and sign in again.",
                    layout.count
                )))
            }
        }
    }
    Ok(Some(text))
}

/// Stores `text` in `layout`, replacing what was there: new chunks (if any)
/// beside the current ones, then the main entry (one atomic keychain
/// write), then the chunks nothing refers to any more.
///
/// The single-entry layout reads nothing first when this vault knows the
/// main entry. The chunked one always reads it: chunks must go to the set
/// the main entry does not use, and another process of the app may have
/// switched sets since.
pub(crate) fn write(
    store: &dyn SecretStore,
    account: &str,
    known: &mut Known,
    layout: Layout,
    text: &str,
) -> Result<()> {
    let current = match (layout, known.main) {
        (Layout::SingleEntry, MainEntry::NoChunks) => None,
        (Layout::SingleEntry, MainEntry::Chunks(current)) => Some(current),
        (Layout::SingleEntry, MainEntry::Unknown) | (Layout::Chunked { .. }, _) => {
            ChunkLayout::parse(store.get(account)?.as_deref())
        }
    };
    let mut stale = known.leftovers.clone();
    if let Some(current) = current {
        add_layout(&mut stale, current);
    }
    let pieces = match layout {
        Layout::SingleEntry => Vec::new(),
        Layout::Chunked { max_units } => split_utf16(text, max_units.max(MIN_CHUNK_UNITS)),
    };
    let other_set = match current {
        Some(ChunkLayout {
            set: ChunkSet::A, ..
        }) => ChunkSet::B,
        _ => ChunkSet::A,
    };
    let new = (pieces.len() > 1).then_some(ChunkLayout {
        count: pieces.len(),
        set: other_set,
    });

    // Until the main entry is switched, anything may be half done.
    known.main = MainEntry::Unknown;
    known.leftovers.clone_from(&stale);
    match new {
        None => store.set(account, text)?,
        Some(new) => {
            known.add_leftover(new);
            for (index, piece) in pieces.iter().enumerate() {
                store.set(&new.chunk_name(account, index + 1), piece)?;
            }
            store.set(account, &new.main_entry())?;
        }
    }
    known.main = MainEntry::known(new);
    known.leftovers.clone_from(&stale);
    for old in &stale {
        old.delete_chunks_except(new, store, account)?;
    }
    known.leftovers.clear();
    Ok(())
}

/// Deletes the main entry and every chunk it, this vault or an operation
/// stopped midway left, read afresh so that chunks this process never
/// loaded (an earlier version's, another process's) go too.
pub(crate) fn purge(store: &dyn SecretStore, account: &str, known: &mut Known) -> Result<()> {
    let mut stale = known.leftovers.clone();
    for layout in [
        ChunkLayout::parse(store.get(account)?.as_deref()),
        known.main.chunks(),
    ]
    .into_iter()
    .flatten()
    {
        add_layout(&mut stale, layout);
    }
    known.main = MainEntry::Unknown;
    known.leftovers.clone_from(&stale);
    store.delete(account)?;
    known.main = MainEntry::NoChunks;
    for layout in &stale {
        layout.delete_chunks_except(None, store, account)?;
    }
    known.leftovers.clear();
    Ok(())
}

/// Splits on char boundaries into pieces of at most `max_units` UTF-16 code units.
pub(crate) fn split_utf16(text: &str, max_units: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut units = 0;
    for ch in text.chars() {
        if units + ch.len_utf16() > max_units {
            pieces.push(std::mem::take(&mut current));
            units = 0;
        }
        units += ch.len_utf16();
        current.push(ch);
    }
    if !current.is_empty() || pieces.is_empty() {
        pieces.push(current);
    }
    pieces
}
