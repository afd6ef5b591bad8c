//! The growing allocation sites of a report's live-heap profile: a table, and an icicle graph
//! of the growth (root at the top, each frame as wide as the bytes its callees' allocations
//! grew by) as inline SVG, with a `<title>` tooltip per box: no script, so the HTML report's
//! strict content security policy holds.

use std::fmt::Write as _;

use leaksense_core::profile::{GrowingStack, ProfileGrowth, ShareOf};

use crate::html::escape;
use leaksense_core::format::{quantity, utc as iso};

const W: f64 = 900.0;
const ROW: f64 = 18.0;
/// Boxes narrower than this are left out (their bytes still count in their parent).
const MIN_WIDTH: f64 = 0.5;
/// Approximate width of one character of the 11px label font.
const CHAR_W: f64 = 6.5;

#[derive(Default)]
struct Node {
    name: String,
    bytes: f64,
    children: Vec<Node>,
}

impl Node {
    fn insert(&mut self, frames: &[String], bytes: f64) {
        self.bytes += bytes;
        let Some((first, rest)) = frames.split_first() else {
            return;
        };
        let i = match self.children.iter().position(|c| &c.name == first) {
            Some(i) => i,
            None => {
                self.children.push(Node {
                    name: first.clone(),
                    ..Node::default()
                });
                self.children.len() - 1
            }
        };
        self.children[i].insert(rest, bytes);
    }

    fn depth(&self) -> usize {
        1 + self.children.iter().map(Node::depth).max().unwrap_or(0)
    }
}

fn tree(stacks: &[GrowingStack]) -> Node {
    let mut root = Node {
        name: "all growth".into(),
        ..Node::default()
    };
    for s in stacks.iter().filter(|s| s.bytes > 0.0) {
        root.insert(&s.frames, s.bytes);
    }
    root
}

fn bytes(v: f64) -> String {
    quantity(leaksense_core::detect::SeriesKind::Heap, v)
}

/// A stable warm colour per frame name (flame-graph convention).
fn colour(name: &str) -> String {
    let h = name.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    });
    format!(
        "hsl({},{}%,{}%)",
        10 + h % 40,
        70 + (h >> 8) % 20,
        55 + (h >> 16) % 15
    )
}

fn boxes(o: &mut String, n: &Node, x: f64, depth: usize, scale: f64, total: f64) {
    let w = n.bytes * scale;
    if w < MIN_WIDTH {
        return;
    }
    let y = depth as f64 * ROW;
    let title = format!(
        "{} — {} ({:.1}% of the profile's growth)",
        n.name,
        bytes(n.bytes),
        n.bytes / total * 100.0
    );
    let chars = ((w - 4.0) / CHAR_W).floor().max(0.0) as usize;
    let label: String = if n.name.chars().count() <= chars {
        n.name.clone()
    } else if chars > 2 {
        n.name.chars().take(chars - 1).chain(['…']).collect()
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "<g><title>{}</title><rect x=\"{x:.2}\" y=\"{y:.1}\" width=\"{w:.2}\" height=\"{:.1}\" fill=\"{}\"/>\
         <text x=\"{:.2}\" y=\"{:.1}\">{}</text></g>",
        escape(&title),
        ROW - 1.0,
        colour(&n.name),
        x + 3.0,
        y + ROW - 5.0,
        escape(&label)
    );
    let mut cx = x;
    for c in &n.children {
        boxes(o, c, cx, depth + 1, scale, total);
        cx += c.bytes * scale;
    }
}

/// The icicle of the growth's stacks; nothing when nothing grew.
pub fn svg(o: &mut String, stacks: &[GrowingStack]) {
    let root = tree(stacks);
    if root.bytes <= 0.0 {
        return;
    }
    let h = root.depth() as f64 * ROW;
    let _ = writeln!(
        o,
        "<svg class=\"icicle\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {h}\" width=\"{W}\" height=\"{h}\" role=\"img\" aria-label=\"icicle graph of the growth\">"
    );
    boxes(o, &root, 0.0, 0, W / root.bytes, root.bytes);
    o.push_str("</svg>\n<p class=\"legend\">Icicle of the growth: the root at the top, each frame as wide as the growth of the bytes allocated under it. Hover a box for its name and bytes.</p>\n");
}

/// The growing sites table and the icicle.
pub fn section(o: &mut String, p: &ProfileGrowth) {
    let of = match p.share_of {
        ShareOf::Floor => "floor",
        ShareOf::Profile => "profile",
    };
    let _ = writeln!(
        o,
        "<h3>Growing allocation sites</h3>\n<p>From {} to {}: {} in use now, {} growth. Shares are of the {of}'s growth.</p>\n\
         <table class=\"sites\"><tr><th>#</th><th>function</th><th>file:line</th><th>growth</th><th>objects</th><th>share</th><th>route</th></tr>",
        iso(p.from_ms),
        iso(p.to_ms),
        bytes(p.inuse_bytes),
        bytes(p.growth_bytes)
    );
    for (i, s) in p.sites.iter().enumerate() {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td><code>{}</code></td><td><code>{}:{}</code></td><td>{}</td><td>{:.0}</td><td>{:.0}%</td><td>{}</td></tr>",
            i + 1,
            escape(&s.function),
            escape(&s.file),
            s.line,
            bytes(s.bytes),
            s.objects,
            s.share * 100.0,
            s.route.as_deref().map(escape).unwrap_or_default()
        );
    }
    o.push_str("</table>\n");
    svg(o, &p.stacks);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(frames: &[&str], bytes: f64) -> GrowingStack {
        GrowingStack {
            frames: frames.iter().map(|s| s.to_string()).collect(),
            bytes,
        }
    }

    #[test]
    fn the_icicle_nests_callees_under_callers_by_bytes() {
        let mut o = String::new();
        svg(
            &mut o,
            &[
                stack(&["main", "handler", "leak <script>"], 300.0),
                stack(&["main", "handler", "cache"], 100.0),
                stack(&["main", "shrunk"], -50.0),
            ],
        );
        // The root, main, handler and two leaves: five boxes, four rows deep.
        assert_eq!(o.matches("<rect").count(), 5, "{o}");
        assert!(o.contains("height=\"72\""), "{o}");
        // The leak takes three quarters of the width from x = 0, the cache the rest.
        assert!(o.contains("x=\"0.00\" y=\"54.0\" width=\"675.00\""), "{o}");
        assert!(
            o.contains("x=\"675.00\" y=\"54.0\" width=\"225.00\""),
            "{o}"
        );
        assert!(o.contains("leak &lt;script&gt;"), "names are escaped: {o}");
        assert!(!o.contains("<script"));
        assert!(!o.contains("shrunk"), "shrinking stacks are not growth");
    }

    #[test]
    fn nothing_grew_draws_nothing() {
        let mut o = String::new();
        svg(&mut o, &[stack(&["a"], -1.0)]);
        assert!(o.is_empty());
    }
}
