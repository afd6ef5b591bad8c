//! Interned strings, frames and stacks with hard caps. Whatever does not fit goes to the
//! overflow stack (id 0), so a program with a million distinct call paths costs no more than
//! one with a thousand.
//!
//! The tables key on a 64-bit hash and check the stored value on a hit, so each string and
//! each stack is held once (no second copy as a map key). A hash collision between two
//! different values sends the newcomer to the overflow stack: with 64-bit hashes and at most a
//! few thousand entries that is vanishingly rare, and it stays bounded.

use std::collections::HashMap;

/// Index of the overflow stack, and of its single frame.
pub const OVERFLOW: u32 = 0;

/// What a stack is made of: frames leaf first, and the route tag (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameRec {
    pub function: u32,
    pub file: u32,
    pub line: u32,
}

#[derive(Debug, Clone, Copy)]
struct StackRec {
    start: u32,
    len: u32,
    route: u32,
}

/// No route tag.
pub(crate) const NO_ROUTE: u32 = u32::MAX;

/// The caps of the tables.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    pub stacks: usize,
    pub frames: usize,
    pub depth: usize,
    pub string_bytes: usize,
}

/// A string is cut to this many bytes (file paths and function names only get this long in
/// generated code; the cut keeps the table's worst case known).
const MAX_STRING: usize = 200;

/// FxHash's mixing step: a few ns per word, and nothing here faces untrusted keys that could
/// force collisions (a collision only sends a stack to the overflow bucket).
fn mix(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

fn hash_str(s: &str, seed: u64) -> u64 {
    let mut h = mix(seed, s.len() as u64);
    let mut chunks = s.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        h = mix(h, u64::from_le_bytes(c.try_into().unwrap_or_default()));
    }
    let mut tail = [0u8; 8];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    mix(h, u64::from_le_bytes(tail))
}

fn cut(s: &str) -> &str {
    if s.len() <= MAX_STRING {
        return s;
    }
    let mut end = MAX_STRING;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The interned tables.
#[derive(Debug)]
pub(crate) struct Tables {
    caps: Caps,
    strings: Vec<Box<str>>,
    string_bytes: usize,
    string_ids: HashMap<u64, u32>,
    frames: Vec<FrameRec>,
    frame_ids: HashMap<u64, u32>,
    stacks: Vec<StackRec>,
    /// Every stack's frame ids, one after the other.
    arena: Vec<u32>,
    stack_ids: HashMap<u64, u32>,
    /// Stacks (and frames) that went to the overflow bucket because a table was full.
    pub overflowed: u64,
}

impl Tables {
    pub fn new(caps: Caps) -> Tables {
        let mut t = Tables {
            caps,
            strings: Vec::new(),
            string_bytes: 0,
            string_ids: HashMap::new(),
            frames: Vec::new(),
            frame_ids: HashMap::new(),
            stacks: Vec::new(),
            arena: Vec::new(),
            stack_ids: HashMap::new(),
            overflowed: 0,
        };
        // Index 0 of each table is the overflow bucket; it needs no key.
        t.strings.push("(other stacks)".into());
        t.strings.push("".into());
        t.frames.push(FrameRec {
            function: 0,
            file: 1,
            line: 0,
        });
        t.arena.push(OVERFLOW);
        t.stacks.push(StackRec {
            start: 0,
            len: 1,
            route: NO_ROUTE,
        });
        t
    }

    pub fn string(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    pub fn frame(&self, id: u32) -> FrameRec {
        self.frames
            .get(id as usize)
            .copied()
            .unwrap_or(self.frames[0])
    }

    /// The frames of a stack, leaf first.
    pub fn stack(&self, id: u32) -> &[u32] {
        let s = self.stacks.get(id as usize).unwrap_or(&self.stacks[0]);
        &self.arena[s.start as usize..(s.start + s.len) as usize]
    }

    /// The route tag of a stack, if any.
    pub fn route(&self, id: u32) -> Option<&str> {
        let r = self.stacks.get(id as usize)?.route;
        (r != NO_ROUTE).then(|| self.string(r))
    }

    pub fn stack_count(&self) -> usize {
        self.stacks.len()
    }

    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }

    /// Interns a string; `None` when the byte budget is spent or on a collision.
    pub fn intern_string(&mut self, s: &str) -> Option<u32> {
        let s = cut(s);
        let h = hash_str(s, 1);
        if let Some(&id) = self.string_ids.get(&h) {
            return (&*self.strings[id as usize] == s).then_some(id);
        }
        if self.string_bytes + s.len() > self.caps.string_bytes {
            return None;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        self.string_bytes += s.len();
        self.string_ids.insert(h, id);
        Some(id)
    }

    /// Interns a frame; `None` when a table is full.
    pub fn intern_frame(&mut self, function: &str, file: &str, line: u32) -> Option<u32> {
        let h = mix(
            hash_str(cut(file), hash_str(cut(function), 2)),
            u64::from(line),
        );
        if let Some(&id) = self.frame_ids.get(&h) {
            let f = self.frames[id as usize];
            let same = self.string(f.function) == cut(function)
                && self.string(f.file) == cut(file)
                && f.line == line;
            return same.then_some(id);
        }
        if self.frames.len() >= self.caps.frames {
            return None;
        }
        let function = self.intern_string(function)?;
        let file = self.intern_string(file)?;
        let id = self.frames.len() as u32;
        self.frames.push(FrameRec {
            function,
            file,
            line,
        });
        self.frame_ids.insert(h, id);
        Some(id)
    }

    /// Interns a stack of frame ids (leaf first, cut to the depth cap, keeping the leaf end)
    /// with an optional route tag; full tables give [`OVERFLOW`].
    pub fn intern_stack(&mut self, frames: &[u32], route: Option<&str>) -> u32 {
        let frames = &frames[..frames.len().min(self.caps.depth)];
        let route = match route {
            Some(r) => match self.intern_string(r) {
                Some(id) => id,
                None => return self.overflow(),
            },
            None => NO_ROUTE,
        };
        let h = frames
            .iter()
            .fold(mix(3, u64::from(route)), |h, &f| mix(h, u64::from(f)));
        if let Some(&id) = self.stack_ids.get(&h) {
            let same = self.stacks[id as usize].route == route && self.stack(id) == frames;
            return if same { id } else { self.overflow() };
        }
        if self.stacks.len() >= self.caps.stacks || frames.is_empty() {
            return self.overflow();
        }
        let id = self.stacks.len() as u32;
        self.stacks.push(StackRec {
            start: self.arena.len() as u32,
            len: frames.len() as u32,
            route,
        });
        self.arena.extend_from_slice(frames);
        self.stack_ids.insert(h, id);
        id
    }

    fn overflow(&mut self) -> u32 {
        self.overflowed += 1;
        OVERFLOW
    }

    /// Bytes held by the tables (capacities, not lengths: what the allocator gave).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        // A std HashMap entry costs its key, value and one control byte.
        let map = |m: &HashMap<u64, u32>| m.capacity() * (size_of::<(u64, u32)>() + 1);
        self.strings.capacity() * size_of::<Box<str>>()
            + self.string_bytes
            + map(&self.string_ids)
            + self.frames.capacity() * size_of::<FrameRec>()
            + map(&self.frame_ids)
            + self.stacks.capacity() * size_of::<StackRec>()
            + self.arena.capacity() * size_of::<u32>()
            + map(&self.stack_ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps() -> Caps {
        Caps {
            stacks: 4,
            frames: 6,
            depth: 3,
            string_bytes: 64,
        }
    }

    #[test]
    fn the_same_stack_gets_the_same_id_and_full_tables_overflow() {
        let mut t = Tables::new(caps());
        let a = t.intern_frame("f", "a.py", 1).unwrap();
        let b = t.intern_frame("g", "a.py", 2).unwrap();
        assert_eq!(t.intern_frame("f", "a.py", 1), Some(a));
        let s1 = t.intern_stack(&[a, b], None);
        assert_ne!(s1, OVERFLOW);
        assert_eq!(t.intern_stack(&[a, b], None), s1);
        let tagged = t.intern_stack(&[a, b], Some("/leak"));
        assert_ne!(tagged, s1);
        assert_eq!(t.route(tagged), Some("/leak"));
        assert_eq!(t.route(s1), None);
        let s3 = t.intern_stack(&[b], None);
        assert_ne!(s3, OVERFLOW);
        // Three stacks plus the overflow bucket fill a cap of four.
        assert_eq!(t.intern_stack(&[b, a], None), OVERFLOW);
        assert_eq!(t.overflowed, 1);
        assert_eq!(t.stack(OVERFLOW), &[OVERFLOW]);
        assert_eq!(t.string(t.frame(OVERFLOW).function), "(other stacks)");
    }

    #[test]
    fn deep_stacks_keep_the_leaf_end_and_long_names_are_cut() {
        let mut t = Tables::new(Caps {
            string_bytes: 1 << 20,
            frames: 7,
            ..caps()
        });
        let long = "x".repeat(1000);
        let f = t.intern_frame(&long, "f.go", 1).unwrap();
        assert_eq!(t.string(t.frame(f).function).len(), MAX_STRING);
        assert_eq!(t.intern_frame(&long, "f.go", 1), Some(f));
        let ids: Vec<u32> = (0..5)
            .map(|i| t.intern_frame("g", "f.go", i).unwrap())
            .collect();
        assert!(t.intern_frame("h", "f.go", 9).is_none(), "frame cap");
        let s = t.intern_stack(&ids, None);
        assert_eq!(t.stack(s), &ids[..3]);
    }

    #[test]
    fn the_string_budget_is_kept() {
        let mut t = Tables::new(caps());
        assert!(t.intern_string(&"a".repeat(60)).is_some());
        assert!(t.intern_string(&"b".repeat(10)).is_none());
        assert!(t.intern_frame("cccc", "ddd", 1).is_none());
    }
}
